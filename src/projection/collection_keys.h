// Keys of the people's collections — favorites, playlists, subscriptions and the subscription
// feed — beside keys.h (docs/keys.md documents each). No other component spells them.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reel::projection::keys {

// zset: the user's favorite video ids, score = when each was added (Unix s).
std::string favorites(int64_t user_id);
std::string favorites_pattern();

// string: the playlist's packed fields (collections.h: encode_playlist).
std::string playlist(int64_t playlist_id);
std::string playlist_pattern();
// zset: the playlist's video ids, score = position (ascending is the playlist's order).
std::string playlist_items(int64_t playlist_id);
std::string playlist_items_pattern();
// zset: playlist ids of the user, score = created (Unix s): all of them (what the owner sees), and
// the public ones only (what everyone else sees).
std::string user_playlists(int64_t user_id);
std::string user_public_playlists(int64_t user_id);
std::string user_playlists_pattern();  // matches both

// zset: the channel names the user follows, score = when each subscription was made (Unix s).
std::string subscriptions(int64_t user_id);
std::string subscriptions_pattern();
// zset: the user's merged subscription feed, score = published (Unix s); a cache with a short
// expiry (people/feed.h), rebuilt from the channels' newest lists when missing.
std::string feed(int64_t user_id);
std::string feed_pattern();

}  // namespace reel::projection::keys
