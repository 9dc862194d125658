// The write path against a real redis-server and SQLite: deltas land once and in order per object,
// and the relay brings Redis in step after Redis was down between commit and apply, after a relay
// died mid-batch, and after Redis lost writes it had acknowledged.
#include "writes/write_path.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "common/clock.h"
#include "projection/codec.h"
#include "projection/keys.h"
#include "redis/server.h"
#include "sql/outbox_store.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/redis_sqlite_test.h"
#include "writes/apply.h"
#include "writes/delta_codec.h"
#include "writes/relay.h"

namespace reel::writes {
namespace {

using redis::Command;

// A stand-in for a real write: the "state" of an object is one SQL row; the delta sets it in
// Redis from the row (as every delta must), and — on purpose, against the rule — also INCRBYs a
// counter, so a delta applied twice shows.
class WritePathTest : public testing::RedisSqliteTest {
 protected:
  void SetUp() override {
    RedisSqliteTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(db_->execute("CREATE TABLE state (object TEXT PRIMARY KEY, value INTEGER)").ok());
  }

  std::function<Status(Transaction&)> set_state(std::string object, int64_t value) {
    return [object, value](Transaction& tx) -> Status {
      if (Status locked = tx.lock(object); !locked.ok()) return locked;
      Result<int64_t> written = tx.db().execute(
          "INSERT INTO state (object, value) VALUES (?, ?) ON CONFLICT (object) DO UPDATE SET value = ?",
          {object, value, value});
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

TEST_F(WritePathTest, AWriteLandsOnceAndTheRelayMarksIt) {
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

TEST_F(WritePathTest, AFailedWriteRecordsNothing) {
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

TEST_F(WritePathTest, ARelayThatDiedMidBatchLosesNothingAndCountsNothingTwice) {
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

TEST_F(WritePathTest, ADeltaBehindAGapWaitsAndTheRelayAppliesTheObjectInOrder) {
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

TEST_F(WritePathTest, RedisThatLostAcknowledgedWritesIsReplayedFromItsWatermark) {
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

TEST_F(WritePathTest, RowsGoneFromTheOutboxAreSteppedOver) {
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

TEST_F(WritePathTest, RedisKilledBetweenCommitAndDeltaConvergesOnceItIsBack) {
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

TEST_F(WritePathTest, AppliedRowsArePurgedAfterTheRetention) {
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

TEST_F(WritePathTest, ADeltaCanDeleteTheKeysASetNames) {
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

TEST_F(WritePathTest, ADeltaCanRunCommandsOnlyWhileAKeyExists) {
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
