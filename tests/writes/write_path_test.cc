// The write path against a real redis-server and SQL (every test on SQLite and on MariaDB): deltas
// land once and in order per object, and the relay brings Redis in step after Redis was down
// between commit and apply, after a relay died mid-batch, and after Redis lost writes it had
// acknowledged; writes that SQL gives up for a concurrent one (a deadlock, a lock wait timeout,
// SQLite busy) are run again, and only their last attempt counts.
#include "writes/write_path.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "projection/account_keys.h"
#include "projection/codec.h"
#include "projection/keys.h"
#include "redis/connection.h"
#include "redis/server.h"
#include "sql/outbox_store.h"
#include "sql/pool.h"
#include "sql/redis_sql_test.h"
#include "support/event_loop.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "writes/apply.h"
#include "writes/delta_codec.h"
#include "writes/relay.h"

namespace reel::writes {
namespace {

using redis::Command;

// A stand-in for a real write: the "state" of an object is one SQL row; the delta sets it in
// Redis from the row (as every delta must), and — on purpose, against the rule — also INCRBYs a
// counter, so a delta applied twice shows.
class WritePathTest : public testing::RedisSqlTest {
 protected:
  void SetUp() override {
    RedisSqlTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(db_->execute("CREATE TABLE state (object VARCHAR(64) PRIMARY KEY, value BIGINT)").ok());
  }

  std::function<Status(Transaction&)> set_state(std::string object, int64_t value) {
    const char* upsert =
        mariadb() ? "INSERT INTO state (object, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE value = ?"
                  : "INSERT INTO state (object, value) VALUES (?, ?) ON CONFLICT (object) DO UPDATE "
                    "SET value = ?";
    return [object, value, upsert](Transaction& tx) -> Status {
      if (Status locked = tx.lock(object); !locked.ok()) return locked;
      Result<int64_t> written = tx.db().execute(upsert, {object, value, value});
      if (!written.ok()) return written.error();
      tx.emit(object, {Command("SET", "state:" + object, value), Command("INCRBY", "applied:" + object, 1),
                       Command("RPUSH", "order:" + object, value)});
      return {};
    };
  }

  std::string get(redis::BlockingClient& client, const std::string& key) {
    auto reply = client.execute(Command("GET", key));
    EXPECT_TRUE(reply) << reply.error().message;
    return reply && !reply->is_nil() ? std::string(reply->str()) : "";
  }

  std::vector<std::string> order(redis::BlockingClient& client, const std::string& object) {
    auto reply = client.execute(Command("LRANGE", "order:" + object, 0, -1));
    EXPECT_TRUE(reply) << reply.error().message;
    std::vector<std::string> values;
    if (reply) {
      for (const auto& element : reply->elements()) values.emplace_back(element.str());
    }
    return values;
  }

  int64_t pending() {
    auto count = sql::OutboxStore(*db_).count_pending();
    EXPECT_TRUE(count) << count.error().message;
    return count ? *count : -1;
  }

