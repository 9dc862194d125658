// The catalog's domain values as SQL stores them and the projection reads them: plain structs,
// no behaviour. Times are Unix seconds (UTC); days are "YYYYMMDD" integers (UTC).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reel::catalog {

enum class VideoStatus { processing, ready, failed };

// Returns "processing", "ready" or "failed"; can't fail.
std::string_view to_string(VideoStatus status);
// Returns false and leaves *out unchanged for any other text.
bool parse_status(std::string_view text, VideoStatus* out);

// An uploader (a row of `users`); `name` is the URL-safe handle used by /channel/{name}.
struct Channel {
  int64_t id = 0;
  std::string name;
  std::string display_name;
  int64_t created_at = 0;
  int64_t subscribers = 0;  // users following the channel (kept by people/subscriptions.h)
};

struct Category {
  int64_t id = 0;
  std::string slug;      // URL-safe, unique
  std::string name;      // shown in the header
  int32_t position = 0;  // order in the header
};

// One file belonging to a video; `path` is relative to the media root.
struct VideoFile {
  std::string kind;    // "mp4", "hls", "poster", "thumb", "sprite", "preview"
  int32_t height = 0;  // renditions only
  std::string path;
  int64_t bytes = 0;
  std::string mime;
};

struct Video {
  int64_t id = 0;
  int64_t channel_id = 0;
  std::string channel_name;  // joined from users.name on reads
  std::string title;
  std::string slug;  // URL suffix of /watch/{id}-{slug}
  std::string description;
  int32_t duration_s = 0;
  int32_t width = 0;
  int32_t height = 0;
  VideoStatus status = VideoStatus::processing;
  std::string error;  // why it failed, when status == failed
  int64_t published_at = 0;
  int64_t created_at = 0;
  int64_t views = 0;  // all-time total as last recorded in SQL
  int64_t likes = 0;
  int64_t dislikes = 0;
  int64_t comments = 0;                 // comments and replies, kept by the comment writes
  std::vector<std::string> tags;        // tag names
  std::vector<std::string> categories;  // category slugs
  std::vector<VideoFile> files;
};

// Category slugs, tags and channel names as URLs and Redis keys carry them: 1..64 bytes of
// letters, digits, '-', '_' and '.', or bytes beyond ASCII; never '/', ':', spaces or control
// characters, and not "." or "..".
bool valid_name(std::string_view name);

// Views of one video on one UTC day.
struct DailyViews {
  int64_t video_id = 0;
  int32_t day = 0;  // YYYYMMDD
  int64_t views = 0;
};

}  // namespace reel::catalog
