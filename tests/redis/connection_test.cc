// Connection against a scripted peer: exact bytes on the wire, pipelining, timeouts, reconnects.
#include "redis/connection.h"

#include <gtest/gtest.h>

#include "common/asio.h"
#include "redis/protocol.h"
#include "redis/scripted_peer.h"
#include "support/event_loop.h"

namespace reel::redis {
namespace {

using namespace std::string_literals;
using reel::testing::run_task;
using reel::testing::run_until;
using testing::ScriptedPeer;
using Step = ScriptedPeer::Step;
using Then = ScriptedPeer::Then;

std::string resp(const std::vector<Command>& commands) {
  std::string out;
  for (const auto& c : commands) EXPECT_TRUE(append_command(out, c).ok());
  return out;
}

ConnectionOptions options_for(const ScriptedPeer& peer) {
  ConnectionOptions options;
  options.endpoint = peer.endpoint();
  options.connect_backoff_min = std::chrono::milliseconds(5);
  options.connect_backoff_max = std::chrono::milliseconds(20);
  // Far above what a loaded machine may take, and above run_task's limit: a call that fails does
  // so for the reason the test names, never because it waited this out.
  options.command_timeout = std::chrono::minutes(10);
  return options;
}

// Runs `batch` on `connection` as its own coroutine and stores the outcome in `out`.
void spawn_execute(asio::io_context& io, Connection& connection, std::vector<Command> batch,
                   std::optional<Result<std::vector<Reply>>>& out) {
  asio::co_spawn(
      io,
      [](Connection& c, std::vector<Command> b, std::optional<Result<std::vector<Reply>>>& o) -> Task<void> {
        o.emplace(co_await c.execute(std::move(b)));
      }(connection, std::move(batch), out),
      asio::detached);
}

class ConnectionTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(peer_.failures().empty()) << peer_.failures().front(); }

  asio::io_context io_{1};
  ScriptedPeer peer_{io_};
};

TEST_F(ConnectionTest, SendsExactBytesAndReturnsEveryReplyTypeAsValues) {
  peer_.serve({{
      .expect = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0b\r\n\r\n"
                "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
                "*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n"
                "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
                "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n"
                "*1\r\n$4\r\nNOPE\r\n"s,
      .reply = "+OK\r\n"
               "$5\r\na\0b\r\n\r\n"
               "$-1\r\n"
               ":42\r\n"
               "*3\r\n$1\r\nx\r\n*2\r\n:1\r\n$-1\r\n*0\r\n"
               "-ERR unknown command 'NOPE'\r\n"s,
  }});
  Connection connection(io_.get_executor(), options_for(peer_));
  connection.start();  // execute() right away: it waits for the first connect

  auto replies = run_task(io_, connection.execute({Command("SET", "k", "a\0b\r\n"s), Command("GET", "k"),
                                                   Command("GET", "missing"), Command("INCR", "n"),
                                                   Command("LRANGE", "l", 0, -1), Command("NOPE")}));
  ASSERT_TRUE(replies && replies->ok()) << (replies ? replies->error().message : "");
  const std::vector<Reply>& r = replies->value();
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].type(), Reply::Type::status);
  EXPECT_EQ(r[0].str(), "OK");
  EXPECT_EQ(r[1].str(), "a\0b\r\n"s);
  EXPECT_TRUE(r[2].is_nil());
  EXPECT_EQ(r[3].integer(), 42);
  ASSERT_TRUE(r[4].is_array());
  ASSERT_EQ(r[4].elements().size(), 3u);
  EXPECT_EQ(r[4].elements()[0].str(), "x");
  EXPECT_EQ(r[4].elements()[1].elements()[0].integer(), 1);
  EXPECT_TRUE(r[4].elements()[1].elements()[1].is_nil());
  EXPECT_TRUE(r[4].elements()[2].elements().empty());
  EXPECT_TRUE(r[5].is_error());
  EXPECT_EQ(r[5].str(), "ERR unknown command 'NOPE'");

  const ConnectionStats stats = connection.stats();
  EXPECT_EQ(stats.round_trips, 1u);
  EXPECT_EQ(stats.commands, 6u);
  EXPECT_EQ(stats.errors, 0u);
}

