// JobQueue: the media job queue, one Redis Stream (jobs:media) read by one consumer group
// (workers), with retries, crash recovery and poison-pill protection. Producers (the upload
// handler) add jobs; `reel worker` processes claim, heartbeat and ack them.
//
// Life of a job:
//   enqueue        XADD jobs:media * video … kind … attempt 1 …; the entry waits undelivered.
//   claim_next     first reclaims an entry some consumer has held idle for longer than
//                  visibility_timeout (XAUTOCLAIM: its worker crashed or hangs), else reads a new
//                  one (XREADGROUP … COUNT 1 BLOCK block … >). The entry is now pending under the
//                  consumer: a lease.
//   heartbeat      XCLAIM … JUSTID to the same consumer resets the entry's idle time, so a long
//                  job is not reclaimed while its worker lives. Call it every heartbeat_interval()
//                  (visibility_timeout / 3). It returns false when the lease is lost (another
//                  consumer reclaimed the entry, or it was acked): stop working on the job.
//   ack            XACK + XDEL in one MULTI/EXEC: the job is done (or its failure recorded).
//   retry_or_fail  attempt < max_attempts: atomically (one Lua script) acks and deletes the entry
//                  and queues attempt + 1 with the reason in `error`, after a backoff (see
//                  below). Otherwise returns gave_up and leaves the entry pending: the worker
//                  records the failure (SQL, JobProgress) and then calls ack().
//
// Delivery guarantee: at least once. A job is removed only by ack() or by retry_or_fail()
// replacing it, so a worker that dies at any point leaves its entry pending, and another worker
// reclaims it after visibility_timeout. The same job can therefore run more than once: after a
// crash, after a lease lost to a stalled heartbeat, or when a worker dies between recording its
// result and ack(). The worker must make a job idempotent, keyed by video id and kind: check the
// video's SQL state first (already ready/failed/deleted: just ack), write outputs so a rerun
// replaces them (transcode/ publishes by rename), and make the SQL update conditional on the
// video still being `processing`. Two workers run the same job at once only when one missed its
// heartbeats for a whole visibility_timeout; the stale one learns it from heartbeat() (false)
// and must stop.
//
// Poison pills: each delivery of an entry (a read or a reclaim) counts; heartbeats do not. A
// claimed entry delivered more than max_deliveries times (its worker died every time) comes back
// with poisoned() true and a poison_reason: do not run it; record the failure and ack(). So a job
// runs at most max_attempts × max_deliveries times.
//
// Backoff: a retry is due retry_backoff × 2^(attempt − 1) after the failure (capped at
// retry_backoff_max; a zero retry_backoff re-queues at once). Until then it waits in the
// jobs:media:delayed sorted set (score = due time in Unix ms by the injected Clock, so workers'
// clocks should agree to within a second or so; member = its entry's fields, encode_record());
// claim_next() moves due ones into the stream (ZREM + XADD in one script, so two workers never
// both move one). A due retry waits at most one blocking read (`block`) longer.
//
// Trimming: none by length. XADD MAXLEN (even `~`) trims from the head regardless of the
// consumer group, so it can delete entries that are still pending or not yet read: a lost
// upload. Instead every finished entry is deleted (XDEL with its XACK), so the stream holds only
// jobs not yet done and XLEN is the backlog: ~90 B per queued job, ~600 B more while one is
// pending (measured, docs/keys.md). Redis frees a stream's node once all its entries are
// deleted, which FIFO processing does.
//
// Thread-safety: not thread-safe (like the BlockingClient it uses): one JobQueue per thread, each
// over its own BlockingClient; a heartbeat thread needs its own JobQueue and client. The
// BlockingClient is borrowed and must outlive the queue. Options are fixed at construction.
// The client's command_timeout must exceed the `block` given to claim_next(), or the read times
// out client-side and the connection is replaced (the entry it may have delivered is reclaimed
// after visibility_timeout: nothing is lost, only delayed).
// Failure: every call returns an Error when Redis is unreachable or answers with an error reply;
// nothing is half-applied (each mutation is one command, MULTI/EXEC or script). A malformed entry
// in the stream (written by a foreign producer, or a kind this version does not know: roll out
// workers that know a new kind before producers that write it) is removed by claim_next(), which
// returns an Error naming its id and fields for the log; call claim_next() again.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "jobs/job.h"
#include "redis/blocking_client.h"

