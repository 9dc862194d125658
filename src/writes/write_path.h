// WritePath: the one way every write reaches SQL and Redis (DESIGN.md, "People, writes and caches").
//
//   std::function<Result<int64_t>(writes::Transaction&)> write = [&](writes::Transaction& tx) {
//     ... tx.lock("video:12"); SQL through tx.db(); tx.emit("video:12", commands); return value;
//   };
//   Result<writes::Written<int64_t>> done = co_await write_path.run<int64_t>(std::move(write));
//
// run() executes the write on the SQL pool inside one transaction, inserts each locked object's
// delta into the outbox in that same transaction, commits, and then applies the deltas to Redis
// (one script call per delta, all in one pipelined round trip; writes/apply.h). The write is
// durable once run() returns a value: `landed` says whether Redis has it too. When Redis failed,
// or a delta found an earlier one of its object missing, the outbox row stays pending and the
// relay (writes/relay.h, in `reel worker` and `reel up`) applies it, in order per object, once
// Redis answers; nothing is lost and nothing counts twice (each delta lands once, by its object's
// watermark).
//
// Conflicts. Two writes can stop each other inside SQL: MariaDB picks a deadlock victim (1213) or
// gives up a lock wait (1205); SQLite's write lock can stay busy past its timeout. The engine's
// Error then says so (Error::conflict), and the write is run again from the start: a fresh
// transaction and a fresh Transaction, the failed attempt's deltas and sequence numbers dropped
// with its rollback, after a short jittered backoff (RetryPolicy), up to `attempts` times in all.
// Only then does run() return the conflict (kind internal, `conflict` still set: a 503 asking to
// try again). So a write function must be safe to run more than once: a function of what it
// reads through the Transaction and of the values it captured, which it does not change (see
// transaction.h, "Re-running").
//
// Sessions node. A site whose sessions and limits live on a Redis of their own ([redis] sessions;
// docs/capacity.md, "splitting by key class") gives the WritePath its connection: deltas of the
// sessions class (apply.h, on_sessions_node: a password change's or a deletion's revocation of the
// user's sessions) are applied there, with their watermarks, after the write's other deltas — a
// second step, in its own outbox row, so it lands once like any delta, through the relay (given
// the same node, relay.h) when it could not at once. Without one, every delta goes to `redis`
// in one pipelined round trip.
//
// Thread-safety: one WritePath per event loop (it uses that loop's Redis connection); run() only
// on that loop. The pool is shared. Ownership: the pool, connection and clock must outlive it.
// Failure: run() returns the write's own Error (rolled back, nothing recorded), or the engine's
// Error when the transaction or the outbox insert failed (rolled back; a conflict only once the
// attempts ran out); never an Error after the commit.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "common/asio.h"
#include "common/change_sink.h"
#include "common/clock.h"
#include "common/result.h"
#include "redis/blocking_client.h"
#include "redis/connection.h"
#include "sql/pool.h"
#include "writes/transaction.h"

namespace reel::writes {

template <class T>
struct Written {
  T value;
  bool landed = false;  // Redis has every delta of the write; false: the relay will apply them
};

// How a write the SQL engine gave up for a concurrent one (Error::conflict) is run again. The
// backoff before attempt k+1 is drawn uniformly from [b/2, b], b = min(first_backoff·2^(k−1),
// max_backoff): short, as deadlock victims usually get through at once, and jittered, so two
// writes that stopped each other do not meet again in step. A lock wait timeout (MariaDB's
// innodb_lock_wait_timeout, 50 s by default; SQLite's 5 s busy timeout) comes on top of it.
struct RetryPolicy {
  int attempts = 5;  // in all, the first one included; 1 = never run again
  std::chrono::milliseconds first_backoff{5};
  std::chrono::milliseconds max_backoff{100};
};

class WritePath {
 public:
  // `changes` (may be null) is told the objects of each write once Redis has it all (Varnish
  // purges); what the relay lands later, the relay tells.
  // `sessions`: the sessions node's primary (see "Sessions node"); null or `redis` itself when the
  // site has none.
  WritePath(sql::Pool& pool, redis::Connection& redis, const Clock& clock, ChangeSink* changes = nullptr,
            RetryPolicy retry = {}, redis::Connection* sessions = nullptr)
      : pool_(pool),
        redis_(redis),
        sessions_(sessions != nullptr ? *sessions : redis),
        clock_(clock),
        changes_(changes),
        retry_(retry) {}

