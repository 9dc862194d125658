// Subscriptions: users following channels (a channel is a users row, named by users.name), and
// the channels' subscriber counts. The record is SQL (sql/collection_store.h: subscriptions, and
// users.subscribers kept by these writes); the read model (projection/collections.h) is the user's
// zset keys::subscriptions(user) of channel names by time subscribed, and the count in the channel
// hash (ch:{name}, field codec::channel_subscribers_field) that the channel page shows.
//
// Writes run inside a writes::Transaction (writes/write_path.h). Subscribing locks "user:{id}"
// (which orders the per-user cap), then "channel:{id}"; unsubscribing locks "channel:{id}". The
// delta is the channel's: its count as SQL holds it after the write (HSET, never an increment), the
// channel added to or removed from the user's list (a member that is the channel itself), and the
// user's cached feed dropped. Both are idempotent.
// A user cannot subscribe to their own channel (invalid_input): a count of people following you
// that includes you means nothing, and your own videos are on your channel page anyway.
//
// Thread-safety: writes on the thread running the transaction; reads on the Connection's loop.
// Failure (writes; nothing is written): not_found for a channel that does not exist or was deleted;
// invalid_input for one's own channel or past max_subscriptions; else the engine's Error. Reads: an
// Error when Redis fails, invalid_input for a bad page.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/collections.h"
#include "common/asio.h"
#include "common/result.h"
#include "people/collection_reads.h"
#include "redis/connection.h"
#include "writes/transaction.h"

namespace reel::people {

// What one user may follow: bounds the feed's work (people/feed.h).
inline constexpr int64_t max_subscriptions = 2000;

// Subscribes the user to the channel named `channel_name`; returns its subscriber count after.
Result<int64_t> subscribe(writes::Transaction& tx, int64_t user_id, std::string_view channel_name,
                          int64_t now);
// Unsubscribes; returns the channel's subscriber count after.
Result<int64_t> unsubscribe(writes::Transaction& tx, int64_t user_id, std::string_view channel_name);

using catalog::FollowedChannel;

struct SubscriptionList {
  std::vector<FollowedChannel> channels;  // the latest subscription first
  int64_t total = 0;
  int page = 1;
  int pages = 0;
};

Task<Result<SubscriptionList>> read_subscriptions(redis::Connection& redis, int64_t user_id, int page,
                                                  int per_page);
// Whether the user follows the channel (the subscribe button): one round trip.
Task<Result<bool>> is_subscribed(redis::Connection& redis, int64_t user_id, std::string channel_name);
// The channel's subscriber count (0 for an unknown channel): one round trip.
Task<Result<int64_t>> read_subscribers(redis::Connection& redis, std::string channel_name);

}  // namespace reel::people
