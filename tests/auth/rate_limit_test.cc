// Rate limits and the sign-in lockout against a real redis-server, with a ManualClock: windows,
// Retry-After, all-or-none counting, lockout growth and expiry, and the per-account cap that
// spares the owner's known clients.
#include "auth/rate_limit.h"

#include <gtest/gtest.h>

#include "auth/auth_fixture.h"
#include "common/clock.h"
#include "redis/connection.h"
#include "support/event_loop.h"
#include "support/suite_redis.h"

namespace reel::auth {
namespace {

using namespace std::chrono_literals;

class RateLimitTest : public reel::testing::RedisSuiteTest {
 protected:
  void SetUp() override {
    RedisSuiteTest::SetUp();
    if (HasFatalFailure()) return;
    testing::start_connection(connection_, io_, connection_options());
    auto flushed = reel::testing::run_task(io_, connection_->execute(redis::Command("FLUSHALL")));
    ASSERT_TRUE(flushed && flushed->ok());
  }

  Verdict check(std::vector<LimitCheck> checks) {
    auto verdict = reel::testing::run_task(io_, limiter_.check(*connection_, std::move(checks)));
    EXPECT_TRUE(verdict && verdict->ok()) << (verdict && !verdict->ok() ? verdict->error().message : "");
    return verdict && verdict->ok() ? **verdict : Verdict{};
  }
  Verdict hit(std::string_view subject, Limit limit) { return check({{"test", subject, limit}}); }

  Verdict guard_check(std::string_view account, std::string_view client) {
    auto verdict = reel::testing::run_task(io_, guard_.check(*connection_, account, client));
    EXPECT_TRUE(verdict && verdict->ok());
    return verdict && verdict->ok() ? **verdict : Verdict{};
  }
  void fail(std::string_view account, std::string_view client) {
    auto recorded = reel::testing::run_task(io_, guard_.failed(*connection_, account, client));
    EXPECT_TRUE(recorded && recorded->ok());
  }
  void succeed(std::string_view account, std::string_view client) {
    auto recorded = reel::testing::run_task(io_, guard_.succeeded(*connection_, account, client));
    EXPECT_TRUE(recorded && recorded->ok());
  }

