#include "projection/collection_keys.h"

#include <fmt/format.h>

namespace reel::projection::keys {

std::string favorites(int64_t user_id) {
  return fmt::format("z:fav:{}", user_id);
}
std::string favorites_pattern() {
  return "z:fav:*";
}
std::string playlist(int64_t playlist_id) {
  return fmt::format("pl:{}", playlist_id);
}
std::string playlist_pattern() {
  return "pl:*";
}
std::string playlist_items(int64_t playlist_id) {
  return fmt::format("z:pl:{}", playlist_id);
}
std::string playlist_items_pattern() {
  return "z:pl:*";
}
std::string user_playlists(int64_t user_id) {
  return fmt::format("z:upl:{}", user_id);
}
std::string user_public_playlists(int64_t user_id) {
  return fmt::format("z:upl:{}:public", user_id);
}
std::string user_playlists_pattern() {
  return "z:upl:*";
}
std::string subscriptions(int64_t user_id) {
  return fmt::format("z:subs:{}", user_id);
}
std::string subscriptions_pattern() {
  return "z:subs:*";
}
std::string feed(int64_t user_id) {
  return fmt::format("feed:{}", user_id);
}
std::string feed_pattern() {
  return "feed:*";
}

}  // namespace reel::projection::keys
