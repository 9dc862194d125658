#include "people/collection_writes.h"

#include <fmt/format.h>

namespace reel::people {

std::string user_object(int64_t user_id) {
  return fmt::format("user:{}", user_id);
}

std::string playlist_object(int64_t playlist_id) {
  return fmt::format("playlist:{}", playlist_id);
}

std::string channel_object(int64_t channel_id) {
  return fmt::format("channel:{}", channel_id);
}

Status require_ready(sql::CollectionStore& store, int64_t video_id) {
  Result<bool> ready = store.video_ready(video_id);
  if (!ready) return ready.error();
  if (!*ready) return Error{fmt::format("video {} is not available", video_id), ErrorKind::not_found};
  return {};
}

}  // namespace reel::people