TEST_F(ConnectionTest, SingleCommandShorthand) {
  peer_.serve({{.expect = resp({Command("PING")}), .reply = "+PONG\r\n"}});
  Connection connection(io_.get_executor(), options_for(peer_));
  connection.start();
  auto reply = run_task(io_, connection.execute(Command("PING")));
  ASSERT_TRUE(reply && reply->ok());
  EXPECT_EQ((*reply)->str(), "PONG");
}

TEST_F(ConnectionTest, ConcurrentCallersShareOneWriteAndGetTheirOwnReplies) {
  const std::vector<Command> first = {Command("GET", "a"), Command("GET", "b")};
  const std::vector<Command> second = {Command("GET", "c")};
  peer_.serve({{.expect = resp(first) + resp(second), .reply = "$2\r\nva\r\n$2\r\nvb\r\n$2\r\nvc\r\n"}});
  Connection connection(io_.get_executor(), options_for(peer_));
  connection.start();
  ASSERT_TRUE(run_until(io_, [&] { return connection.connected(); }));

  std::optional<Result<std::vector<Reply>>> first_result, second_result;
  spawn_execute(io_, connection, first, first_result);
  spawn_execute(io_, connection, second, second_result);
  ASSERT_TRUE(run_until(io_, [&] { return first_result && second_result; }));

  ASSERT_TRUE(first_result->ok());
  ASSERT_EQ(first_result->value().size(), 2u);
  EXPECT_EQ(first_result->value()[0].str(), "va");
  EXPECT_EQ(first_result->value()[1].str(), "vb");
  ASSERT_TRUE(second_result->ok());
  ASSERT_EQ(second_result->value().size(), 1u);
  EXPECT_EQ(second_result->value()[0].str(), "vc");
  EXPECT_EQ(connection.stats().round_trips, 1u);
  EXPECT_EQ(connection.stats().commands, 3u);
}

TEST_F(ConnectionTest, MultiExecBatchIsWrittenContiguously) {
  const std::vector<Command> transaction1 = {Command("MULTI"), Command("INCR", "x"), Command("EXEC")};
  const std::vector<Command> plain = {Command("GET", "y")};
  const std::vector<Command> transaction2 = {Command("MULTI"), Command("SET", "z", 1), Command("EXEC")};
  peer_.serve({{.expect = resp(transaction1) + resp(plain) + resp(transaction2),
                .reply = "+OK\r\n+QUEUED\r\n*1\r\n:1\r\n"
                         "$1\r\ny\r\n"
                         "+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n"}});
  Connection connection(io_.get_executor(), options_for(peer_));
  connection.start();
  ASSERT_TRUE(run_until(io_, [&] { return connection.connected(); }));

  std::optional<Result<std::vector<Reply>>> r1, r2, r3;
  spawn_execute(io_, connection, transaction1, r1);
  spawn_execute(io_, connection, plain, r2);
  spawn_execute(io_, connection, transaction2, r3);
  ASSERT_TRUE(run_until(io_, [&] { return r1 && r2 && r3; }));

  ASSERT_TRUE(r1->ok() && r2->ok() && r3->ok());
  EXPECT_EQ(r1->value()[2].elements()[0].integer(), 1);
  EXPECT_EQ(r2->value()[0].str(), "y");
  EXPECT_EQ(r3->value()[1].str(), "QUEUED");
  EXPECT_EQ(r3->value()[2].elements()[0].str(), "OK");
}

