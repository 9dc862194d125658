#include "projection/community_keys.h"

#include <fmt/format.h>

namespace reel::projection::keys {

std::string user_votes(int64_t user_id) {
  return fmt::format("uv:{}", user_id);
}
std::string user_votes_pattern() {
  return "uv:*";
}
std::string comments(int64_t video_id) {
  return fmt::format("cm:{}", video_id);
}
std::string comments_pattern() {
  return "cm:*";
}
std::string comment_list(int64_t video_id, CommentSort sort) {
  return fmt::format("z:cm:{}:{}", video_id, comment_sort_name(sort));
}
std::string comment_replies(int64_t video_id) {
  return fmt::format("z:cm:{}:replies", video_id);
}
std::string comment_lists_pattern() {
  return "z:cm:*";
}

}  // namespace reel::projection::keys