  template <class T>
  Task<Result<Written<T>>> run(std::function<Result<T>(Transaction&)> write) {
    auto value = std::make_shared<std::optional<T>>();
    std::function<Status(Transaction&)> erased = [write = std::move(write),
                                                  value](Transaction& tx) -> Status {
      Result<T> result = write(tx);
      if (!result.ok()) return result.error();
      *value = std::move(*result);
      return {};
    };
    Result<std::vector<Delta>> deltas = co_await commit(std::move(erased));
    if (!deltas.ok()) co_return deltas.error();
    const bool landed = co_await apply(std::move(*deltas));
    co_return Written<T>{std::move(**value), landed};
  }

  // Counters for /metrics (read from any thread).
  struct Stats {
    uint64_t writes = 0;      // committed
    uint64_t not_landed = 0;  // committed, left to the relay
    uint64_t retried = 0;     // attempts run again after a conflict
  };
  Stats stats() const {
    return {writes_.load(std::memory_order_relaxed), not_landed_.load(std::memory_order_relaxed),
            retried_.load(std::memory_order_relaxed)};
  }

 private:
  // Begin, write, outbox rows, commit — on a pool thread; the deltas with their sequence numbers.
  Task<Result<std::vector<Delta>>> commit(std::function<Status(Transaction&)> write);
  // Applies committed deltas; true when all landed.
  Task<bool> apply(std::vector<Delta> deltas);
  // Applies `deltas` on `redis` in one pipelined round trip; true when all landed.
  static Task<bool> apply_on(redis::Connection& redis, std::vector<Delta> deltas);

  sql::Pool& pool_;
  redis::Connection& redis_;
  redis::Connection& sessions_;  // redis_ when the site has no sessions node
  const Clock& clock_;
  ChangeSink* const changes_;
  const RetryPolicy retry_;
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> not_landed_{0};
  std::atomic<uint64_t> retried_{0};
};

// The same in one thread, for tools and tests: commits on `db` (retrying conflicts as run() does),
// then applies every delta through `redis` (no sessions node: tools write no sessions). Result: the deltas'
// landing, as run()'s `landed`; an Error only when nothing was committed.
Result<bool> run_blocking(sql::Connection& db, redis::BlockingClient& redis,
                          const std::function<Status(Transaction&)>& write, int64_t now,
                          const RetryPolicy& retry = {});

// run_blocking() for a write with a value (tools, tests): the value and whether it landed.
template <class T>
Result<Written<T>> write_blocking(sql::Connection& db, redis::BlockingClient& redis,
                                  const std::function<Result<T>(Transaction&)>& write, int64_t now) {
  std::optional<T> value;
  Result<bool> landed = run_blocking(
      db, redis,
      [&](Transaction& tx) -> Status {
        Result<T> result = write(tx);
        if (!result.ok()) return result.error();
        value = std::move(*result);
        return {};
      },
      now);
  if (!landed.ok()) return landed.error();
  return Written<T>{std::move(*value), *landed};
}

// The transaction part of run(), shared with run_blocking(): begin, write, outbox rows, commit;
// all of it again while the engine gives it up for a concurrent transaction (Error::conflict), as
// `retry` says. `retried` (when given) counts the attempts run again.
Result<std::vector<Delta>> commit_write(sql::Connection& db, const std::function<Status(Transaction&)>& write,
                                        int64_t now, const RetryPolicy& retry = {},
                                        std::atomic<uint64_t>* retried = nullptr);

}  // namespace reel::writes
