// Flush: applying the aggregator's chunks to Redis, and the periodic upkeep of the derived lists.
//
// Each chunk is one EVALSHA of one Lua script, so it is applied atomically server-side with no
// read-then-write round trip. For each video of a chunk whose card exists (others are reported
// back as unknown and not created) the script:
//   ZINCRBY z:views:all, then SETRANGE card:{id} 0 <the new total as 12 digits>;
//   ZINCRBY z:views:day:{d} (EXPIRE: it lives until day start + day_list_ttl_days, as rebuild sets
//   it; the seconds left are counted from the aggregator's Clock, never Redis's, so a skewed or
//   faked clock on either side cannot expire it early; a day already past that is deleted at once),
//   and z:views:week and z:views:month when d is inside their window (views/windows.h; nothing,
//   not even the day list, for a day the week's window has left);
//   ZINCRBY z:trending by weight * exp(lambda * (ref - t0)), t0 read from trending:epoch;
//   reads v:{id}'s categories, tags and channel (HMGET) and ZINCRBYs z:cat:{slug}:views:all,
//   z:cat:{slug}:views:day:{d} (same expiry) with its week and month (same windows rule),
//   z:cat:{slug}:trending, z:tag:{tag}:views:all and z:ch:{name}:views:all, the lists the
//   rebuild fills from the same counts.
// (The video hash has no views field; pages read the count from the card and z:views:all.)
// For each search increment: ZINCRBY search:popular by weight * exp(lambda * (ref - t0)), the
// query as member (the same decay and epoch as z:trending, so the upkeep trims and rebases it
// with the trending lists). For each co-view pair whose two cards exist: ZINCRBY z:cov:{a} b and
// z:cov:{b} a. Trimming is
// amortized: only an increment that adds a new member checks the size (ZCARD, O(1)), and a list
// longer than coview_trim_at is cut back to its top coview_keep (ZREMRANGEBYRANK), once per
// coview_trim_at - coview_keep new members. The defaults (100, 120) keep every list at most 121
// long, under Redis's zset-max-listpack-entries (128), so lists stay in the compact encoding
// (~8 bytes a member against ~110 in a skiplist, measured on Redis 7.0).
//
// Exactly once: the script first checks views:batch:{token}; when present, the chunk was
// applied before and its stored result is returned (ChunkResult::replayed) without writing
// anything. Otherwise it writes the token (with token_ttl_seconds) together with the increments,
// in the same atomic script. So a chunk whose reply was lost (connection dropped after the script
// ran) is retried with the same token and not counted twice; a chunk that failed before running
// (Redis down, NOSCRIPT, OOM, LOADING) is simply retried. The guarantee holds while the token
// lives (a day by default). Redis losing writes it had not yet made durable (the last second of
// an appendfsync-everysec AOF) loses token and increments together: a chunk whose reply never
// came is then applied again, once; a chunk already acknowledged is not resent (its daily rows
// still reach SQL, from which rebuild restores the lists). The aggregator process is the other
// limit: a crash loses its pending and in-flight increments (at most the last flush interval
// while Redis is up; everything merged meanwhile when it crashes during a Redis outage).
//
// Rebuild cut-over: `reel rebuild` of the view counts (projection/rebuild.h) reads SQL and swaps
// its lists in; increments applied to the live lists after its SQL snapshot would be lost, and
// SQL lags Redis by the daily-rows interval. So the rebuild holds view counting: it sets
// views:hold (its id, with an expiry it renews), from which moment the script refuses every chunk
// of video increments ({2, hold}; nothing written, the token neither) and the aggregator keeps it
// in flight, merging new views into pending meanwhile. Chunks of pairs or searches (never mixed
// with videos) are not held: no rebuild writes their lists. Each flush starts with this aggregator's
// presence (HSET views:aggregators, SET views:aggregator:{instance} = the hold it confirmed, with
// presence_ttl_ms) and a GET of the hold, in the same pipelined write as its first chunks; when
// the hold was set and every chunk of the flush got its answer, each chunk applied before the hold
// began is among the daily rows (Aggregator::hold_settled), and once the SQL writer has written
// those, the next flush reports the hold confirmed. The rebuild reads SQL only when every live
// aggregator confirmed its hold, so each increment is in its snapshot (applied before the hold) or
// applied to the swapped-in lists after the hold ends (refused meanwhile): never both, never
// neither.
//
// Trending epoch: scores are exp(lambda * (t - t0)) sums, which double every half-life; the
// maintenance step rebases t0 to now once it is rebase_after_seconds old (a week by default, so
// scores stay below 2^(7 days / half-life) ~ 128 per view with the 24 h default, far from
// overflow at 2^1024) by multiplying every trending list by exp(-lambda * (now - t0)) and
// storing the new t0, in one script, so flushes before and after it agree.
//
// Thread-safety: a RedisFlusher is used on the Connection's event loop only, one flush() at a
// time (a second concurrent call returns at once). The free functions are pure.
// Failure: flush() returns an Error when Redis is unavailable or answers a chunk with an error
// reply; the chunks not yet applied stay in the aggregator and the next flush() retries them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/result.h"
#include "projection/view_lists.h"
#include "redis/command.h"
#include "redis/connection.h"
#include "redis/reply.h"
#include "redis/script.h"
#include "views/aggregator.h"
#include "views/journal.h"
#include "views/windows.h"

