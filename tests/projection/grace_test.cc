// Grace: while Redis cannot answer, an event loop's RedisReadModel serves the list pages it holds,
// stale, for up to its grace period after it read them; a page it does not hold, or one read
// longer ago, is an Error (the router's 503). Against a real redis-server that is stopped.
#include <gtest/gtest.h>

#include "catalog/model.h"
#include "common/asio.h"  // before any other Asio header
#include "common/clock.h"
#include "projection/codec.h"
#include "projection/keys.h"
#include "projection/redis_read_model.h"
#include "redis/blocking_client.h"
#include "redis/server.h"
#include "support/fixtures.h"

namespace reel::projection {
namespace {

using namespace std::chrono_literals;

TEST(Grace, HeldPagesAreServedStaleWithinGraceWhileRedisIsDown) {
  reel::testing::TempDir dir;
  redis::RedisServerOptions server_options;
  server_options.dir = (dir.path() / "redis").string();
  server_options.append_only = false;
  auto server = redis::RedisServer::start(server_options);
  ASSERT_TRUE(server) << server.error().message;
  redis::ConnectionOptions connection_options{.endpoint = server->endpoint()};
  connection_options.command_timeout = 1000ms;
  {
    auto tool = redis::BlockingClient::connect(connection_options);
    ASSERT_TRUE(tool) << tool.error().message;
    std::vector<redis::Command> writes;
    for (int64_t id = 1; id <= 3; ++id) {
      catalog::Video video;
      video.id = id;
      video.title = "Clip " + std::to_string(id);
      video.slug = "clip-" + std::to_string(id);
      writes.emplace_back("SET", keys::card(id), codec::encode_card(video, "Ann"));
      writes.emplace_back("ZADD", keys::list({ListKind::all, {}}, Sort::newest), id, id);
      writes.emplace_back("ZADD", keys::list({ListKind::all, {}}, Sort::duration), id, id);
    }
    ASSERT_TRUE(tool->execute(std::move(writes)));
  }

  asio::io_context io;
  redis::Connection connection(io.get_executor(), connection_options);
  connection.start();
  ManualClock clock(1'800'000'000);
  RedisReadModel model(connection, clock, 300s);
  ListQuery held, not_held, never_read;
  held.sort = never_read.sort = Sort::newest;
  not_held.sort = Sort::duration;
  never_read.page = 2;
  std::vector<std::string> failures;
  auto expect = [&](bool ok, std::string what) {
    if (!ok) failures.push_back(std::move(what));
  };
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
  EXPECT_TRUE(failures.empty()) << ::testing::PrintToString(failures);
}

}  // namespace
}  // namespace reel::projection
