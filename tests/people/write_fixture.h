// The base of the people suites' fixtures: the suite's redis-server and a fresh database on the
// backend the test is instantiated with (RedisSqlTest: SQLite and MariaDB), and run_write(): a
// write run through the write path (writes::write_blocking — one SQL transaction with its outbox
// rows, re-run on a conflict, then the deltas applied by the apply script). When writes from
// several threads reach Redis out of order, a delta that finds a gap is left to the relay, which
// converge() runs until nothing is pending.
// Thread-safety: run_write() may be called from several threads, each with its own connection
// and client; the rest is for the test's thread.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <utility>

#include "common/clock.h"
#include "redis/blocking_client.h"
#include "sql/outbox_store.h"
#include "sql/redis_sql_test.h"
#include "writes/relay.h"
#include "writes/transaction.h"
#include "writes/write_path.h"

namespace reel::testing {

// Runs `write(tx)` through the write path on `db` and `redis` at `now`; returns what the write
// returned (an Error from the write itself keeps its kind), or the engine's Error when the commit
// failed (a conflict only once the write path's attempts ran out). `landed` (when given) says
// whether every delta reached Redis at once.
template <class Write>
auto run_write_at(sql::Connection& db, redis::BlockingClient& redis, int64_t now, Write&& write,
                  bool* landed = nullptr) -> decltype(write(std::declval<writes::Transaction&>())) {
  using Value = decltype(write(std::declval<writes::Transaction&>()));
  std::optional<Value> result;
  auto attempt = [&] {
    return writes::run_blocking(
        db, redis,
        [&](writes::Transaction& tx) -> Status {
          result.emplace(write(tx));
          if (!*result) return result->error();
          return {};
        },
        now);
  };
  // No retry here: the write path re-runs a write the engine gave up for a concurrent one; an
  // Error means its attempts ran out (the test fails).
  Result<bool> done = attempt();
  if (!done) return result && !*result ? std::move(*result) : Value(done.error());
  if (landed != nullptr) *landed = *done;
  return std::move(*result);
}

class PeopleWriteTest : public RedisSqlTest {
 protected:
  // Runs the relay until no outbox row is pending (the deltas that found a gap have landed).
  void converge() {
    SystemClock clock;
    writes::Relay relay(*db_, *redis_, clock);
    sql::OutboxStore outbox(*db_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      auto ran = relay.run_once();
      ASSERT_TRUE(ran) << ran.error().message;
      auto pending = outbox.count_pending();
      ASSERT_TRUE(pending) << pending.error().message;
      if (*pending == 0) return;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << *pending << " outbox rows still pending";
    }
  }
};

}  // namespace reel::testing
