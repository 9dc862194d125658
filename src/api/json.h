// The JSON API's documents (/api/v1): the same read-model values the HTML pages show.
// Field names are part of the public interface (operators' scripts rely on them): keep them.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "projection/read_model.h"

namespace reel::api {

// {"id", "title", "slug", "url", "duration", "views", "rating", "published_at", "thumbnail", "channel"}
std::string listing_document(const projection::Listing& listing, const projection::ListQuery& query);
// A video with its files and related videos (cards).
std::string video_document(const projection::VideoPage& video);
// A video not listed (yet): {"id", "status": "processing"|"failed", "progress" (percent), "error"}.
std::string unlisted_video_document(int64_t id, const projection::UploadStatus& status);
// The answer to an upload: {"id", "status": "processing", "url"}.
std::string upload_document(int64_t id);
// {"error": "message", "status": N}: every API error, 4xx and 5xx alike
std::string error_document(int status, std::string_view message);
// A user as the API shows it: {"id", "name", "display_name", "role"}.
std::string user_document(int64_t id, std::string_view name, std::string_view display_name,
                          std::string_view role);
// The signed-in answer of POST /api/v1/session: {"csrf", "user": {…}}.
std::string session_document(std::string_view csrf, int64_t id, std::string_view name,
                             std::string_view display_name, std::string_view role);

}  // namespace reel::api