  ManualClock clock_{1'900'000'000};
};

TEST_P(WritePathTest, AWriteLandsOnceAndTheRelayMarksIt) {
  auto landed = run_blocking(*db_, *redis_, set_state("video:7", 3), clock_.unix_seconds());
  ASSERT_TRUE(landed) << landed.error().message;
  EXPECT_TRUE(*landed);
  EXPECT_EQ(get(*redis_, "state:video:7"), "3");
  EXPECT_EQ(pending(), 1);  // the relay marks it, not the writer

  Relay relay(*db_, *redis_, clock_);
  auto relayed = relay.run_once();
  ASSERT_TRUE(relayed) << relayed.error().message;
  EXPECT_EQ(relayed->landed, 1);
  EXPECT_EQ(relayed->replayed, 0);
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(get(*redis_, "applied:video:7"), "1");  // the relay found it there and ran nothing
}

TEST_P(WritePathTest, AFailedWriteRecordsNothing) {
  auto failed = run_blocking(
      *db_, *redis_,
      [](Transaction& tx) -> Status {
        if (Status locked = tx.lock("video:7"); !locked.ok()) return locked;
        tx.emit("video:7", {Command("SET", "state:video:7", 1)});
        return Error{"refused", ErrorKind::invalid_input};
      },
      clock_.unix_seconds());
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "refused");
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(get(*redis_, "state:video:7"), "");
  // The sequence number was taken back with the transaction: the next write is #1 and lands.
  auto landed = run_blocking(*db_, *redis_, set_state("video:7", 4), clock_.unix_seconds());
  ASSERT_TRUE(landed) << landed.error().message;
  EXPECT_TRUE(*landed);
}

TEST_P(WritePathTest, ARelayThatDiedMidBatchLosesNothingAndCountsNothingTwice) {
  // Forty writes of two objects committed while Redis was unreachable from the writer: their rows
  // are pending. A relay applies the first half to Redis and dies before marking any of them.
  for (int i = 1; i <= 20; ++i) {
    for (const char* object : {"video:1", "user:2"}) {
      ASSERT_TRUE(commit_write(*db_, set_state(object, i), clock_.unix_seconds()));
    }
  }
  auto rows = sql::OutboxStore(*db_).pending(1000);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 40u);
  std::vector<Delta> half;
  for (size_t i = 0; i < 20; ++i) {
    auto commands = decode((*rows)[i].delta);
    ASSERT_TRUE(commands);
    half.push_back({(*rows)[i].object, (*rows)[i].seq, std::move(*commands)});
  }
  auto sent = redis_->execute(apply_commands(half, false, true));
  ASSERT_TRUE(sent);
  ASSERT_TRUE(all_landed(*sent));

