// TokenCache: a verified token's grant is remembered for its ttl by the clock (a second unless
// told), under the token's hash; unknown tokens are never remembered; a full cache starts over.
#include "app/token_cache.h"

#include <gtest/gtest.h>

namespace reel::app {
namespace {

using namespace std::chrono_literals;

constexpr sql::TokenGrant admin{.role = sql::TokenRole::admin, .user_id = 0};
constexpr sql::TokenGrant user{.role = sql::TokenRole::user, .user_id = 7};

TEST(TokenCache, RemembersAGrantForItsTtl) {
  ManualClock clock(1'700'000'000);
  TokenCache cache(clock, 60s);
  EXPECT_FALSE(cache.find("reel_a"));
  cache.remember("reel_a", admin);
  cache.remember("reel_b", user);
  auto a = cache.find("reel_a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->role, sql::TokenRole::admin);
  auto b = cache.find("reel_b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->user_id, 7);
  EXPECT_FALSE(cache.find("reel_c"));
  clock.advance(59s);
  EXPECT_TRUE(cache.find("reel_a"));
  clock.advance(1s);
  EXPECT_FALSE(cache.find("reel_a")) << "a minute later it is looked up again";
  cache.remember("reel_a", admin);
  EXPECT_TRUE(cache.find("reel_a"));
}

// `reel admin token --revoke` deletes the token in SQL; every loop looks it up again within a
// second of that, so the revocation holds everywhere within a second.
TEST(TokenCache, ByDefaultAGrantIsLookedUpAgainAfterASecond) {
  ManualClock clock(1'700'000'000);
  TokenCache cache(clock);
  cache.remember("reel_a", admin);
  clock.advance(999ms);
  EXPECT_TRUE(cache.find("reel_a"));
  clock.advance(1ms);
  EXPECT_FALSE(cache.find("reel_a")) << "a second later the revoked token is looked up again";
}

TEST(TokenCache, AFullCacheStartsOver) {
  ManualClock clock(1'700'000'000);
  TokenCache cache(clock, 60s, 2);
  cache.remember("reel_a", admin);
  cache.remember("reel_b", admin);
  cache.remember("reel_c", admin);
  EXPECT_FALSE(cache.find("reel_a"));
  EXPECT_FALSE(cache.find("reel_b"));
  EXPECT_TRUE(cache.find("reel_c"));
}

}  // namespace
}  // namespace reel::app