  asio::io_context io_{1};
  std::optional<redis::Connection> connection_;
  // At the start of a minute, so the arithmetic of one-minute windows is plain.
  ManualClock clock_{1'700'000'040};
  RateLimiter limiter_{clock_};
  LockoutPolicy policy_{};
  SignInGuard guard_{clock_, policy_};
};

TEST_F(RateLimitTest, AllowsTheLimitThenRefusesUntilRetryAfter) {
  const Limit limit{3, 60s};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(hit("203.0.113.7", limit).allowed) << i;
  const Verdict refused = hit("203.0.113.7", limit);
  EXPECT_FALSE(refused.allowed);
  // 3 in this window: one more fits once the previous window's weight of those 3 is at most 2,
  // a third of the way into the next window: 60 s + 20 s.
  EXPECT_EQ(refused.retry_after, 80s);
  EXPECT_EQ(refused.retry_after_seconds(), 80);
  clock_.advance(refused.retry_after - 1ms);
  EXPECT_FALSE(hit("203.0.113.7", limit).allowed);
  clock_.advance(1ms);
  EXPECT_TRUE(hit("203.0.113.7", limit).allowed);
  EXPECT_FALSE(hit("203.0.113.7", limit).allowed) << "refusals were not counted, the allowed one was";
}

TEST_F(RateLimitTest, ThePreviousWindowWeighsLessAsTheWindowSlides) {
  const Limit limit{10, 60s};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(hit("s", limit).allowed);
  clock_.advance(60s + 30s);  // halfway into the next window: 10 × 0.5 = 5 still count
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(hit("s", limit).allowed) << i;
  const Verdict refused = hit("s", limit);
  EXPECT_FALSE(refused.allowed);
  // 5 now + 10 × (1 − t/60) ≤ 9  ⇔  t ≥ 36 s: 6 s from now.
  EXPECT_EQ(refused.retry_after, 6s);
  clock_.advance(60s);  // the old window is out of reach; this one's 5 weigh half
  EXPECT_TRUE(hit("s", limit).allowed);
}

TEST_F(RateLimitTest, SubjectsAndScopesAreCountedApart) {
  const Limit limit{1, 60s};
  EXPECT_TRUE(check({{"comment", "1", limit}}).allowed);
  EXPECT_FALSE(check({{"comment", "1", limit}}).allowed);
  EXPECT_TRUE(check({{"comment", "2", limit}}).allowed);
  EXPECT_TRUE(check({{"vote", "1", limit}}).allowed);
}

TEST_F(RateLimitTest, SeveralLimitsCountAnEventInAllOrNone) {
  const Limit per_client{2, 60s};
  const Limit per_account{5, 60s};
  EXPECT_TRUE(check({{"comment", "10.0.0.1", per_client}, {"comment", "account:7", per_account}}).allowed);
  EXPECT_TRUE(check({{"comment", "10.0.0.1", per_client}, {"comment", "account:7", per_account}}).allowed);
  // The client's limit refuses: the account's is not charged for it.
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(check({{"comment", "10.0.0.1", per_client}, {"comment", "account:7", per_account}}).allowed);
  }
  EXPECT_TRUE(check({{"comment", "10.0.0.2", per_client}, {"comment", "account:7", per_account}}).allowed);
  EXPECT_TRUE(check({{"comment", "10.0.0.2", per_client}, {"comment", "account:7", per_account}}).allowed);
  EXPECT_TRUE(check({{"comment", "10.0.0.3", per_client}, {"comment", "account:7", per_account}}).allowed);
  EXPECT_FALSE(check({{"comment", "10.0.0.4", per_client}, {"comment", "account:7", per_account}}).allowed)
      << "a sixth event on the account, from a fresh client";
}

TEST_F(RateLimitTest, WindowKeysExpireOnTheirOwn) {
  hit("s", {5, 60s});
  auto keys = reel::testing::run_task(io_, connection_->execute(redis::Command("KEYS", "*")));
  ASSERT_TRUE(keys && keys->ok());
  ASSERT_EQ((*keys)->elements().size(), 1u);
  auto ttl = reel::testing::run_task(
      io_, connection_->execute(redis::Command("PTTL", (*keys)->elements()[0].str())));
  EXPECT_GT((*ttl)->integer(), 0);
  EXPECT_LE((*ttl)->integer(), 120'000);
}

TEST_F(RateLimitTest, FailuresLockTheAccountAndClientOutBrieflyAndGrowingly) {
  for (int i = 0; i < policy_.free_failures - 1; ++i) {
    ASSERT_TRUE(guard_check("alice", "10.0.0.1").allowed);
    fail("alice", "10.0.0.1");
  }
  EXPECT_TRUE(guard_check("alice", "10.0.0.1").allowed);
  fail("alice", "10.0.0.1");
  Verdict locked = guard_check("alice", "10.0.0.1");
  EXPECT_FALSE(locked.allowed);
  EXPECT_EQ(locked.retry_after, policy_.first_lockout);
  EXPECT_TRUE(guard_check("alice", "10.0.0.2").allowed) << "another client is not locked out";
  EXPECT_TRUE(guard_check("bob", "10.0.0.1").allowed) << "nor another account";

  clock_.advance(policy_.first_lockout);  // the lockout expires
  EXPECT_TRUE(guard_check("alice", "10.0.0.1").allowed);
  fail("alice", "10.0.0.1");
  EXPECT_EQ(guard_check("alice", "10.0.0.1").retry_after, 2 * policy_.first_lockout) << "doubled";

  // Never longer than max_lockout, however many failures.
  for (int i = 0; i < 40; ++i) fail("alice", "10.0.0.1");
  EXPECT_EQ(guard_check("alice", "10.0.0.1").retry_after, policy_.max_lockout);
  clock_.advance(policy_.max_lockout);
  EXPECT_TRUE(guard_check("alice", "10.0.0.1").allowed);
}

TEST_F(RateLimitTest, ASuccessForgetsThePairsFailures) {
  for (int i = 0; i < policy_.free_failures - 1; ++i) fail("alice", "10.0.0.1");
  succeed("alice", "10.0.0.1");
  fail("alice", "10.0.0.1");
  EXPECT_TRUE(guard_check("alice", "10.0.0.1").allowed);
}

TEST_F(RateLimitTest, AnAccountUnderAttackStillAdmitsItsKnownClientsAndTheCapLiftsSoon) {
  succeed("alice", "198.51.100.1");  // the owner signed in from here last week
  const int64_t cap = policy_.account_failures.events;
  for (int64_t i = 0; i < cap; ++i)
    fail("alice", "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250));
  const Verdict stranger = guard_check("alice", "192.0.2.99");
  EXPECT_FALSE(stranger.allowed) << "a client the account has not seen is refused over the cap";
  EXPECT_GT(stranger.retry_after, 0ms);
  EXPECT_LE(stranger.retry_after, 2 * policy_.account_failures.window);
  EXPECT_TRUE(guard_check("alice", "198.51.100.1").allowed) << "the owner is not locked out";
  EXPECT_TRUE(guard_check("bob", "192.0.2.99").allowed);

  clock_.advance(stranger.retry_after);
  EXPECT_TRUE(guard_check("alice", "192.0.2.99").allowed) << "the cap lifts once the attack stops";
}

}  // namespace
}  // namespace reel::auth