  Relay relay(*db_, *redis_, clock_, {.batch = 7});
  auto relayed = relay.run_once();
  ASSERT_TRUE(relayed) << relayed.error().message;
  EXPECT_EQ(relayed->landed, 40);
  EXPECT_EQ(pending(), 0);
  for (const char* object : {"video:1", "user:2"}) {
    EXPECT_EQ(get(*redis_, std::string("state:") + object), "20");
    EXPECT_EQ(get(*redis_, std::string("applied:") + object), "20") << object;
    std::vector<std::string> expected;
    for (int i = 1; i <= 20; ++i) expected.push_back(std::to_string(i));
    EXPECT_EQ(order(*redis_, object), expected) << object;
  }
}

TEST_P(WritePathTest, ADeltaBehindAGapWaitsAndTheRelayAppliesTheObjectInOrder) {
  // #1 commits but never reaches Redis (the writer died); #2 reaches Redis first and must wait.
  ASSERT_TRUE(commit_write(*db_, set_state("playlist:5", 1), clock_.unix_seconds()));
  auto second = run_blocking(*db_, *redis_, set_state("playlist:5", 2), clock_.unix_seconds());
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  EXPECT_EQ(get(*redis_, "state:playlist:5"), "");

  Relay relay(*db_, *redis_, clock_);
  auto relayed = relay.run_once();
  ASSERT_TRUE(relayed) << relayed.error().message;
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(get(*redis_, "state:playlist:5"), "2");
  EXPECT_EQ(order(*redis_, "playlist:5"), (std::vector<std::string>{"1", "2"}));
}

TEST_P(WritePathTest, RedisThatLostAcknowledgedWritesIsReplayedFromItsWatermark) {
  Relay relay(*db_, *redis_, clock_);
  for (int i = 1; i <= 3; ++i) {
    auto landed = run_blocking(*db_, *redis_, set_state("video:9", i), clock_.unix_seconds());
    ASSERT_TRUE(landed && *landed);
  }
  ASSERT_TRUE(relay.run_once());
  EXPECT_EQ(pending(), 0);
  // A failover to a replica that had only #1: the watermark and the state are back at #1.
  const auto watermark = projection::keys::write_seq("video:9");
  ASSERT_TRUE(redis_->execute(Command("HSET", watermark.key, watermark.field, 1)));
  ASSERT_TRUE(redis_->execute(Command("SET", "state:video:9", 1)));
  ASSERT_TRUE(redis_->execute(Command("DEL", "order:video:9")));
  // The next write finds the gap; the relay replays #2 and #3 from the kept rows, then #4.
  auto fourth = run_blocking(*db_, *redis_, set_state("video:9", 4), clock_.unix_seconds());
  ASSERT_TRUE(fourth);
  EXPECT_FALSE(*fourth);
  auto relayed = relay.run_once();
  ASSERT_TRUE(relayed) << relayed.error().message;
  EXPECT_EQ(relayed->replayed, 3);
  EXPECT_EQ(get(*redis_, "state:video:9"), "4");
  EXPECT_EQ(order(*redis_, "video:9"), (std::vector<std::string>{"2", "3", "4"}));
}

TEST_P(WritePathTest, RowsGoneFromTheOutboxAreSteppedOver) {
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(commit_write(*db_, set_state("video:4", i), clock_.unix_seconds()));
  // #1 and #2 were applied long ago and purged; Redis lost them (its watermark is 0).
  ASSERT_TRUE(db_->execute("DELETE FROM outbox WHERE seq < 3").ok());
  Relay relay(*db_, *redis_, clock_);
  auto relayed = relay.run_once();
  ASSERT_TRUE(relayed) << relayed.error().message;
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(get(*redis_, "state:video:4"), "3");
}

TEST_P(WritePathTest, RedisKilledBetweenCommitAndDeltaConvergesOnceItIsBack) {
  testing::TempDir dir;
  auto port = redis::pick_free_port("127.0.0.1");
  ASSERT_TRUE(port);
  redis::RedisServerOptions options{.dir = dir.path().string(), .port = *port};
  auto server = redis::RedisServer::start(options);
  ASSERT_TRUE(server) << server.error().message;
  redis::ConnectionOptions connection;
  connection.endpoint = server->endpoint();
  auto client = redis::BlockingClient::connect(connection);
  ASSERT_TRUE(client) << client.error().message;

  auto first = run_blocking(*db_, *client, set_state("video:8", 1), clock_.unix_seconds());
  ASSERT_TRUE(first && *first);
  ASSERT_EQ(::kill(server->pid(), SIGKILL), 0);
  EXPECT_FALSE(server->stop().ok());  // reaped; it did not exit cleanly
  // Committed while Redis is dead: durable in SQL, not landed.
  for (int value = 2; value <= 4; ++value) {
    auto written = run_blocking(*db_, *client, set_state("video:8", value), clock_.unix_seconds());
    ASSERT_TRUE(written) << written.error().message;
    EXPECT_FALSE(*written);
  }
  auto revived = redis::RedisServer::start(options);  // same directory and port: it replays its AOF
  ASSERT_TRUE(revived) << revived.error().message;
  // The relay runs every second in production; here until the client has reconnected.
  Relay relay(*db_, *client, clock_);
  Result<RelayStats> relayed = Error{"not run"};
  EXPECT_TRUE(testing::eventually([&] { return (relayed = relay.run_once()).ok(); }))
      << relayed.error().message;
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(get(*client, "state:video:8"), "4");
  EXPECT_EQ(get(*client, "applied:video:8"), "4");  // each write once, #1 included
  EXPECT_EQ(order(*client, "video:8"), (std::vector<std::string>{"1", "2", "3", "4"}));
  EXPECT_TRUE(revived->stop().ok());
}

TEST_P(WritePathTest, AppliedRowsArePurgedAfterTheRetention) {
  ASSERT_TRUE(run_blocking(*db_, *redis_, set_state("video:3", 1), clock_.unix_seconds()));
  Relay relay(*db_, *redis_, clock_, {.retention = std::chrono::seconds(60)});
  ASSERT_TRUE(relay.run_once());
  auto kept = db_->query_all("SELECT COUNT(*) FROM outbox");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->front().integer(0), 1);
  clock_.advance(std::chrono::seconds(61));
  ASSERT_TRUE(relay.run_once());
  kept = db_->query_all("SELECT COUNT(*) FROM outbox");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->front().integer(0), 0);
}