namespace reel::jobs {

// Preconditions (the caller's configuration checks them): visibility_timeout > 0, max_attempts >= 1,
// max_deliveries >= 1.
struct QueueOptions {
  // Pending longer than this without a heartbeat: the holder is presumed dead and another
  // consumer reclaims the job.
  std::chrono::milliseconds visibility_timeout{60000};
  int32_t max_attempts = 3;    // tries of a job that fails with a reason (retry_or_fail)
  int64_t max_deliveries = 3;  // deliveries of one entry (crashed workers) before it is poisoned
  std::chrono::milliseconds retry_backoff{30000};  // before attempt 2; doubles each attempt
  std::chrono::milliseconds retry_backoff_max{600000};
};

// A job held by one consumer until ack(), retry_or_fail() or a lost lease.
struct LeasedJob {
  std::string id{};        // the stream entry id
  std::string consumer{};  // who holds it
  Job job{};
  int64_t deliveries = 1;       // times this entry has been delivered, this time included
  bool reclaimed = false;       // taken over from a consumer that held it past visibility_timeout
  std::string poison_reason{};  // not empty: do not run; record this reason as the failure, then ack()

  bool poisoned() const { return !poison_reason.empty(); }
};

enum class RetryOutcome {
  retried,     // attempt + 1 is queued (maybe delayed); this entry is gone
  gave_up,     // max_attempts reached (or poisoned): record the failure, then ack()
  lease_lost,  // another consumer holds the entry now, or it is gone: do nothing more with it
};

struct QueueStats {
  int64_t length = 0;   // entries in the stream: waiting + pending (XLEN)
  int64_t waiting = 0;  // not yet delivered to any worker
  int64_t pending = 0;  // delivered, not yet acked (running, or held by a dead worker)
  int64_t delayed = 0;  // retries waiting out their backoff
  // Ages by Redis's clock (TIME), which stamps the entry ids, so a skew between this host's clock
  // and Redis's does not show in them.
  std::chrono::milliseconds oldest_pending_age{0};  // since the oldest pending entry was added
  std::chrono::milliseconds oldest_waiting_age{0};  // since the oldest undelivered entry was added
  std::vector<std::pair<std::string, int64_t>> pending_by_consumer{};
};

// The backoff before the retry of a failed `attempt` (1-based): retry_backoff × 2^(attempt − 1),
// at most retry_backoff_max; 0 when retry_backoff is 0.
std::chrono::milliseconds retry_delay(const QueueOptions& options, int32_t attempt);

class JobQueue {
 public:
  // `client` and `clock` are borrowed and must outlive the queue.
  JobQueue(redis::BlockingClient& client, const Clock& clock, QueueOptions options = {});

  const QueueOptions& options() const { return options_; }
  std::chrono::milliseconds heartbeat_interval() const { return options_.visibility_timeout / 3; }

  // XGROUP CREATE jobs:media workers 0 MKSTREAM; an existing group is fine. Reading from id 0, so
  // jobs enqueued before the group existed are delivered too. claim_next() calls it by itself
  // when the group is missing (after a FLUSHALL or on a fresh Redis).
  Status ensure_group();

  // Adds the job (enqueued_at_ms stamped from the clock when 0) and returns its entry id.
  Result<std::string> enqueue(Job job);

  // The next job for `consumer` (a name stable across restarts, e.g. "<host>-<slot>", so the
  // group does not collect dead names): a reclaimed one first, else a new one, waiting up to
  // `block` for one to arrive (0: do not wait). nullopt when none came.
  Result<std::optional<LeasedJob>> claim_next(std::string_view consumer, std::chrono::milliseconds block);

  // Resets the lease's idle time. true: still held; false: lost (stop working on the job).
  Result<bool> heartbeat(const LeasedJob& lease);

  // Removes the entry (XACK + XDEL). Acking an entry already gone is a no-op; acking one another
  // consumer has reclaimed meanwhile removes it too (the job is done; that consumer's next
  // heartbeat() returns false).
  Status ack(const LeasedJob& lease);

  // See the file comment. `reason` is stored in the next attempt's `error` field.
  Result<RetryOutcome> retry_or_fail(const LeasedJob& lease, std::string_view reason);

  // One snapshot for /metrics and `reel worker --status` (two round trips).
  Result<QueueStats> stats();

 private:
  // Moves due retries from the delayed set into the stream.
  Status promote_due(const std::vector<std::string>& records);
  Result<std::optional<LeasedJob>> lease_from(const redis::Reply& entry, std::string_view consumer,
                                              int64_t deliveries, bool reclaimed);
  int64_t now_ms() const;

  redis::BlockingClient& client_;
  const Clock& clock_;
  QueueOptions options_;
};

}  // namespace reel::jobs
