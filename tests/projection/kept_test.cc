#include "projection/kept.h"

#include <gtest/gtest.h>

#include <string>

namespace reel::projection {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::system_clock::time_point;

// A fixed instant is fine here: Kept compares only the times it is handed, never the real clock.
const TimePoint t0 = TimePoint{} + 1000h;

TEST(Kept, KeepsAValueFromItsSecondReadOn) {
  Kept<int64_t, std::string> kept(1000ms, 16);
  kept.offer(7, "first", t0);
  EXPECT_EQ(kept.find(7, t0), nullptr);
  kept.offer(7, "second", t0);
  ASSERT_NE(kept.find(7, t0), nullptr);
  EXPECT_EQ(*kept.find(7, t0), "second");
}

TEST(Kept, AKeptValueIsFreshForItsTimeToLiveThenOnlyWithinAGivenAge) {
  Kept<int64_t, std::string> kept(1000ms, 16);
  kept.offer(7, "v", t0);
  kept.offer(7, "v", t0);
  EXPECT_NE(kept.find(7, t0 + 999ms), nullptr);
  EXPECT_EQ(kept.find(7, t0 + 1000ms), nullptr);
  ASSERT_NE(kept.find_within(7, t0 + 5s, 10s), nullptr);  // stale, for when Redis cannot answer
  EXPECT_EQ(kept.find_within(7, t0 + 11s, 10s), nullptr);
}

TEST(Kept, AnOfferRefreshesAKeptValue) {
  Kept<std::string, std::string> kept(1000ms, 16);
  kept.offer("page", "old", t0);
  kept.offer("page", "old", t0);
  kept.offer("page", "new", t0 + 900ms);
  ASSERT_NE(kept.find("page", t0 + 1500ms), nullptr);
  EXPECT_EQ(*kept.find("page", t0 + 1500ms), "new");
}

TEST(Kept, EraseForgetsAValue) {
  Kept<int64_t, std::string> kept(1000ms, 16);
  kept.offer(7, "v", t0);
  kept.offer(7, "v", t0);
  kept.erase(7);
  EXPECT_EQ(kept.find_within(7, t0, 1h), nullptr);
  EXPECT_EQ(kept.size(), 0u);
}

TEST(Kept, NeverHoldsMoreThanItsSlotsAndNeverAnotherKeysValue) {
  Kept<int64_t, int64_t> kept(1000ms, 1000);  // 1,024 slots
  for (int64_t id = 1; id <= 100000; ++id) {
    kept.offer(id, id * 10, t0);
    kept.offer(id, id * 10, t0);
  }
  EXPECT_LE(kept.size(), 1024u);
  size_t found = 0;
  for (int64_t id = 1; id <= 100000; ++id) {
    if (const int64_t* value = kept.find(id, t0)) {
      EXPECT_EQ(*value, id * 10);
      ++found;
    }
  }
  EXPECT_EQ(found, kept.size());
}

TEST(Kept, KeepingMoreThanTheCapacityDropsOnlyTheSlotsTaken) {
  // The last keys kept stay kept: an offer() past the capacity replaces one slot, it does not
  // empty the table (the earlier policy dropped everything at once).
  Kept<int64_t, int64_t> kept(1000ms, 1024);
  for (int64_t id = 1; id <= 5000; ++id) {
    kept.offer(id, id, t0);
    kept.offer(id, id, t0);
  }
  EXPECT_NE(kept.find(5000, t0), nullptr);
  // Sequential ids spread over the slots: most of the table is in use.
  EXPECT_GT(kept.size(), 1024u * 9 / 10);
}

TEST(Kept, ReadsOfOtherKeysOnceDoNotDropKeptValues) {
  Kept<int64_t, int64_t> kept(1000ms, 64);
  kept.offer(1, 1, t0);
  kept.offer(1, 1, t0);
  for (int64_t id = 2; id < 100000; ++id) kept.offer(id, id, t0);  // a long tail, read once each
  EXPECT_NE(kept.find(1, t0), nullptr);
}

}  // namespace
}  // namespace reel::projection
