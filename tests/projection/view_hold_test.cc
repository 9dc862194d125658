// ViewHold (projection/view_hold.h) against a real redis-server: the hold lasts through a stage of
// the holder that goes several times its time to live without a round trip to Redis; a hold that
// expired (removed, or taken by another tool meanwhile) is still reported by end(); Redis gone
// makes end() fail rather than wait.
#include "projection/view_hold.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "projection/keys.h"
#include "redis/blocking_client.h"
#include "redis/server.h"
#include "support/fixtures.h"
#include "support/hold_renewals.h"
#include "support/suite_redis.h"

namespace reel::projection {
namespace {

using namespace std::chrono_literals;

// Short enough for tests to outlast it several times; ttl / 4 between renewals leaves a loaded
// machine 450 ms to schedule the renewing thread.
constexpr auto ttl = 600ms;

class ViewHoldTest : public reel::testing::RedisSuiteTest {
 protected:
  void SetUp() override {
    RedisSuiteTest::SetUp();
    auto holder = flushed_client();
    ASSERT_TRUE(holder) << holder.error().message;
    holder_.emplace(std::move(*holder));
    auto observer = redis::BlockingClient::connect(connection_options());
    ASSERT_TRUE(observer) << observer.error().message;
    observer_.emplace(std::move(*observer));
  }

  redis::Reply call(redis::Command command) {
    auto reply = observer_->execute(std::move(command));
    EXPECT_TRUE(reply) << reply.error().message;
    return reply ? std::move(*reply) : redis::Reply{};
  }

  std::optional<redis::BlockingClient> holder_;    // the holder's client, idle while it works
  std::optional<redis::BlockingClient> observer_;  // the test's own look at Redis
};

TEST_F(ViewHoldTest, LastsThroughAStageLongerThanItsTimeToLive) {
  ViewHold hold(*holder_, {"test", ttl, 10s});
  ASSERT_TRUE(hold.begin());
  const auto lapse = std::chrono::steady_clock::now() + ttl;  // set before now: gone by then unless renewed
  // The stage: nothing from the holder's client until the hold was renewed three times past its
  // first time to live.
  auto renewed = reel::testing::await_hold_renewals(*observer_, lapse, 3);
  EXPECT_TRUE(renewed) << renewed.error().message;
  auto ended = hold.end();
  EXPECT_TRUE(ended) << ended.error().message;
  EXPECT_EQ(call(redis::Command("EXISTS", keys::views_hold())).integer(), 0);
}

TEST_F(ViewHoldTest, ReportsAHoldThatExpired) {
  ViewHold hold(*holder_, {"test", ttl, 10s});
  ASSERT_TRUE(hold.begin());
  // As if the holder's process had been stopped longer than the time to live.
  ASSERT_EQ(call(redis::Command("DEL", keys::views_hold())).integer(), 1);
  auto ended = hold.end();
  ASSERT_FALSE(ended);
  EXPECT_NE(ended.error().message.find(
                "test: the hold on view counting expired before the test ended (not renewed for 600 ms), so "
                "views counted meanwhile may be missing from it: run it again"),
            std::string::npos)
      << ended.error().message;
  EXPECT_EQ(call(redis::Command("EXISTS", keys::views_hold())).integer(), 0);  // renewals never set it
}

TEST_F(ViewHoldTest, LeavesAHoldTakenByAnotherToolToIt) {
  ViewHold hold(*holder_, {"test", ttl, 10s});
  ASSERT_TRUE(hold.begin());
  // It expired, and another tool took view counting meanwhile.
  ASSERT_EQ(call(redis::Command("SET", keys::views_hold(), "other", "PX", 600000)).str(), "OK");
  auto ended = hold.end();
  ASSERT_FALSE(ended);
  EXPECT_NE(ended.error().message.find("expired before the test ended"), std::string::npos)
      << ended.error().message;
  EXPECT_EQ(call(redis::Command("GET", keys::views_hold())).str(), "other");
}

TEST_F(ViewHoldTest, RefusesASecondHolder) {
  ViewHold first(*holder_, {"first", ttl, 10s});
  ASSERT_TRUE(first.begin());
  ViewHold second(*observer_, {"second", ttl, 10s});
  auto refused = second.begin();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("second: another rebuild (or a backup) holds view counting"),
            std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(second.end());  // it held nothing, so it has nothing to report
  EXPECT_TRUE(first.end());
}

// Its own redis-server, which it stops while the hold is held.
TEST(ViewHoldOutageTest, EndFailsWhenRedisIsGone) {
  reel::testing::TempDir dir;
  redis::RedisServerOptions server_options;
  server_options.dir = dir.path().string();
  server_options.append_only = false;
  auto server = redis::RedisServer::start(server_options);
  ASSERT_TRUE(server) << server.error().message;
  redis::ConnectionOptions options;
  options.endpoint = server->endpoint();
  auto holder = redis::BlockingClient::connect(options);
  ASSERT_TRUE(holder) << holder.error().message;
  ViewHold hold(*holder, {"test", ttl, 10s});
  ASSERT_TRUE(hold.begin());
  ASSERT_TRUE(server->stop());
  auto ended = hold.end();
  ASSERT_FALSE(ended);
  EXPECT_NE(ended.error().message.find("test: ending the hold on view counting"), std::string::npos)
      << ended.error().message;
}

}  // namespace
}  // namespace reel::projection