TEST_P(WritePathTest, ADeltaCanDeleteTheKeysASetNames) {
  ASSERT_TRUE(redis_->execute({Command("SADD", "sessions", "a", "b"), Command("SET", "s:a", 1),
                               Command("SET", "s:b", 1), Command("SET", "s:c", 1)}));
  auto landed = run_blocking(
      *db_, *redis_,
      [](Transaction& tx) -> Status {
        if (Status locked = tx.lock("user:1"); !locked.ok()) return locked;
        tx.emit("user:1", {Command(projection::codec::delete_members_op, "sessions", "s:")});
        return {};
      },
      clock_.unix_seconds());
  ASSERT_TRUE(landed && *landed);
  EXPECT_EQ(get(*redis_, "s:a"), "");
  EXPECT_EQ(get(*redis_, "s:b"), "");
  EXPECT_EQ(get(*redis_, "s:c"), "1");
  auto members = redis_->execute(Command("EXISTS", "sessions"));
  ASSERT_TRUE(members);
  EXPECT_EQ(members->integer(), 0);
}

TEST_P(WritePathTest, ADeltaCanRunCommandsOnlyWhileAKeyExists) {
  ASSERT_TRUE(redis_->execute(Command("SET", "present", 1)));
  auto landed = run_blocking(
      *db_, *redis_,
      [](Transaction& tx) -> Status {
        if (Status locked = tx.lock("video:1"); !locked.ok()) return locked;
        tx.emit("video:1", {Command(projection::codec::if_exists_op, "absent", 2), Command("SET", "a", 1),
                            Command("SET", "b", 1), Command("SET", "c", 1),
                            Command(projection::codec::if_exists_op, "present", 1), Command("SET", "d", 1)});
        return {};
      },
      clock_.unix_seconds());
  ASSERT_TRUE(landed && *landed);
  EXPECT_EQ(get(*redis_, "a"), "");  // skipped: "absent" does not exist
  EXPECT_EQ(get(*redis_, "b"), "");
  EXPECT_EQ(get(*redis_, "c"), "1");  // past the guard's two commands
  EXPECT_EQ(get(*redis_, "d"), "1");
}