namespace reel::views {

struct FlushOptions {
  int64_t token_ttl_seconds = 86400;
  int64_t day_list_ttl_days = projection::day_list_ttl_days;  // after the day starts (as rebuild)
  int coview_keep = 100;
  int coview_trim_at = 120;
  size_t chunks_per_round_trip = 32;  // bounds one pipelined write (and its command timeout)
  // views:aggregator:{instance} outlives the last flush by this much: a rebuild waits this long
  // at most for an aggregator that died.
  int64_t presence_ttl_ms = 15000;
};

// Turns chunks into script calls. Thread-safety: immutable after construction.
class ChunkEncoder {
 public:
  ChunkEncoder(double lambda, FlushOptions options);

  static const redis::Script& script();
  // EVALSHA of the chunk's script call; EVAL when `eval` (after NOSCRIPT). `now` (unix seconds,
  // the aggregator's Clock) is what the day lists' time to live is counted from.
  redis::Command command(const FlushChunk& chunk, int64_t now, bool eval = false) const;
  const FlushOptions& options() const { return options_; }

 private:
  double lambda_;
  FlushOptions options_;
  std::vector<std::string> templates_;  // per-id and per-name key templates (keys.h)
};

// The script's reply: {1 | 0 (replayed), "<errors> <unknown id>..."}, or {2, hold id} for a chunk
// refused under a hold. An Error for any other shape.
Result<ChunkResult> parse_chunk_reply(const redis::Reply& reply);

struct FlushStats {
  uint64_t flushes = 0;      // flush() calls that applied everything they had
  uint64_t failures = 0;     // flush() calls that returned an Error
  uint64_t round_trips = 0;  // pipelined writes sent
  uint64_t commands = 0;     // script calls sent (EVALSHA and EVAL)
};

class RedisFlusher {
 public:
  // Both must outlive the flusher.
  RedisFlusher(Aggregator& aggregator, redis::Connection& connection, FlushOptions options = {});

  // Reports this aggregator's presence and reads the hold, applies the chunks still in flight from
  // an earlier flush, if any, then seals what is pending and applies that: every chunk, at most
  // chunks_per_round_trip per pipelined write. Chunks the current hold refused are not sent again
  // while it lasts. See the file comment for failures.
  Task<Status> flush();
  const FlushStats& stats() const { return stats_; }
  // Routes every flush through the stream journal (views/journal.h): the first flush loads the
  // stored generation back into flight, each new generation is committed before its first chunk
  // is sent, and once nothing is in flight the stored generation is removed and, while nothing is
  // pending, the cursor follows the stream. Call before the first flush; `journal` must outlive
  // the flusher.
  void use_journal(const StreamJournal* journal) { journal_ = journal; }
  // The hold the last flush read (empty: none).
  const std::string& hold() const { return hold_; }

 private:
  std::vector<redis::Command> presence_commands() const;
  // Takes the hold from the replies of presence_commands(), the first `presence_end` of `replies`;
  // an Error when one of them is an error reply.
  Status read_hold(const std::vector<redis::Reply>& replies, size_t presence_end);
  const FlushChunk* in_flight(std::string_view token) const;
  // The journal's part of a flush: loading what a crashed process left, and committing.
  Task<Status> recover();
  Task<Status> commit(std::string cursor, bool with_chunks);
  // After a flush that applied what it sent: removes the stored generation and moves the cursor.
  Task<Status> settle_journal();

  Aggregator& aggregator_;
  redis::Connection& connection_;
  ChunkEncoder encoder_;
  FlushStats stats_;
  std::string hold_;
  bool flushing_ = false;

  const StreamJournal* journal_ = nullptr;
  bool recovered_ = false;
  uint64_t seen_generations_ = 0;  // Aggregator::generations() when the last generation was sealed
  bool uncommitted_ = false;       // the generation in flight is not committed yet
  bool generation_stored_ = false;
  std::string sealed_cursor_;     // the stream position when the generation in flight was sealed
  std::string committed_cursor_;  // the cursor as last committed
};

struct MaintenanceOptions {
  int64_t rebase_after_seconds = 7 * 86400;
  int trending_keep = 10000;          // members kept per trending list
  int popular_searches_keep = 10000;  // members kept in search:popular
  WindowOptions windows;
};

// The upkeep commands for `now`, given the category slugs: trim of every trending list (global
// and per category) to trending_keep and of search:popular to popular_searches_keep; the rebase
// script (see the file comment), over the trending lists and search:popular.
std::vector<redis::Command> maintenance_commands(int64_t now, double lambda,
                                                 const std::vector<std::string>& category_slugs,
                                                 const MaintenanceOptions& options);

// Reads the category slugs from nav:categories, moves the week and month windows to `now`'s day
// (keep_windows(): one round trip, and a script call per 100 members of each day leaving a
// window, once a day), then sends maintenance_commands() in one pipelined write. Call it every
// few minutes (any aggregator may: it is idempotent, and aggregators running it at once share the
// work). Returns what the windows' upkeep did; an Error when Redis is unavailable or answers any
// of them with an error.
Task<Result<WindowStats>> maintain(redis::Connection& connection, int64_t now, double lambda,
                                   const MaintenanceOptions& options = {});

}  // namespace reel::views
