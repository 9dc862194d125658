// The projection of the people's collections: which Redis members and values a favorite, a
// playlist (with its items) and a subscription produce. The writes (people/) emit these commands
// in their deltas; `reel rebuild` builds the same lists from the same memberships, so a rebuilt
// Redis equals what the deltas produced.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/collections.h"
#include "redis/command.h"

namespace reel::projection {

// One member of one sorted set.
struct Membership {
  std::string key;
  double score = 0;
  std::string member;
};

// A delta's commands apply inside one script call, whose commands take at most a few thousand
// arguments each: a long ZADD is split into commands of at most this many members.
inline constexpr size_t members_per_command = 1000;

redis::Command add_command(const Membership& membership);     // ZADD key score member
redis::Command remove_command(const Membership& membership);  // ZREM key member

// In the user's favorites, by when it was added.
Membership favorite_membership(const catalog::Favorite& favorite);
// The user's favorites all gone.
redis::Command favorites_removal_command(int64_t user_id);

// The playlist's memberships in its owner's lists: the list of all of them and, when public, the
// public list. playlist_commands() writes the packed playlist and those memberships, and takes it
// out of the public list when private: what creating, renaming or changing its visibility emits.
// playlist_removal_commands(): the playlist, its items and its memberships gone.
std::vector<Membership> playlist_memberships(const catalog::Playlist& playlist);
redis::Command playlist_object_command(const catalog::Playlist& playlist);  // SET of the packed playlist
std::vector<redis::Command> playlist_commands(const catalog::Playlist& playlist);
std::vector<redis::Command> playlist_removal_commands(const catalog::Playlist& playlist);

// An item in its playlist, by position.
Membership item_membership(const catalog::PlaylistItem& item);
// The playlist's item list replaced by `items` (a reorder): DEL, then ZADDs.
std::vector<redis::Command> playlist_items_commands(int64_t playlist_id,
                                                    const std::vector<catalog::PlaylistItem>& items);

// The channel (by name) in the user's subscriptions, by when it was made.
Membership subscription_membership(const catalog::Subscription& subscription);
// The channel hash's subscriber count, as SQL holds it.
redis::Command subscribers_command(std::string_view channel_name, int64_t subscribers);
// Drops the user's cached feed (its subscriptions changed).
redis::Command feed_reset_command(int64_t user_id);

}  // namespace reel::projection
