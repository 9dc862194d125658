// The Redis client against a real redis-server started with RedisServer.
#include <gtest/gtest.h>

#include "support/fixtures.h"
#include "support/http_client.h"  // eventually
#include "support/suite_redis.h"

// Boost 1.74's Asio headers need <utility> first, which common/asio.h provides.
#include "common/asio.h"
// The rest of Asio that this file uses:
#include <cstdlib>
#include <filesystem>

#include "process/child.h"
#include "redis/blocking_client.h"
#include "redis/client.h"
#include "redis/connection.h"
#include "redis/script.h"
#include "redis/server.h"
#include "support/event_loop.h"

namespace reel::redis {
namespace {

using reel::testing::run_task;
using reel::testing::run_until;
using namespace std::chrono_literals;

RedisServer start_server(const std::string& dir, uint16_t port = 0) {
  RedisServerOptions options;
  options.dir = dir;
  options.port = port;
  auto server = RedisServer::start(options);
  if (!server) ADD_FAILURE() << server.error().message;
  return std::move(server).value();
}

ConnectionOptions options_for(const RedisServer& server) {
  ConnectionOptions options;
  options.endpoint = server.endpoint();
  options.connect_backoff_min = 10ms;
  options.connect_backoff_max = 100ms;
  // Far above what a loaded machine may take, and above run_task's limit: a call that fails does
  // so for the reason the test names, never because it waited this out.
  options.command_timeout = std::chrono::minutes(10);
  return options;
}

// One redis-server for the suite (starting and stopping one takes seconds); each test flushes it.
class RedisIntegration : public reel::testing::RedisSuiteTest {
 protected:
  void SetUp() override {
    RedisSuiteTest::SetUp();
    if (HasFatalFailure()) return;
    connection_.emplace(io_.get_executor(), options_for(server()));
    connection_->start();
    auto flushed = run_task(io_, connection_->execute(Command("FLUSHALL")));
    ASSERT_TRUE(flushed && flushed->ok());
  }

  Result<std::vector<Reply>> execute(std::vector<Command> commands) {
    auto result = run_task(io_, connection_->execute(std::move(commands)));
    if (!result) return Error{"did not finish"};
    return std::move(*result);
  }

  asio::io_context io_{1};
  std::optional<Connection> connection_;
};

TEST_F(RedisIntegration, SetGetSortedSetsAndMgetWithNil) {
  const uint64_t round_trips_before = connection_->stats().round_trips;
  auto replies =
      execute({Command("SET", "greeting", "hello"), Command("GET", "greeting"),
               Command("ZADD", "list", 1, "a", 3, "c", 2, "b"),
               Command("ZREVRANGE", "list", 0, -1, "WITHSCORES"), Command("MGET", "greeting", "absent")});
  ASSERT_TRUE(replies.ok()) << replies.error().message;
  const auto& r = replies.value();
  EXPECT_EQ(r[0].str(), "OK");
  EXPECT_EQ(r[1].str(), "hello");
  EXPECT_EQ(r[2].integer(), 3);
  ASSERT_EQ(r[3].elements().size(), 6u);
  EXPECT_EQ(r[3].elements()[0].str(), "c");
  EXPECT_EQ(r[3].elements()[1].number(), 3.0);
  EXPECT_EQ(r[3].elements()[4].str(), "a");
  ASSERT_EQ(r[4].elements().size(), 2u);
  EXPECT_EQ(r[4].elements()[0].str(), "hello");
  EXPECT_TRUE(r[4].elements()[1].is_nil());
  EXPECT_EQ(connection_->stats().round_trips, round_trips_before + 1);
}

TEST_F(RedisIntegration, ErrorRepliesAreValues) {
  auto replies = execute({Command("SET", "s", "text"), Command("INCR", "s"), Command("GET", "s")});
  ASSERT_TRUE(replies.ok());
  EXPECT_TRUE(replies.value()[1].is_error());
  EXPECT_EQ(replies.value()[2].str(), "text");
}

TEST_F(RedisIntegration, MultiExecRunsAtomically) {
  auto replies =
      execute({Command("MULTI"), Command("INCR", "n"), Command("INCRBY", "n", 10), Command("EXEC")});
  ASSERT_TRUE(replies.ok());
  const Reply& exec = replies.value()[3];
  ASSERT_EQ(exec.elements().size(), 2u);
  EXPECT_EQ(exec.elements()[0].integer(), 1);
  EXPECT_EQ(exec.elements()[1].integer(), 11);
}

TEST_F(RedisIntegration, ConcurrentCallersArePipelinedIntoFewRoundTrips) {
  const uint64_t round_trips_before = connection_->stats().round_trips;
  constexpr int callers = 100;
  std::vector<std::optional<Result<Reply>>> results(callers);
  for (int i = 0; i < callers; ++i) {
    asio::co_spawn(
        io_,
        [](Connection& c, int n, std::optional<Result<Reply>>& out) -> Task<void> {
          out.emplace(co_await c.execute(Command("INCRBY", "counter", n)));
        }(*connection_, i, results[i]),
        asio::detached);
  }
  ASSERT_TRUE(run_until(io_, [&] {
    for (const auto& r : results) {
      if (!r) return false;
    }
    return true;
  }));
  for (const auto& r : results) ASSERT_TRUE(r->ok());
  // All 100 were queued before the writer ran, so they went out in one write.
  EXPECT_EQ(connection_->stats().round_trips, round_trips_before + 1);
  auto total = execute({Command("GET", "counter")});
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(total.value()[0].integer(), callers * (callers - 1) / 2);
}

TEST_F(RedisIntegration, ScriptUsesEvalshaAndFallsBackToEvalAfterScriptFlush) {
  const Script script("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])");
  auto loaded = execute({Command("SCRIPT", "LOAD", script.source())});
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.value()[0].str(), script.sha1());