// A site with a sessions node ([redis] sessions): a write's deltas of the sessions class (a user's
// sessions object) go there, with their watermarks, and the rest to the main Redis. The sessions
// node killed before the second step: the main delta lands, the sessions one waits in the outbox
// (the relay lands the main node's rows meanwhile) and lands there, once, when the node is back.
TEST_P(WritePathTest, SessionsDeltasLandOnTheSessionsNodeAndWaitForIt) {
  const std::string user = "user:5";
  const std::string sessions = projection::account_keys::sessions_object(5);
  ASSERT_TRUE(on_sessions_node(sessions));
  ASSERT_FALSE(on_sessions_node(user));
  testing::TempDir dir;
  auto port = redis::pick_free_port("127.0.0.1");
  ASSERT_TRUE(port);
  redis::RedisServerOptions node_options{.dir = dir.path().string(), .port = *port};
  auto node = redis::RedisServer::start(node_options);
  ASSERT_TRUE(node) << node.error().message;
  redis::ConnectionOptions node_connection;
  node_connection.endpoint = node->endpoint();
  auto node_client = redis::BlockingClient::connect(node_connection);
  ASSERT_TRUE(node_client) << node_client.error().message;

  asio::io_context io;
  redis::Connection main(io.get_executor(), connection_options());
  redis::Connection on_node(io.get_executor(), node_connection);
  main.start();
  on_node.start();
  auto pool = sql::Pool::open({sql_url_}, 1);
  ASSERT_TRUE(pool) << pool.error().message;
  WritePath path(**pool, main, clock_, nullptr, {}, &on_node);
  auto write = [&](int64_t value) {
    std::function<Status(Transaction&)> user_write = set_state(user, value);
    std::function<Status(Transaction&)> sessions_write = set_state(sessions, value);
    std::function<Result<bool>(Transaction&)> both = [user_write,
                                                      sessions_write](Transaction& tx) -> Result<bool> {
      if (Status written = user_write(tx); !written.ok()) return written.error();
      if (Status written = sessions_write(tx); !written.ok()) return written.error();
      return true;
    };
    std::optional<Result<Written<bool>>> out;
    auto run = [&]() -> Task<void> { out.emplace(co_await path.run<bool>(std::move(both))); };
    asio::co_spawn(io, run(), asio::detached);
    EXPECT_TRUE(testing::run_until(io, [&] { return out.has_value(); }));
    EXPECT_TRUE(out && *out) << (out ? out->error().message : "no answer");
    return out && *out && (*out)->landed;
  };

  EXPECT_TRUE(write(1));
  EXPECT_EQ(get(*redis_, "state:" + user), "1");
  EXPECT_EQ(get(*node_client, "state:" + sessions), "1");
  EXPECT_EQ(get(*redis_, "state:" + sessions), "") << "nothing of the sessions class on the main node";
  EXPECT_EQ(get(*node_client, "state:" + user), "");
  const projection::keys::HashField watermark = projection::keys::write_seq(sessions);
  auto on_main = redis_->execute(Command("HGET", watermark.key, watermark.field));
  ASSERT_TRUE(on_main);
  EXPECT_TRUE(on_main->is_nil()) << "the sessions object's watermark lives on its node";

  ASSERT_EQ(::kill(node->pid(), SIGKILL), 0);
  EXPECT_FALSE(node->stop().ok());
  EXPECT_FALSE(write(2)) << "the second step could not land";
  EXPECT_EQ(get(*redis_, "state:" + user), "2") << "the first did";
  Relay relay(*db_, *redis_, clock_, {.sessions = &*node_client});
  EXPECT_FALSE(relay.run_once().ok()) << "the sessions node is down";
  // The writer marks nothing: of the four rows the relay found, the main node's two are marked.
  EXPECT_EQ(pending(), 2) << "the main node's rows landed anyway; the sessions rows wait";

  auto revived = redis::RedisServer::start(node_options);  // same directory and port: it replays its AOF
  ASSERT_TRUE(revived) << revived.error().message;
  Result<RelayStats> relayed = Error{"not run"};
  EXPECT_TRUE(testing::eventually([&] { return (relayed = relay.run_once()).ok(); }))
      << relayed.error().message;
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(get(*node_client, "state:" + sessions), "2");
  EXPECT_EQ(get(*node_client, "applied:" + sessions), "2");  // each once
  EXPECT_EQ(get(*redis_, "state:" + sessions), "");
  (*pool)->stop();
  main.stop();
  on_node.stop();
  EXPECT_TRUE(revived->stop().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, WritePathTest, sql::testing::all_backends(),
                         sql::testing::backend_test_name);

// Writes that SQL gives up for a concurrent one: a deadlock and a lock wait timeout on MariaDB, the
// write lock staying busy on SQLite.
class ConflictTest : public WritePathTest {
 protected:
  // Locks `first`, then (on its first attempt, once the other writer holds its own first lock)
  // `second`; emits a non-idempotent INCRBY and the writer's name for both, so a delta of a failed
  // attempt that landed would show. `attempts` counts the runs.
  static std::function<Status(Transaction&)> crossed(std::string first, std::string second, std::string name,
                                                     std::atomic<int>& holding, std::atomic<int>& attempts) {
    return [first, second, name, &holding, &attempts](Transaction& tx) -> Status {
      const bool first_attempt = ++attempts == 1;
      if (Status locked = tx.lock(first); !locked.ok()) return locked;
      if (first_attempt) {
        ++holding;
        if (!testing::eventually([&] { return holding.load() == 2; }))
          return Error{"the other writer never came"};
      }
      if (Status locked = tx.lock(second); !locked.ok()) return locked;
      for (const std::string& object : {first, second})
        tx.emit(object,
                {Command("INCRBY", "applied:" + object, 1), Command("RPUSH", "order:" + object, name)});
      return {};
    };
  }

  struct Crossed {
    Result<bool> a = Error{"not run"}, b = Error{"not run"};
    int attempts_a = 0, attempts_b = 0;
  };

  // Writer a locks video:1 then video:2, writer b the other way round, each on its own connections.
  Crossed run_crossed(const RetryPolicy& retry) {
    std::atomic<int> holding{0}, attempts_a{0}, attempts_b{0};
    Crossed out;
    auto writer = [&](std::function<Status(Transaction&)> write, Result<bool>& result) {
      auto db = sql::open({sql_url_});
      auto redis = redis::BlockingClient::connect(connection_options());
      if (!db || !redis) return;
      result = run_blocking(**db, *redis, write, clock_.unix_seconds(), retry);
    };
    std::thread a(writer, crossed("video:1", "video:2", "a", holding, attempts_a), std::ref(out.a));
    std::thread b(writer, crossed("video:2", "video:1", "b", holding, attempts_b), std::ref(out.b));
    a.join();
    b.join();
    out.attempts_a = attempts_a.load();
    out.attempts_b = attempts_b.load();
    return out;
  }

  void converge() {
    Relay relay(*db_, *redis_, clock_);
    EXPECT_TRUE(testing::eventually([&] { return relay.run_once().ok() && pending() == 0; }));
  }
};

using MariadbConflictTest = ConflictTest;
using SqliteConflictTest = ConflictTest;

TEST_P(MariadbConflictTest, ADeadlockVictimRunsAgainAndOnlyItsLastAttemptCounts) {
  Crossed crossed = run_crossed({});
  ASSERT_TRUE(crossed.a) << crossed.a.error().message;
  ASSERT_TRUE(crossed.b) << crossed.b.error().message;
  EXPECT_EQ(crossed.attempts_a + crossed.attempts_b, 3);  // one of them was the deadlock's victim
  converge();
  for (const char* object : {"video:1", "video:2"}) {
    EXPECT_EQ(get(*redis_, std::string("applied:") + object), "2") << object;
    std::vector<std::string> names = order(*redis_, object);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"a", "b"})) << object;
  }
  auto rows = db_->query_all("SELECT object, seq FROM outbox ORDER BY object, seq");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 4u);  // the victim's first attempt left nothing
  EXPECT_EQ((*rows)[1].integer(1), 2);
  EXPECT_EQ((*rows)[3].integer(1), 2);
}

