#include "projection/collections.h"

#include "projection/codec.h"
#include "projection/collection_keys.h"
#include "projection/keys.h"

namespace reel::projection {

redis::Command add_command(const Membership& membership) {
  return redis::Command("ZADD", membership.key, membership.score, membership.member);
}

redis::Command remove_command(const Membership& membership) {
  return redis::Command("ZREM", membership.key, membership.member);
}

Membership favorite_membership(const catalog::Favorite& favorite) {
  return {keys::favorites(favorite.user_id), static_cast<double>(favorite.created_at),
          std::to_string(favorite.video_id)};
}

redis::Command favorites_removal_command(int64_t user_id) {
  return redis::Command("DEL", keys::favorites(user_id));
}

std::vector<Membership> playlist_memberships(const catalog::Playlist& playlist) {
  const double created = static_cast<double>(playlist.created_at);
  std::vector<Membership> memberships{
      {keys::user_playlists(playlist.user_id), created, std::to_string(playlist.id)}};
  if (playlist.is_public) {
    memberships.push_back(
        {keys::user_public_playlists(playlist.user_id), created, std::to_string(playlist.id)});
  }
  return memberships;
}

redis::Command playlist_object_command(const catalog::Playlist& playlist) {
  return redis::Command("SET", keys::playlist(playlist.id), codec::encode_playlist(playlist));
}

std::vector<redis::Command> playlist_commands(const catalog::Playlist& playlist) {
  std::vector<redis::Command> commands;
  commands.push_back(playlist_object_command(playlist));
  for (const Membership& membership : playlist_memberships(playlist))
    commands.push_back(add_command(membership));
  if (!playlist.is_public)
    commands.emplace_back("ZREM", keys::user_public_playlists(playlist.user_id), playlist.id);
  return commands;
}

std::vector<redis::Command> playlist_removal_commands(const catalog::Playlist& playlist) {
  std::vector<redis::Command> commands;
  commands.emplace_back("DEL", keys::playlist(playlist.id), keys::playlist_items(playlist.id));
  commands.emplace_back("ZREM", keys::user_playlists(playlist.user_id), playlist.id);
  commands.emplace_back("ZREM", keys::user_public_playlists(playlist.user_id), playlist.id);
  return commands;
}

Membership item_membership(const catalog::PlaylistItem& item) {
  return {keys::playlist_items(item.playlist_id), static_cast<double>(item.position),
          std::to_string(item.video_id)};
}

std::vector<redis::Command> playlist_items_commands(int64_t playlist_id,
                                                    const std::vector<catalog::PlaylistItem>& items) {
  std::vector<redis::Command> commands;
  commands.emplace_back("DEL", keys::playlist_items(playlist_id));
  for (size_t i = 0; i < items.size(); ++i) {
    if (i % members_per_command == 0) commands.emplace_back("ZADD", keys::playlist_items(playlist_id));
    commands.back().arg(static_cast<double>(items[i].position)).arg(items[i].video_id);
  }
  return commands;
}

Membership subscription_membership(const catalog::Subscription& subscription) {
  return {keys::subscriptions(subscription.user_id), static_cast<double>(subscription.created_at),
          subscription.channel_name};
}

redis::Command subscribers_command(std::string_view channel_name, int64_t subscribers) {
  return redis::Command("HSET", keys::channel(channel_name), codec::channel_subscribers_field, subscribers);
}

redis::Command feed_reset_command(int64_t user_id) {
  return redis::Command("DEL", keys::feed(user_id));
}

}  // namespace reel::projection
