// What other writes need from the collections (favorites, playlists, subscriptions): taking a
// user's collections away when the account goes, and the Redis side of a video being deleted.
// Thread-safety: on the thread running the transaction (or holding the connection).
// Failure: the engine's Error; inside a transaction the caller rolls back.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "redis/command.h"
#include "sql/connection.h"
#include "writes/transaction.h"

namespace reel::people {

// For deleting an account, inside its transaction: removes the user's favorites, playlists (with
// their items) and subscriptions, and every subscription to the user's own channel (whose count
// becomes 0), so no row of these tables names the user any more. It locks "user:{id}", then the
// channels concerned and the user's playlists in ascending id order (the order every collection
// write follows, so concurrent writes cannot deadlock), and emits each object's delta: the
// favorites list deleted, each playlist gone from Redis, each followed channel's count set from
// SQL, each subscriber's list without the channel. A channel with S subscribers costs a delta of
// S + 1 commands. The users row and the channel's hash are the account deletion's own.
Status remove_user_collections(writes::Transaction& tx, int64_t user_id);

// For deleting a video: the Redis commands that take it out of every favorites list and playlist
// holding it, read from SQL before its rows go (ON DELETE CASCADE removes them with the video). The
// delete path adds them to the delta of "video:{id}" (or to its withdraw batch), where they commute
// with the collections' own deltas: the video can no longer be added (adds require a ready video),
// and every read skips a video without a card anyway, so a member left behind by an add racing the
// delete is only counted in a list's total until `reel rebuild favorites playlists`.
Result<std::vector<redis::Command>> video_removal_commands(sql::Connection& db, int64_t video_id);

}  // namespace reel::people