// The same through WritePath::run on an event loop, its writes on a pool of two SQL threads: the
// victim is run again on its pool thread and the write path counts the re-run.
TEST_P(MariadbConflictTest, TheWritePathOnAnEventLoopRunsTheDeadlockVictimAgain) {
  asio::io_context io;
  redis::Connection connection(io.get_executor(), connection_options());
  connection.start();
  auto pool = sql::Pool::open({sql_url_}, 2);
  ASSERT_TRUE(pool) << pool.error().message;
  WritePath path(**pool, connection, clock_);
  std::atomic<int> holding{0}, attempts_a{0}, attempts_b{0};
  std::optional<Result<Written<bool>>> a, b;
  auto run = [&path](std::function<Status(Transaction&)> write,
                     std::optional<Result<Written<bool>>>& out) -> Task<void> {
    std::function<Result<bool>(Transaction&)> valued = [write](Transaction& tx) -> Result<bool> {
      if (Status written = write(tx); !written.ok()) return written.error();
      return true;
    };
    out.emplace(co_await path.run<bool>(std::move(valued)));
  };
  asio::co_spawn(io, run(crossed("video:1", "video:2", "a", holding, attempts_a), a), asio::detached);
  asio::co_spawn(io, run(crossed("video:2", "video:1", "b", holding, attempts_b), b), asio::detached);
  EXPECT_TRUE(testing::run_until(io, [&] { return a && b; }));
  (*pool)->stop();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(*a) << a->error().message;
  ASSERT_TRUE(*b) << b->error().message;
  EXPECT_EQ(attempts_a.load() + attempts_b.load(), 3);
  EXPECT_EQ(path.stats().writes, 2u);
  EXPECT_EQ(path.stats().retried, 1u);
  converge();
  for (const char* object : {"video:1", "video:2"})
    EXPECT_EQ(get(*redis_, std::string("applied:") + object), "2") << object;
}

