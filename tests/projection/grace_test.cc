// Grace: while Redis cannot answer, an event loop's RedisReadModel serves the list pages it holds,
// stale, for up to its grace period after it read them; a page it does not hold, or one read
// longer ago, is an Error (the router's 503). Against a real redis-server that is stopped.
// A stalled replica: reads and readiness fall back to the primary, for pages and for comments (real
// servers, one frozen with SIGSTOP as a partitioned node would be).
#include <gtest/gtest.h>
#include <signal.h>

#include "catalog/model.h"
#include "common/asio.h"  // before any other Asio header
#include "common/clock.h"
#include "projection/codec.h"
#include "projection/community.h"
#include "projection/keys.h"
#include "projection/redis_community_read_model.h"
#include "projection/redis_read_model.h"
#include "redis/blocking_client.h"
#include "redis/server.h"
#include "support/fixtures.h"

namespace reel::projection {
namespace {

using namespace std::chrono_literals;

// What a test's coroutine found wrong, checked once its loop ran (gtest's ASSERTs cannot leave a
// coroutine).
struct Expectations {
  std::vector<std::string> failures;
  void operator()(bool ok, std::string what) {
    if (!ok) failures.push_back(std::move(what));
  }
};

// Three cards titled "<prefix> 1".."<prefix> 3" and the newest list, on the server at `options`.
::testing::AssertionResult write_catalog(const redis::ConnectionOptions& options, const std::string& prefix) {
  auto tool = redis::BlockingClient::connect(options);
  if (!tool) return ::testing::AssertionFailure() << tool.error().message;
  std::vector<redis::Command> writes;
  for (int64_t id = 1; id <= 3; ++id) {
    catalog::Video video;
    video.id = id;
    video.title = prefix + " " + std::to_string(id);
    video.slug = "clip-" + std::to_string(id);
    writes.emplace_back("SET", keys::card(id), codec::encode_card(video, "Ann"));
    writes.emplace_back("ZADD", keys::list({ListKind::all, {}}, Sort::newest), id, id);
    writes.emplace_back("ZADD", keys::list({ListKind::all, {}}, Sort::duration), id, id);
  }
  auto written = tool->execute(std::move(writes));
  if (!written) return ::testing::AssertionFailure() << written.error().message;
  return ::testing::AssertionSuccess();
}

TEST(Grace, HeldPagesAreServedStaleWithinGraceWhileRedisIsDown) {
  reel::testing::TempDir dir;
  redis::RedisServerOptions server_options;
  server_options.dir = (dir.path() / "redis").string();
  server_options.append_only = false;
  auto server = redis::RedisServer::start(server_options);
  ASSERT_TRUE(server) << server.error().message;
  redis::ConnectionOptions connection_options{.endpoint = server->endpoint()};
  connection_options.command_timeout = 1000ms;
  ASSERT_TRUE(write_catalog(connection_options, "Clip"));

  asio::io_context io;
  redis::Connection connection(io.get_executor(), connection_options);
  connection.start();
  ManualClock clock(1'800'000'000);
  RedisReadModel model(connection, clock, 300s);
  ListQuery held, not_held, never_read;
  held.sort = never_read.sort = Sort::newest;
  not_held.sort = Sort::duration;
  never_read.page = 2;
  Expectations expect;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        co_await model.ready();
        auto first = co_await model.listing(held);
        auto second = co_await model.listing(held);  // read twice: the loop keeps it
        auto once = co_await model.listing(not_held);
        expect(first && second && once && (*second)->cards.size() == 3,
               "the pages are read while Redis is up");

        // Redis goes away; the kept copies are past their one-second TTL.
        expect(server->stop().ok(), "redis-server stops");
        clock.advance(60s);
        auto stale = co_await model.listing(held);
        expect(stale && (*stale)->cards.size() == 3 && (*stale)->cards[0].title == "Clip 3",
               "a held page is served stale within grace");
        auto missing = co_await model.listing(not_held);
        expect(!missing, "a page read only once is not held: an Error (503)");
        auto other_page = co_await model.listing(never_read);
        expect(!other_page, "a page never read: an Error");
        expect(model.stale_served() == 1, "one page was served stale");

        clock.advance(300s);
        auto too_old = co_await model.listing(held);
        expect(!too_old, "past grace the held page is not served");
        const bool ready = co_await model.ready();
        expect(!ready, "not ready while Redis is down");
        connection.stop();
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(expect.failures.empty()) << ::testing::PrintToString(expect.failures);
}

// A replica that stops answering (frozen, cut off) while the primary answers: pages nobody held are
// read from the primary once the replica's command timeout passes, and the loop stays ready, so one
// stalled replica does not take the app servers out of the load balancer. With the primary frozen
// too, the loop is not ready.
// Two real redis-servers, a primary and a "replica" (not replicating: each holds what the test
// writes to it, so a reply says which one answered), both with a short command timeout.
struct Pair {
  reel::testing::TempDir dir;
  std::vector<redis::RedisServer> servers;
  std::vector<redis::ConnectionOptions> options;  // [0] the primary, [1] the replica

  ::testing::AssertionResult start() {
    for (const char* name : {"primary", "replica"}) {
      redis::RedisServerOptions server_options;
      server_options.dir = (dir.path() / name).string();
      server_options.append_only = false;
      auto server = redis::RedisServer::start(server_options);
      if (!server) return ::testing::AssertionFailure() << server.error().message;
      options.push_back({.endpoint = server->endpoint()});
      options.back().command_timeout = 300ms;
      servers.push_back(std::move(*server));
    }
    return ::testing::AssertionSuccess();
  }
  asio::io_context io;
  std::vector<std::unique_ptr<redis::Connection>> connections;

  // A started connection to server `i` on `io`, owned by the pair.
  redis::Connection& connect(size_t i) {
    connections.push_back(std::make_unique<redis::Connection>(io.get_executor(), options[i]));
    connections.back()->start();
    return *connections.back();
  }
  // A server frozen by a test is thawed, so that a failed assertion does not leave it stopped for
  // the server's destructor's SIGTERM.
  ~Pair() {
    for (auto& server : servers) ::kill(server.pid(), SIGCONT);
  }
};

TEST(Grace, AStalledReplicaFallsBackToThePrimary) {
  Pair pair;
  ASSERT_TRUE(pair.start());
  auto& servers = pair.servers;
  const auto& options = pair.options;
  // Different titles on each: the page says which server answered.
  ASSERT_TRUE(write_catalog(options[0], "Primary"));
  ASSERT_TRUE(write_catalog(options[1], "Replica"));

  auto& io = pair.io;
  auto& primary = pair.connect(0);
  auto& replica = pair.connect(1);
  ManualClock clock(1'800'000'000);
  RedisReadModel model(replica, clock, 300s, {}, &primary);
  ListQuery newest, longest;
  newest.sort = Sort::newest;
  longest.sort = Sort::duration;
  Expectations expect;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        auto from_replica = co_await model.listing(newest);
        expect(from_replica && (*from_replica)->cards.size() == 3 &&
                   (*from_replica)->cards[0].title == "Replica 3",
               "pages are read from the replica while it answers");

        expect(::kill(servers[1].pid(), SIGSTOP) == 0, "the replica is frozen");
        auto fell_back = co_await model.listing(longest);
        expect(fell_back && (*fell_back)->cards.size() == 3 && (*fell_back)->cards[0].title == "Primary 3",
               "a page nobody held is read from the primary");
        const bool ready = co_await model.ready();
        expect(ready, "ready while the primary answers");

        expect(::kill(servers[0].pid(), SIGSTOP) == 0, "the primary is frozen too");
        const bool ready_without_redis = co_await model.ready();
        expect(!ready_without_redis, "not ready when neither answers");
        ListQuery never_read;
        never_read.sort = Sort::newest;
        never_read.page = 2;
        auto unanswered = co_await model.listing(never_read);
        expect(!unanswered, "a page never read is an Error when neither answers");
        primary.stop();
        replica.stop();
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(expect.failures.empty()) << ::testing::PrintToString(expect.failures);
}

// The comments' read model falls back the same way: a page, a comment and a vote, each read from
// the primary while the replica is frozen.
TEST(Grace, CommentsFallBackToThePrimaryFromAStalledReplica) {
  Pair pair;
  ASSERT_TRUE(pair.start());
  auto& servers = pair.servers;
  const auto& options = pair.options;
  for (size_t i = 0; i < 2; ++i) {
    auto tool = redis::BlockingClient::connect(options[i]);
    ASSERT_TRUE(tool) << tool.error().message;
    catalog::Comment comment;
    comment.id = 5;
    comment.video_id = 1;
    comment.user_id = 9;
    comment.author_name = "ann";
    comment.body = i == 0 ? "on the primary" : "on the replica";
    comment.created_at = 1'800'000'000;
    auto writes = community::comment_commands(comment);
    for (auto& vote : community::vote_commands(1, {}, 1, 0, 9, i == 0 ? 1 : -1))
      writes.push_back(std::move(vote));
    auto written = tool->execute(std::move(writes));
    ASSERT_TRUE(written) << written.error().message;
  }

  auto& io = pair.io;
  auto& primary = pair.connect(0);
  auto& replica = pair.connect(1);
  RedisCommunityReadModel comments(replica, &primary);
  Expectations expect;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        auto from_replica = co_await comments.comments(1, CommentSort::newest, 1, 10);
        expect(from_replica && from_replica->comments.size() == 1 &&
                   from_replica->comments[0].body == "on the replica",
               "comments are read from the replica while it answers");

        expect(::kill(servers[1].pid(), SIGSTOP) == 0, "the replica is frozen");
        auto page = co_await comments.comments(1, CommentSort::newest, 1, 10);
        expect(page && page->comments.size() == 1 && page->comments[0].body == "on the primary",
               "a page of comments is read from the primary");
        auto one = co_await comments.comment(1, 5);
        expect(one && *one && (*one)->body == "on the primary", "a comment is read from the primary");
        auto vote = co_await comments.vote_of(9, 1);
        expect(vote && *vote == 1, "a vote is read from the primary");

        expect(::kill(servers[0].pid(), SIGSTOP) == 0, "the primary is frozen too");
        auto unanswered = co_await comments.comment(1, 5);
        expect(!unanswered, "an Error when neither answers");
        primary.stop();
        replica.stop();
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(expect.failures.empty()) << ::testing::PrintToString(expect.failures);
}

}  // namespace
}  // namespace reel::projection