  ASSERT_TRUE(execute({Command("SCRIPT", "FLUSH")}).ok());
  const uint64_t before_fallback = connection_->stats().round_trips;
  auto first = run_task(io_, script.run(*connection_, {"k"}, {"v1"}));
  ASSERT_TRUE(first && first->ok()) << (first ? first->error().message : "");
  EXPECT_EQ((*first)->str(), "v1");
  EXPECT_EQ(connection_->stats().round_trips, before_fallback + 2);  // NOSCRIPT, then EVAL

  const uint64_t before_cached = connection_->stats().round_trips;
  auto second = run_task(io_, script.run(*connection_, {"k"}, {"v2"}));
  ASSERT_TRUE(second && second->ok());
  EXPECT_EQ((*second)->str(), "v2");
  EXPECT_EQ(connection_->stats().round_trips, before_cached + 1);  // EVAL cached it again

  auto failing = run_task(io_, Script("return redis.error_reply('no way')").run(*connection_, {}, {}));
  ASSERT_TRUE(failing && failing->ok());
  EXPECT_TRUE((*failing)->is_error());
}

TEST_F(RedisIntegration, ClientReaderFallsBackToTheWriter) {
  Client client(io_.get_executor(), ClientOptions{.write = options_for(server()), .read = std::nullopt});
  client.start();
  EXPECT_EQ(&client.reader(), &client.writer());
  auto reply = run_task(io_, client.reader().execute(Command("PING")));
  ASSERT_TRUE(reply && reply->ok());
  EXPECT_EQ((*reply)->str(), "PONG");
  client.stop();
}

TEST_F(RedisIntegration, ClientWithAReplicaReadsThroughItsOwnConnection) {
  Client client(io_.get_executor(),
                ClientOptions{.write = options_for(server()), .read = options_for(server())});
  client.start();
  EXPECT_NE(&client.reader(), &client.writer());
  auto written = run_task(io_, client.writer().execute(Command("SET", "k", "v")));
  ASSERT_TRUE(written && written->ok());
  auto read = run_task(io_, client.reader().execute(Command("GET", "k")));
  ASSERT_TRUE(read && read->ok());
  EXPECT_EQ((*read)->str(), "v");
  EXPECT_EQ(client.writer().stats().commands, 1u);
  EXPECT_EQ(client.reader().stats().commands, 1u);
}

TEST_F(RedisIntegration, BlockingClientSendsAFiftyThousandCommandBatchInOneRoundTrip) {
  auto client = BlockingClient::connect(options_for(server()));
  ASSERT_TRUE(client.ok()) << client.error().message;
  constexpr int count = 50000;
  std::vector<Command> writes;
  writes.reserve(count);
  for (int i = 0; i < count; ++i) writes.emplace_back("ZADD", "big", i, "member:" + std::to_string(i));
  const uint64_t before = client->stats().round_trips;
  auto replies = client->execute(std::move(writes));
  ASSERT_TRUE(replies.ok()) << replies.error().message;
  ASSERT_EQ(replies->size(), static_cast<size_t>(count));
  for (const Reply& r : *replies) ASSERT_EQ(r.integer(), 1);
  EXPECT_EQ(client->stats().round_trips, before + 1);

  auto card = client->execute(Command("ZCARD", "big"));
  ASSERT_TRUE(card.ok());
  EXPECT_EQ(card->integer(), count);
}

TEST(RedisServerRestart, ConnectionFailsFastWhileDownAndReconnectsByItself) {
  reel::testing::TempDir dir;
  std::optional<RedisServer> server(start_server(dir.path()));
  const Endpoint endpoint = server->endpoint();
  asio::io_context io(1);
  Connection connection(io.get_executor(), options_for(*server));
  connection.start();
  auto set = run_task(io, connection.execute(Command("SET", "durable", "yes")));
  ASSERT_TRUE(set && set->ok());

  ASSERT_TRUE(server->stop().ok());
  // Fails at once: run_task's limit is far below the command timeout, which it never waits for.
  auto while_down = run_task(io, connection.execute(Command("GET", "durable")));
  ASSERT_TRUE(while_down.has_value());
  ASSERT_FALSE(while_down->ok());
  EXPECT_EQ(while_down->error().message.find("timed out"), std::string::npos) << while_down->error().message;
  auto still_down = run_task(io, connection.execute(Command("GET", "durable")));
  ASSERT_TRUE(still_down.has_value());
  ASSERT_FALSE(still_down->ok());
  EXPECT_TRUE(still_down->error().message.starts_with("redis unavailable")) << still_down->error().message;

  server.reset();
  server.emplace(start_server(dir.path(), endpoint.port));
  ASSERT_TRUE(run_until(io, [&] { return connection.connected(); }));
  auto get = run_task(io, connection.execute(Command("GET", "durable")));
  ASSERT_TRUE(get && get->ok()) << (get ? get->error().message : "");
  EXPECT_EQ((*get)->str(), "yes");  // the append-only file survived the restart
  EXPECT_EQ(connection.stats().reconnects, 1u);
}

TEST(RedisServerStart, MissingExecutableIsAnError) {
  reel::testing::TempDir dir;
  RedisServerOptions options;
  options.dir = dir.path();
  options.executable = "reel-no-such-redis-server";
  auto server = RedisServer::start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().message.find("reel-no-such-redis-server"), std::string::npos);
}