TEST_F(ConnectionTest, CommandTimeoutIsAnErrorAndTheConnectionIsReplaced) {
  peer_.serve({{.expect = resp({Command("GET", "slow")})}}, Then::await_client_close);  // never answers
  peer_.serve({{.expect = resp({Command("PING")}), .reply = "+PONG\r\n"}});
  ConnectionOptions options = options_for(peer_);
  options.command_timeout = std::chrono::milliseconds(100);
  Connection connection(io_.get_executor(), options);
  connection.start();

  const auto started = std::chrono::steady_clock::now();
  auto slow = run_task(io_, connection.execute(Command("GET", "slow")));
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(slow.has_value());
  ASSERT_FALSE(slow->ok());
  EXPECT_NE(slow->error().message.find("timed out"), std::string::npos) << slow->error().message;
  EXPECT_GE(waited, std::chrono::milliseconds(100));

  ASSERT_TRUE(run_until(io_, [&] { return peer_.saw_client_close() && connection.connected(); }));
  auto pong = run_task(io_, connection.execute(Command("PING")));
  ASSERT_TRUE(pong && pong->ok()) << (pong ? pong->error().message : "");
  EXPECT_EQ((*pong)->str(), "PONG");
  EXPECT_EQ(connection.stats().reconnects, 1u);
  EXPECT_EQ(connection.stats().errors, 1u);
}

TEST_F(ConnectionTest, PeerClosingMidBatchFailsEveryCallerInFlight) {
  const std::vector<Command> first = {Command("GET", "a"), Command("GET", "b")};
  const std::vector<Command> second = {Command("GET", "c")};
  // Only the first of three replies arrives before the peer hangs up.
  peer_.serve({{.expect = resp(first) + resp(second), .reply = "$2\r\nva\r\n"}}, Then::close);
  Connection connection(io_.get_executor(), options_for(peer_));
  connection.start();
  ASSERT_TRUE(run_until(io_, [&] { return connection.connected(); }));

  std::optional<Result<std::vector<Reply>>> first_result, second_result;
  spawn_execute(io_, connection, first, first_result);
  spawn_execute(io_, connection, second, second_result);
  // At once, on the close: run_until's limit is far below the command timeout.
  ASSERT_TRUE(run_until(io_, [&] { return first_result && second_result; }));

  ASSERT_FALSE(first_result->ok());
  EXPECT_NE(first_result->error().message.find("connection lost"), std::string::npos)
      << first_result->error().message;
  ASSERT_FALSE(second_result->ok());
  EXPECT_EQ(connection.stats().errors, 2u);
}

TEST_F(ConnectionTest, FailsFastWhileDownAndReconnectsWhenThePeerComesBack) {
  peer_.serve({{.expect = resp({Command("PING")}), .reply = "+PONG\r\n"}});
  Connection connection(io_.get_executor(), options_for(peer_));
  connection.start();
  auto first = run_task(io_, connection.execute(Command("PING")));
  ASSERT_TRUE(first && first->ok());

  peer_.go_down();
  ASSERT_TRUE(run_until(io_, [&] { return !connection.connected(); }));
  auto while_down = run_task(io_, connection.execute(Command("PING")));  // at once (see options_for)
  ASSERT_TRUE(while_down.has_value());
  ASSERT_FALSE(while_down->ok());
  EXPECT_TRUE(while_down->error().message.starts_with("redis unavailable: ")) << while_down->error().message;

  peer_.come_back();
  peer_.serve({{.expect = resp({Command("PING")}), .reply = "+PONG\r\n"}});
  ASSERT_TRUE(run_until(io_, [&] { return connection.connected(); }));
  auto again = run_task(io_, connection.execute(Command("PING")));
  ASSERT_TRUE(again && again->ok()) << (again ? again->error().message : "");
  EXPECT_EQ((*again)->str(), "PONG");
  EXPECT_EQ(connection.stats().reconnects, 1u);
}

