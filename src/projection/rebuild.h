// Rebuild: recomputes projections from SQL into shadow keys and swaps them in with RENAME, so a
// page never sees a missing or half-built list; keys the new projection no longer produces (a tag
// with no videos left, a deleted video) are removed afterwards.
//
// Projections (select by name; none selected = all):
//   accounts u:{id}, every live account's hash (what session lookups read)
//   videos   v:{id} hashes and card:{id} strings
//   channels ch:{name} hashes
//   nav      the header's category list
//   newest, views, rating, duration   the lists of that sort (global, category, tag, channel);
//            views includes the day lists of the last 30 days and the week and month lists,
//            computed from daily view counts in SQL, with their windows (views:windows,
//            views/windows.h)
//   related  z:rel:{id}, by shared tags and category
//   votes    uv:{user}, each user's votes (on ready videos)
//   comments cm:{video} and z:cm:{video}:new|top|replies, the comments of ready videos
//            (the counts they change are in v:{id} and the card: the videos projection)
//   favorites      z:fav:{user} (of ready videos)
//   playlists      pl:{id}, z:pl:{id} (items of ready videos), z:upl:{user}[:public]
//   subscriptions  z:subs:{user}; drops the cached feeds (feed:{user}). The subscriber counts are
//                  in the channel hashes (channels).
//   search   st:{term}, the per-term sets of the search index; sx:{id}, each video's record of
//            its terms; search:videos, the count (search_index.h). Term sets no video has any
//            more are removed by the sweep.
//
// View counts: a rebuild of views or videos reads counts from SQL, which lags what the view
// aggregators applied to Redis. So it first holds view counting (views:hold; views/flush.h says
// how the aggregators take part): from then on no aggregator applies view increments (they keep
// them in memory), and the rebuild reads SQL only once every live aggregator confirmed that the
// views it applied before are in SQL. The hold is renewed every second while the rebuild runs,
// however long a stage goes without a round trip to Redis (ViewHold). When the rebuild ends (or
// fails, or dies: its hold then expires hold_ttl after the last renewal) the aggregators apply
// what they kept, to the new lists. Counts on pages stand still meanwhile; no view is lost or
// counted twice.
//
// Rebuild and the write path: SQL is read in one snapshot (Connection::begin_snapshot), together
// with every object's sequence number (outbox_seq), so the rebuilt keys reflect exactly the writes
// numbered up to the snapshot's number of each object. A write committed after the snapshot may
// land on the live keys before the swap replaces them (and be lost with them), or after. So once
// the swap and sweep are done, every object whose number moved since the snapshot gets the
// snapshot's number back as its watermark and its outbox rows above it are applied again, in
// order (writes::rebase_watermarks, the relay's replay of a gap, run at once): each delta sets
// values read from SQL, so re-applying a suffix in order ends where the writes ended. A write
// landing meanwhile either comes next in order or finds a gap and is replayed by the relay.
// Rows above a snapshot's number are newer than the snapshot, so the outbox keeps them unless the
// rebuild outlasts the relay's retention (1 h after they were applied); rows at or below it may be
// purged already, and need not be replayed: the snapshot has their effect. A rebuild that takes
// longer than the retention may find rows of a moved object gone; the first row kept is then
// applied over the gap (as the relay does), and a later rebuild puts right what was lost.
//
// Thread-safety: one rebuild at a time per Redis (concurrent rebuilds would swap each other's
// shadow keys; a second rebuild of views or videos is refused while the first holds view counting). Failure:
// returns the first SQL or Redis error; live keys swapped before the error stay valid, the rest keep their
// old values, and shadow keys are left for the next run to overwrite. An aggregator that does not confirm
// within confirm_timeout fails the rebuild before it reads SQL (its views would be missing); one that died is
// waited for until its presence expires.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "redis/blocking_client.h"
#include "sql/catalog_store.h"

namespace reel::projection {

// The projection names `reel rebuild` accepts, in the order they are built.
const std::vector<std::string_view>& projection_names();

struct RebuildOptions {
  std::vector<std::string> projections;  // empty: all
  // Unix seconds, from the caller's Clock: the day/week/month lists end on its UTC day, and a day
  // list's time to live (until its day start + day_list_ttl_days) is counted from it.
  int64_t now = 0;
  // Called as work advances: stage name, items done, items expected (0 when unknown).
  std::function<void(std::string_view stage, uint64_t done, uint64_t total)> progress;
  std::chrono::milliseconds confirm_timeout{60000};  // for the aggregators' confirmations
  std::chrono::milliseconds hold_ttl{120000};        // the hold outlives its last renewal this much
  // Where the write path's sequence numbers and outbox are read after the swap: the primary, when
  // `store` reads a replica ([sql] read_url), so the writes the replica has not replayed yet are
  // brought in too. Null: `store`'s own connection. Must outlive the call.
  sql::Connection* primary = nullptr;
};

struct RebuildStats {
  uint64_t videos = 0;
  uint64_t lists = 0;
  uint64_t stale_keys_removed = 0;
  uint64_t redis_commands = 0;
  uint64_t objects_rebased = 0;  // objects written after the snapshot (their watermarks went back)
  uint64_t rows_replayed = 0;    // outbox rows applied again for them
};

// Returns an Error naming an unknown projection before doing anything.
Result<RebuildStats> rebuild(sql::CatalogStore& store, redis::BlockingClient& redis,
                             const RebuildOptions& options);

}  // namespace reel::projection
