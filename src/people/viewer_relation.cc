#include "people/viewer_relation.h"

#include <charconv>

#include "people/collection_reads.h"
#include "projection/codec.h"
#include "projection/collection_keys.h"
#include "projection/community_keys.h"

namespace reel::people {

Task<Result<ViewerRelation>> read_viewer_relation(redis::Connection& redis, int64_t user_id, int64_t video_id,
                                                  std::string channel_name, int max_playlists) {
  const std::string video = std::to_string(video_id);
  std::vector<redis::Command> first;
  first.emplace_back("HGET", projection::keys::user_votes(user_id), video);
  first.emplace_back("ZSCORE", projection::keys::favorites(user_id), video);
  first.emplace_back("ZSCORE", projection::keys::subscriptions(user_id), channel_name);
  first.emplace_back("ZREVRANGE", projection::keys::user_playlists(user_id), 0, max_playlists - 1);
  auto replies = checked(co_await redis.execute(std::move(first)));
  if (!replies) co_return replies.error();
  ViewerRelation relation;
  relation.vote = static_cast<int>((*replies)[0].integer());  // nil: 0
  relation.favorite = !(*replies)[1].is_nil();
  relation.subscribed = !(*replies)[2].is_nil();
  const std::vector<std::string> ids = strings_of((*replies)[3]);
  if (ids.empty()) co_return relation;

  std::vector<redis::Command> second;
  second.emplace_back("MGET");
  for (const std::string& id : ids) {
    int64_t number = 0;
    std::from_chars(id.data(), id.data() + id.size(), number);  // members are ids the projection wrote
    second.front().arg(projection::keys::playlist(number));
    second.emplace_back("ZSCORE", projection::keys::playlist_items(number), video);
  }
  auto details = checked(co_await redis.execute(std::move(second)));
  if (!details) co_return details.error();
  const auto& packed = (*details)[0].elements();
  for (size_t i = 0; i < ids.size() && i < packed.size(); ++i) {
    std::optional<catalog::Playlist> playlist = projection::codec::decode_playlist(packed[i].str());
    if (!playlist) continue;  // deleted since the list was read
    relation.playlists.push_back({playlist->id, std::move(playlist->title), !(*details)[i + 1].is_nil()});
  }
  co_return relation;
}

}  // namespace reel::people