TEST_F(ConnectionTest, UnreachableServerIsAnErrorNamingTheCause) {
  peer_.go_down();
  Connection connection(io_.get_executor(), options_for(peer_));
  connection.start();
  auto reply = run_task(io_, connection.execute(Command("PING")));
  ASSERT_TRUE(reply.has_value());
  ASSERT_FALSE(reply->ok());
  EXPECT_NE(reply->error().message.find("Connection refused"), std::string::npos) << reply->error().message;
}

TEST_F(ConnectionTest, AuthenticatesBeforeAnyCommand) {
  peer_.serve({{.expect = resp({Command("AUTH", "sekret")}), .reply = "+OK\r\n"},
               {.expect = resp({Command("PING")}), .reply = "+PONG\r\n"}});
  ConnectionOptions options = options_for(peer_);
  options.password = "sekret";
  Connection connection(io_.get_executor(), options);
  connection.start();
  auto reply = run_task(io_, connection.execute(Command("PING")));
  ASSERT_TRUE(reply && reply->ok()) << (reply ? reply->error().message : "");
  EXPECT_EQ((*reply)->str(), "PONG");
}

TEST_F(ConnectionTest, RejectedAuthIsAnError) {
  peer_.serve({{.expect = resp({Command("AUTH", "wrong")}), .reply = "-WRONGPASS invalid password\r\n"}});
  ConnectionOptions options = options_for(peer_);
  options.password = "wrong";
  Connection connection(io_.get_executor(), options);
  connection.start();
  auto reply = run_task(io_, connection.execute(Command("PING")));
  ASSERT_TRUE(reply.has_value());
  ASSERT_FALSE(reply->ok());
  EXPECT_NE(reply->error().message.find("WRONGPASS"), std::string::npos) << reply->error().message;
}

TEST_F(ConnectionTest, StopFailsCallersInFlightAndLaterCalls) {
  peer_.serve({{.expect = resp({Command("GET", "a")})}});  // never answers
  Connection connection(io_.get_executor(), options_for(peer_));
  connection.start();
  ASSERT_TRUE(run_until(io_, [&] { return connection.connected(); }));

  std::optional<Result<std::vector<Reply>>> in_flight;
  spawn_execute(io_, connection, {Command("GET", "a")}, in_flight);
  ASSERT_TRUE(run_until(io_, [&] { return peer_.scripts_finished() == 1; }));
  connection.stop();
  ASSERT_TRUE(run_until(io_, [&] { return in_flight.has_value(); }));  // not the command timeout
  EXPECT_FALSE(in_flight->ok());
  auto later = run_task(io_, connection.execute(Command("PING")));
  ASSERT_TRUE(later.has_value());
  EXPECT_FALSE(later->ok());
  EXPECT_FALSE(connection.connected());
}

TEST_F(ConnectionTest, EmptyCommandIsRejectedWithoutDisturbingTheStream) {
  peer_.serve({{.expect = resp({Command("PING")}), .reply = "+PONG\r\n"}});
  Connection connection(io_.get_executor(), options_for(peer_));
  connection.start();
  auto rejected = run_task(io_, connection.execute({Command("GET", "x"), Command()}));
  ASSERT_TRUE(rejected.has_value());
  EXPECT_FALSE(rejected->ok());
  auto pong = run_task(io_, connection.execute(Command("PING")));
  ASSERT_TRUE(pong && pong->ok());
  EXPECT_EQ((*pong)->str(), "PONG");
}

TEST(Endpoint, ParsesHostAndPort) {
  auto endpoint = parse_endpoint("redis.internal:6380");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->host, "redis.internal");
  EXPECT_EQ(endpoint->port, 6380);
  auto v6 = parse_endpoint("[::1]:6379");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_FALSE(parse_endpoint("localhost").ok());
  EXPECT_FALSE(parse_endpoint(":6379").ok());
  EXPECT_FALSE(parse_endpoint("host:0").ok());
  EXPECT_FALSE(parse_endpoint("host:65536").ok());
  EXPECT_FALSE(parse_endpoint("host:12ab").ok());
}

}  // namespace
}  // namespace reel::redis
