// ResumableSweeper: abandoned resumable uploads are removed at start and then on schedule; live
// ones stay.
#include "upload/resumable_sweeper.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/fixtures.h"

namespace reel::upload {
namespace {

using namespace std::chrono_literals;

class Sweeper : public ::testing::Test {
 protected:
  Sweeper() : store_(ResumableOptions{dir_.path() / "uploads"}, clock_) { EXPECT_TRUE(store_.open().ok()); }

  std::string create() {
    auto id = store_.create(10, UploadMetadata{"A title", "", {}, "", "user:1", ""});
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id.ok() ? *id : "";
  }

  bool exists(const std::string& id) {
    auto found = store_.find(id);
    return found.ok() && found->has_value();
  }

  reel::testing::TempDir dir_;
  ManualClock clock_{1'800'000'000};
  ResumableStore store_;
};

TEST_F(Sweeper, RemovesUploadsAbandonedBeforeItStartedAtOnce) {
  const std::string abandoned = create();
  clock_.advance(25h);
  const std::string fresh = create();
  ResumableSweeper sweeper(store_, 24h, 1h);
  EXPECT_FALSE(exists(abandoned));
  EXPECT_TRUE(exists(fresh));
  EXPECT_EQ(sweeper.removed(), 1u);
}

TEST_F(Sweeper, RemovesUploadsAbandonedLaterOnSchedule) {
  ResumableSweeper sweeper(store_, 24h, 10ms);
  const std::string abandoned = create();
  clock_.advance(23h);
  const std::string active = create();
  clock_.advance(2h);  // `abandoned` idle for 25 h, `active` for 2 h
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (sweeper.removed() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(exists(abandoned)) << "not swept within 60 s";
  EXPECT_TRUE(exists(active));
  EXPECT_EQ(sweeper.removed(), 1u);
}

TEST(SweeperInterval, IsAShareOfTheIdleLimitBetweenAMinuteAndAnHour) {
  EXPECT_EQ(ResumableSweeper::default_interval(24h), 1h);
  EXPECT_EQ(ResumableSweeper::default_interval(2h), 5min);
  EXPECT_EQ(ResumableSweeper::default_interval(10min), 1min);
  EXPECT_EQ(ResumableSweeper::default_interval(std::chrono::hours(24 * 30)), 1h);
}

}  // namespace
}  // namespace reel::upload
