// RedisSupervisor against a real redis-server: a server killed with SIGKILL is reaped (no zombie)
// and started again on its port from its AOF, so acknowledged writes are still there; stop() ends
// it for good. And the restart delay's back-off.
#include "redis/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>

#include "redis/blocking_client.h"
#include "support/fixtures.h"
#include "support/http_client.h"

namespace reel::redis {
namespace {

using namespace std::chrono_literals;

// Whether `pid` names no process at all: reaped, not a zombie (a zombie still answers kill 0).
bool gone(pid_t pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

TEST(RestartDelay, DoublesPerQuickFailureUpToTheCap) {
  const SupervisorOptions options{.first_delay = 250ms, .max_delay = 2000ms};
  EXPECT_EQ(restart_delay(options, 0), 250ms);
  EXPECT_EQ(restart_delay(options, 1), 500ms);
  EXPECT_EQ(restart_delay(options, 3), 2000ms);
  EXPECT_EQ(restart_delay(options, 40), 2000ms);
}

TEST(RedisSupervisor, RestartsAKilledServerFromItsAof) {
  reel::testing::TempDir dir;
  RedisServerOptions options;
  options.dir = (dir.path() / "redis").string();
  auto supervisor = RedisSupervisor::start(options);
  ASSERT_TRUE(supervisor) << supervisor.error().message;
  ConnectionOptions connection{.endpoint = (*supervisor)->endpoint()};
  {
    auto client = BlockingClient::connect(connection);
    ASSERT_TRUE(client) << client.error().message;
    auto set = client->execute(Command("SET", "acknowledged", "yes"));
    ASSERT_TRUE(set && set->str() == "OK");
  }
  for (uint64_t round = 1; round <= 2; ++round) {
    const pid_t first = (*supervisor)->pid();
    ASSERT_GT(first, 0);
    ASSERT_EQ(::kill(first, SIGKILL), 0);
    ASSERT_TRUE(reel::testing::eventually(
        [&] {
          const pid_t now = (*supervisor)->pid();
          return now > 0 && now != first;
        },
        60s))
        << "restart " << round;
    EXPECT_TRUE(gone(first)) << "the dead server was reaped";
    EXPECT_EQ((*supervisor)->restarts(), round);
    auto client = BlockingClient::connect(connection);
    ASSERT_TRUE(client) << client.error().message;
    auto value = client->execute(Command("GET", "acknowledged"));
    ASSERT_TRUE(value);
    EXPECT_EQ(value->str(), "yes") << "the AOF kept the write";
  }
  const pid_t last = (*supervisor)->pid();
  EXPECT_TRUE((*supervisor)->stop());
  EXPECT_TRUE(gone(last));
  EXPECT_EQ((*supervisor)->pid(), -1);
}

}  // namespace
}  // namespace reel::redis
