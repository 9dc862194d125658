// Relay: applies the outbox rows that did not land when their write committed (Redis was down or
// slow, the writer died between commit and apply, a delta found an earlier one of its object
// missing), so Redis converges to SQL. Runs in `reel worker` (and so in `reel up`) every second.
//
// run_once() reads pending rows oldest first, in batches, applies them with the apply script
// (writes/apply.h: each lands once, in order per object) in one pipelined round trip per batch,
// and marks those that landed. A delta that finds a gap makes the relay replay its object from
// the watermark on: the object's rows with a higher sequence number, applied or not while they
// are kept, in order; when rows in between are gone (purged, or taken numbers whose write rolled
// back), the first one present is forced. So a Redis that lost recent writes (a failover to a
// replica that lagged) is brought back in step as well. Rows applied more than `retention` ago
// are deleted.
//
// A relay that dies mid-batch loses nothing: rows are marked only after Redis answered for them,
// and a row applied but not marked answers `already` next time. Several relays (one per worker)
// may run at once for the same reason.
//
// Thread-safety: not thread-safe; the Connection, BlockingClient and Clock it borrows must
// outlive it.
// Failure: run_once() returns an Error when SQL or Redis fail (what it marked stays marked; the
// rest stays pending for the next run); with a sessions node, one node that fails keeps only its
// own rows pending: the other's land in the same run. A row whose delta Redis refuses (a script error: a bug)
// or that cannot be decoded is logged, counted and left pending.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/change_sink.h"
#include "common/clock.h"
#include "common/result.h"
#include "redis/blocking_client.h"
#include "sql/connection.h"

namespace reel::writes {

struct RelayOptions {
  int64_t batch = 500;
  std::chrono::seconds retention{std::chrono::hours(1)};  // how long applied rows stay replayable
  ChangeSink* changes = nullptr;  // told the objects of the rows that land (Varnish purges); may be null
  // The sessions node's primary when the site has one ([redis] sessions): rows of the sessions
  // class (apply.h, on_sessions_node) are applied there, as the WritePath does; null: on `redis`.
  redis::BlockingClient* sessions = nullptr;
};

struct RelayStats {
  int64_t landed = 0;    // pending rows that are now applied (by this run or before it)
  int64_t replayed = 0;  // rows applied again by a gap's replay
  int64_t failed = 0;    // rows Redis refused or that could not be decoded
};

// For `reel rebuild` (projection/rebuild.h, "Rebuild and the write path"): sets each object's
// watermark to the sequence number its rebuilt keys reflect (0: none, the watermark is removed)
// and applies the object's kept outbox rows above it, in order — what the relay does when a delta
// finds a gap, done at once rather than left to the next write of the object. Rows stay as they
// are in SQL (pending ones are marked by the relay, where they answer `already`). Returns how many
// rows it applied; an Error when SQL or Redis failed (run it again: it is idempotent).
Result<int64_t> rebase_watermarks(sql::Connection& db, redis::BlockingClient& redis,
                                  const std::vector<std::pair<std::string, int64_t>>& objects);

class Relay {
 public:
  Relay(sql::Connection& db, redis::BlockingClient& redis, const Clock& clock, RelayOptions options = {})
      : db_(db), redis_(redis), clock_(clock), options_(options) {}

  Result<RelayStats> run_once();

 private:
  sql::Connection& db_;
  redis::BlockingClient& redis_;
  const Clock& clock_;
  RelayOptions options_;
};

}  // namespace reel::writes
