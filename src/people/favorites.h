// Favorites: the videos a user keeps. The record is SQL (sql/collection_store.h); the read model
// is the user's zset keys::favorites(user) of video ids by time added (projection/collections.h).
//
// Writes run inside a writes::Transaction (the write path, writes/write_path.h): each locks the
// object "user:{id}" first and emits that object's delta — a ZADD with the time read back from SQL,
// or a ZREM — so deltas applied in order per user leave Redis as SQL is. Both are idempotent.
// Reads cost two Redis round trips (the page's ids, then one MGET of their cards).
//
// Thread-safety: writes on the thread running the transaction; reads on the Connection's loop.
// Failure: a write returns not_found (nothing written) for a video that does not exist or is not
// ready, or the engine's Error; a read returns an Error when Redis fails, invalid_input for a bad
// page.
#pragma once

#include <cstdint>

#include "common/asio.h"
#include "common/result.h"
#include "people/collection_reads.h"
#include "redis/connection.h"
#include "writes/transaction.h"

namespace reel::people {

// Adds the video to the user's favorites; true when it was not one yet (one already there keeps
// its time).
Result<bool> add_favorite(writes::Transaction& tx, int64_t user_id, int64_t video_id, int64_t now);
// Removes it; true when it was one.
Result<bool> remove_favorite(writes::Transaction& tx, int64_t user_id, int64_t video_id);

// The user's favorites, newest first.
Task<Result<CardPage>> read_favorites(redis::Connection& redis, int64_t user_id, int page, int per_page);
// Whether the video is among the user's favorites (the watch page's button): one round trip.
Task<Result<bool>> is_favorite(redis::Connection& redis, int64_t user_id, int64_t video_id);

}  // namespace reel::people
