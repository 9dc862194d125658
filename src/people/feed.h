// The subscription feed: the newest videos of the channels a user follows, newest first, read from
// Redis alone (fan-in on read: nothing is written per follower when a video is published).
//
// One Lua script (one round trip) answers a page: when the user's cached feed (keys::feed) is
// missing, it merges the channels' newest lists (z:ch:{name}:new) into it — the newest video of
// each followed channel (one ZREVRANGE each), channels taken newest first, each contributing its
// videos newer than the feed_depth-th newest seen so far, and none once a channel's newest is older
// than that — keeps the newest feed_depth, and lets the cache expire after feed_ttl; then it reads
// the page from the cache and the page's cards (one MGET inside the script). Subscribing or
// unsubscribing drops the cache (people/subscriptions.h).
//
// Cost for a user following S channels (S <= max_subscriptions), building: one ZRANGE of S names,
// S ZREVRANGEs of one element (the heads), a sort of S entries, then one ZREVRANGEBYSCORE per
// channel whose head is above the cut — at most feed_depth channels, since the feed_depth-th newest
// head is a first cut — each reading only its videos above the cut, sorted in batches of
// feed_depth; one ZADD of feed_depth members. The S head reads dominate. Every page read within feed_ttl
// afterwards: ZCARD, one ZREVRANGE and one MGET. docs/benchmarks.md has the measured figures for S = 1,000.
// Freshness: a video published after the cache was built shows up once it expires (feed_ttl).
//
// Thread-safety: on the Connection's event loop. Failure: an Error when Redis fails; invalid_input
// for a bad page. A page past the feed's end is empty.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/asio.h"
#include "common/result.h"
#include "people/collection_reads.h"
#include "redis/connection.h"

namespace reel::people {

// The feed holds the newest feed_depth videos (10 pages of 30): what a user scrolls through.
inline constexpr int feed_depth = 300;
inline constexpr std::chrono::seconds feed_ttl{30};

// A page of the user's feed; `pages` counts at most feed_depth videos.
Task<Result<CardPage>> read_feed(redis::Connection& redis, int64_t user_id, int page, int per_page);

}  // namespace reel::people