TEST(RedisServerStart, BadConfigurationIsAnErrorWithTheLog) {
  reel::testing::TempDir dir;
  RedisServerOptions options;
  options.dir = dir.path();
  options.extra_config_lines = {"no-such-directive yes"};
  auto server = RedisServer::start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().message.find("no-such-directive"), std::string::npos) << server.error().message;
}

}  // namespace
}  // namespace reel::redis

namespace reel::redis {
namespace {

TEST_F(RedisIntegration, StartRefusesAPortAnotherRedisServerAlreadyServes) {
  reel::testing::TempDir other;
  RedisServerOptions options;
  options.dir = other.path();
  options.port = server().endpoint().port;
  auto second = RedisServer::start(options);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("already served by another redis-server (pid " +
                                        std::to_string(server().pid()) + ")"),
            std::string::npos)
      << second.error().message;
}

// A redis-server left running on a data dir's own config (its parent crashed) is shut down and
// replaced, keeping what it had written; it is not refused as a stranger.
TEST(RedisServerStart, ReplacesTheOrphanOfItsOwnDirectory) {
  reel::testing::TempDir dir;
  const uint16_t port = reel::testing::free_port();
  { start_server(dir.path(), port); }  // writes dir/redis.conf for this port
  auto orphan = process::Child::spawn({.argv = {"redis-server", (dir.path() / "redis.conf").string()},
                                       .working_dir = dir.path().string(),
                                       .own_process_group = true});
  ASSERT_TRUE(orphan) << orphan.error().message;
  ConnectionOptions probe;
  probe.endpoint = Endpoint{"127.0.0.1", port};
  ASSERT_TRUE(reel::testing::eventually([&] { return BlockingClient::connect(probe).ok(); }));
  {
    auto client = BlockingClient::connect(probe);
    ASSERT_TRUE(client);
    ASSERT_TRUE(client->execute(Command("SET", "left", "behind")));
  }

  RedisServer server = start_server(dir.path(), port);
  EXPECT_NE(server.pid(), orphan->pid());
  auto exited = orphan->wait_for(std::chrono::seconds(60));
  ASSERT_TRUE(exited) << "the orphan is still running";
  auto client = BlockingClient::connect(probe);
  ASSERT_TRUE(client);
  auto value = client->execute(Command("GET", "left"));
  ASSERT_TRUE(value);
  EXPECT_EQ(value->str(), "behind");
}

}  // namespace
}  // namespace reel::redis
