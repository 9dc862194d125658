// What the collection writes (favorites, playlists, subscriptions) share: the names of the objects
// they lock (writes/transaction.h: the unit of ordering of their deltas) and the check that a video
// may be collected.
// Thread-safety: pure functions, except require_ready (as its store).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "sql/collection_store.h"

namespace reel::people {

// "user:{id}": a user's favorites and the count of their playlists and subscriptions.
std::string user_object(int64_t user_id);
// "playlist:{id}": the playlist, its items and its place in its owner's lists.
std::string playlist_object(int64_t playlist_id);
// "channel:{id}": the channel's subscriber count and its place in its subscribers' lists.
std::string channel_object(int64_t channel_id);

// not_found unless the video exists and is ready (listed).
Status require_ready(sql::CollectionStore& store, int64_t video_id);

}  // namespace reel::people