TEST_P(MariadbConflictTest, WithoutRetriesTheDeadlockVictimFailsAsAConflict) {
  Crossed crossed = run_crossed({.attempts = 1});
  ASSERT_NE(crossed.a.ok(), crossed.b.ok()) << "exactly one write is the deadlock's victim";
  const Error& error = crossed.a.ok() ? crossed.b.error() : crossed.a.error();
  EXPECT_TRUE(error.conflict) << error.message;
  EXPECT_EQ(error.kind, ErrorKind::internal);
  EXPECT_NE(error.message.find("Deadlock"), std::string::npos) << error.message;
}

TEST_P(MariadbConflictTest, ALockWaitTimeoutRunsTheWriteAgain) {
  // Another transaction holds video:5 until the write has timed out once.
  auto holder = sql::open({sql_url_});
  ASSERT_TRUE(holder) << holder.error().message;
  ASSERT_TRUE((*holder)->begin());
  ASSERT_TRUE(sql::OutboxStore(**holder).next_seq("video:5"));
  auto db = sql::open({sql_url_});
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE((*db)->execute_script("SET SESSION innodb_lock_wait_timeout = 1").ok());
  std::atomic<int> attempts{0};
  Result<bool> written = Error{"not run"};
  const std::function<Status(Transaction&)> write = set_state("video:5", 7);
  std::thread writer([&] {
    written = run_blocking(**db, *redis_,
                           [&](Transaction& tx) {
                             ++attempts;
                             return write(tx);
                           },
                           clock_.unix_seconds(), {.attempts = 20});
  });
  EXPECT_TRUE(testing::eventually([&] { return attempts.load() >= 2; }));
  EXPECT_TRUE((*holder)->rollback());
  writer.join();
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_TRUE(*written);
  EXPECT_EQ(get(*redis_, "state:video:5"), "7");
  EXPECT_EQ(get(*redis_, "applied:video:5"), "1");
}

TEST_P(SqliteConflictTest, ABusyDatabaseRunsTheWriteAgain) {
  // Another connection holds SQLite's write lock past the busy timeout (5 s) of the first attempt.
  auto holder = sql::open({sql_url_});
  ASSERT_TRUE(holder) << holder.error().message;
  ASSERT_TRUE((*holder)->begin());
  auto db = sql::open({sql_url_});
  ASSERT_TRUE(db) << db.error().message;
  std::atomic<uint64_t> retried{0};
  Result<std::vector<Delta>> committed = Error{"not run"};
  std::thread writer(
      [&] { committed = commit_write(**db, set_state("video:6", 3), clock_.unix_seconds(), {}, &retried); });
  EXPECT_TRUE(testing::eventually([&] { return retried.load() >= 1; }));
  EXPECT_TRUE((*holder)->rollback());
  writer.join();
  ASSERT_TRUE(committed) << committed.error().message;
  ASSERT_EQ(committed->size(), 1u);
  EXPECT_EQ(committed->front().seq, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, MariadbConflictTest, ::testing::Values(sql::testing::Backend::mariadb),
                         sql::testing::backend_test_name);
INSTANTIATE_TEST_SUITE_P(Backends, SqliteConflictTest, ::testing::Values(sql::testing::Backend::sqlite),
                         sql::testing::backend_test_name);

TEST(DeltaCodec, RoundTripsAnyBytes) {
  std::vector<Command> commands{Command("HSET", "k", std::string("a\0:b\n", 5), "12:x"), Command("DEL", "")};
  auto decoded = decode(encode(commands));
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].args(), commands[0].args());
  EXPECT_EQ((*decoded)[1].args(), commands[1].args());
  EXPECT_FALSE(decode("3:abc"));
  EXPECT_FALSE(decode("1:2"));
  EXPECT_FALSE(decode("99999999999:x"));
}

TEST(TransactionObjects, OnlyClassColonIdNamesAnObject) {
  EXPECT_TRUE(Transaction::valid_object("video:12"));
  EXPECT_FALSE(Transaction::valid_object("video:"));
  EXPECT_FALSE(Transaction::valid_object("Video:1"));
  EXPECT_FALSE(Transaction::valid_object("video:1x"));
  EXPECT_FALSE(Transaction::valid_object(":1"));
}

}  // namespace
}  // namespace reel::writes
