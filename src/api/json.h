// The JSON API's documents (/api/v1): the same read-model values the HTML pages show.
// Field names are part of the public interface (operators' scripts rely on them): keep them.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/collections.h"
#include "catalog/community.h"
#include "projection/community_read_model.h"
#include "projection/read_model.h"

namespace reel::api {

// {"id", "title", "slug", "url", "duration", "views", "rating", "published_at", "thumbnail", "channel"}
std::string listing_document(const projection::Listing& listing, const projection::ListQuery& query);
// A page of search results: {"videos": [cards as in listings], "total", "page", "pages",
// "suggestion" (the "did you mean" query, or null)}.
std::string search_document(const projection::SearchResults& results,
                            const std::optional<std::string>& suggestion);
// Completions: {"suggestions": ["...", ...]}.
std::string suggestions_document(const std::vector<std::string>& suggestions);
// The same in OpenSearch's suggestions format (browsers' search bars): ["prefix", ["...", ...]].
std::string opensearch_suggestions_document(std::string_view prefix,
                                            const std::vector<std::string>& suggestions);
// A video with its files and related videos (cards).
std::string video_document(const projection::VideoPage& video);
// A video not listed (yet): {"id", "status": "processing"|"failed", "progress" (percent), "error"}.
std::string unlisted_video_document(int64_t id, const projection::UploadStatus& status);
// The answer to an upload: {"id", "status": "processing", "url"}.
std::string upload_document(int64_t id);
// {"error": "message", "status": N}: every API error, 4xx and 5xx alike
std::string error_document(int status, std::string_view message);
// PUT /api/v1/videos/{id}/vote: {"likes", "dislikes", "mine"}.
std::string vote_document(int64_t likes, int64_t dislikes, int mine);
// What a POST created: {"id"}.
std::string created_document(int64_t id);
// One comment: {"id", "video", "parent" (null for top-level), "body" (as typed), "author": {"name",
// "display_name"}, "replies", "created_at", "edited_at" (null when never edited)}.
std::string comment_document(const catalog::Comment& comment);
// A page of comments: {"comments": [...], "total", "page", "pages"}.
std::string comments_document(const projection::CommentPage& page);
// A page of cards (favorites, a feed): {"videos": [cards as in listings], "total", "page", "pages"}.
std::string cards_document(const std::vector<projection::Card>& cards, int64_t total, int page, int pages);
// A playlist page: {"playlist": {"id", "title", "public", "owner", "created_at"}, "videos": [...],
// "total", "page", "pages"}.
std::string playlist_document(const catalog::Playlist& playlist, const std::vector<projection::Card>& cards,
                              int64_t total, int page, int pages);
// A user as the API shows it: {"id", "name", "display_name", "role"}.
std::string user_document(int64_t id, std::string_view name, std::string_view display_name,
                          std::string_view role);
// The signed-in answer of POST /api/v1/session: {"csrf", "user": {…}}.
std::string session_document(std::string_view csrf, int64_t id, std::string_view name,
                             std::string_view display_name, std::string_view role);

}  // namespace reel::api
