// The community's domain values as SQL stores them and the projection reads them: votes and
// comments. Plain structs, no behaviour; times are Unix seconds (UTC).
#pragma once

#include <cstdint>
#include <string>

namespace reel::catalog {

// One user's vote on one video.
struct Vote {
  int64_t video_id = 0;
  int64_t user_id = 0;
  int value = 0;  // 1 like, -1 dislike
};

// A comment, or a reply to one. Replies are one level deep: parent_id names a top-level comment.
struct Comment {
  int64_t id = 0;
  int64_t video_id = 0;
  int64_t user_id = 0;
  int64_t parent_id = 0;            // 0 for a top-level comment
  std::string author_name;          // users.name, joined on reads
  std::string author_display_name;  // users.display_name, joined on reads
  std::string body;                 // exactly as typed (escaped where it is shown)
  int64_t replies = 0;              // replies to it (top-level comments only)
  int64_t created_at = 0;
  int64_t edited_at = 0;  // 0 when never edited
};

}  // namespace reel::catalog
