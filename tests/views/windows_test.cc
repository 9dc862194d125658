// The week and month windows (views/windows.h) against a real redis-server: the flush script's
// rule for each day, keep_windows() setting a list whole or moving its window a chunk at a time,
// the hold, and 45 simulated days of views, withdrawals and upkeep (two aggregators at once on some
// runs) after which every list still equals the sum of the day lists in its window.
#include "views/windows.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "common/asio.h"  // before any other Asio header
#include "common/days.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "redis/connection.h"
#include "support/event_loop.h"
#include "support/redis_loop_test.h"
#include "views/flush.h"

namespace reel::views {
namespace {

using projection::ListKind;
using projection::Period;
using projection::Sort;
using redis::Command;
namespace keys = projection::keys;
using Scores = std::map<std::string, double>;

// Noon (UTC) of a day long past: every time here is the aggregators' clock, never Redis's (the
// day lists' expiry is counted from it, so they have their full lifetime whatever day it runs).
const int64_t t0 = day_start(20210301) + 12 * 3600;
const std::vector<std::string> slugs{"music", "sports"};

keys::Scope scope_of(std::string_view slug) {
  return {slug.empty() ? ListKind::all : ListKind::category, slug};
}
std::string list(std::string_view slug, Period period, int32_t day = 0) {
  return keys::list(scope_of(slug), Sort::views, period, day);
}

// Video `id`'s categories: none, music, or music and sports, by id.
catalog::Video video(int64_t id) {
  catalog::Video v;
  v.id = id;
  v.title = "Video " + std::to_string(id);
  v.channel_name = "bob";
  v.status = catalog::VideoStatus::ready;
  if (id % 3 == 1) v.categories = {"music"};
  if (id % 3 == 2) v.categories = {"music", "sports"};
  return v;
}

class WindowsTest : public testing::RedisLoopTest {
 protected:
  void SetUp() override {
    RedisLoopTest::SetUp();
    if (HasFatalFailure()) return;
    std::vector<Command> seed;
    for (int64_t id = 1; id <= videos; ++id) {
      for (auto& c : projection::video_object_commands(video(id), "Bob")) seed.push_back(std::move(c));
    }
    ASSERT_TRUE(redis_->execute(std::move(seed)));
  }

  Scores scores(const std::string& key) {
    auto reply = redis_->execute(Command("ZRANGE", key, 0, -1, "WITHSCORES"));
    EXPECT_TRUE(reply) << reply.error().message;
    Scores out;
    if (!reply) return out;
    const auto& e = reply->elements();
    for (size_t i = 0; i + 1 < e.size(); i += 2) out[std::string(e[i].str())] = e[i + 1].number();
    return out;
  }
  std::string window(const std::string& key) {
    auto reply = redis_->execute(Command("HGET", keys::views_windows(), key));
    EXPECT_TRUE(reply);
    return reply && !reply->is_nil() ? std::string(reply->str()) : std::string("(none)");
  }
  // The sum of `slug`'s day lists from `first` to the day after `today`, without the videos in
  // `gone`: what the week or month list must hold.
  Scores window_sum(std::string_view slug, int32_t first, int32_t today, const std::set<int64_t>& gone = {}) {
    Scores sum;
    for (int32_t day = first; day <= days_after(today, 1); day = days_after(day, 1)) {
      for (auto& [member, score] : scores(list(slug, Period::day, day))) {
        if (!gone.contains(std::stoll(member))) sum[member] += score;
      }
    }
    return sum;
  }

  // Applies views as one flush chunk (the aggregator's script, EVAL), with the aggregator's clock at `now`.
  void flush(const std::vector<VideoIncrement>& views, int64_t now) {
    FlushChunk chunk;
    chunk.token = "t" + std::to_string(++chunks_);
    chunk.trend_ref = now;
    chunk.videos = views;
    ChunkEncoder encoder(0.0, {});
    auto reply = redis_->execute(encoder.command(chunk, now, true));
    ASSERT_TRUE(reply) << reply.error().message;
    auto result = parse_chunk_reply(*reply);
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->errors, 0);
  }

  WindowStats keep(int64_t now, int64_t chunk = 1000) {
    WindowOptions options;
    options.chunk = chunk;
    auto done = testing::run_task(io_, keep_windows(*connection_, now, slugs, options));
    if (!done || !*done) {
      ADD_FAILURE() << "keep_windows: " << (done ? done->error().message : "did not finish");
      return {};
    }
    return **done;
  }

  static constexpr int64_t videos = 40;
  int chunks_ = 0;
};

TEST_F(WindowsTest, AFlushCountsADayInTheWindowsThatHoldIt) {
  const int32_t today = utc_day(t0);
  // Global week and month, and music's week: windowed. Music's month and sports: not yet.
  ASSERT_TRUE(redis_->execute(Command("HSET", keys::views_windows(), list("", Period::week),
                                      days_before(today, 6), list("", Period::month), days_before(today, 29),
                                      list("music", Period::week), days_before(today, 6))));
  // Video 2 is in music and sports. Today, the week's first day, and a day the week has left.
  flush({{2, today, 3, 1}, {2, days_before(today, 6), 5, 1}, {2, days_before(today, 8), 7, 1}}, t0);

  EXPECT_EQ(scores(list("", Period::week)), (Scores{{"2", 8}}));
  EXPECT_EQ(scores(list("", Period::month)), (Scores{{"2", 8}}));
  EXPECT_EQ(scores(list("music", Period::week)), (Scores{{"2", 8}}));
  EXPECT_TRUE(scores(list("music", Period::month)).empty());  // no window: left to the upkeep
  EXPECT_TRUE(scores(list("sports", Period::week)).empty());
  // The day lists: the days inside the week; the frozen day gets nothing, in every windowed scope.
  EXPECT_EQ(scores(list("", Period::day, today)), (Scores{{"2", 3}}));
  EXPECT_EQ(scores(list("", Period::day, days_before(today, 6))), (Scores{{"2", 5}}));
  EXPECT_TRUE(scores(list("", Period::day, days_before(today, 8))).empty());
  EXPECT_TRUE(scores(list("music", Period::day, days_before(today, 8))).empty());
  // Sports has no week window, so none of its days is frozen yet.
  EXPECT_EQ(scores(list("sports", Period::day, days_before(today, 8))), (Scores{{"2", 7}}));

  // A month window alone (set whole, its week's not yet) takes the days from its first on.
  ASSERT_TRUE(redis_->execute(
      Command("HSET", keys::views_windows(), list("sports", Period::month), days_before(today, 29))));
  flush({{2, days_before(today, 29), 2, 1}, {2, days_before(today, 30), 9, 1}}, t0);
  EXPECT_EQ(scores(list("sports", Period::month)), (Scores{{"2", 2}}));
  EXPECT_EQ(scores(list("sports", Period::day, days_before(today, 30))), (Scores{{"2", 9}}));
}

TEST_F(WindowsTest, AListWithoutAWindowOrFarBehindIsSetWhole) {
  const int32_t today = utc_day(t0);
  for (int back = 0; back < 35; ++back) flush({{1, days_before(today, back), back + 1, 1}}, t0);
  auto stats = keep(t0);
  EXPECT_EQ(stats.set_whole, 6u);  // week and month, globally and per category
  EXPECT_EQ(stats.days_retired, 0u);
  EXPECT_EQ(scores(list("", Period::week)), (Scores{{"1", 1 + 2 + 3 + 4 + 5 + 6 + 7}}));
  EXPECT_EQ(scores(list("music", Period::month)), (Scores{{"1", 30 * 31 / 2}}));
  EXPECT_TRUE(scores(list("sports", Period::month)).empty());
  EXPECT_EQ(window(list("", Period::week)), std::to_string(days_before(today, 6)));
  EXPECT_EQ(window(list("sports", Period::month)), std::to_string(days_before(today, 29)));

  // Nothing to do the same day; a window far behind (its oldest day lists may be gone) or one
  // nobody can read is set whole again.
  EXPECT_EQ(keep(t0).calls, 0u);
  ASSERT_TRUE(redis_->execute(Command("HSET", keys::views_windows(), list("", Period::month),
                                      days_before(today, 40), list("", Period::week), "garbage")));
  stats = keep(t0);
  EXPECT_EQ(stats.set_whole, 2u);
  EXPECT_EQ(scores(list("", Period::month)), (Scores{{"1", 30 * 31 / 2}}));
  EXPECT_EQ(window(list("", Period::week)), std::to_string(days_before(today, 6)));
}

TEST_F(WindowsTest, ADayLeavesAWindowOneChunkAtATime) {
  const int32_t today = utc_day(t0);
  for (int64_t id = 1; id <= videos; ++id) flush({{id, days_before(today, 7), id, 1}, {id, today, 1, 1}}, t0);
  keep(t0 - 86400);  // yesterday: the day now leaving is the week's first
  EXPECT_EQ(scores(list("", Period::week)).size(), size_t{videos});
  auto stats = keep(t0, 7);
  // The week's first day leaves (40 members, 27 in music, 13 in sports: 6, 4 and 2 calls of 7),
  // and the month's (nothing that day: a call each), globally and per category.
  EXPECT_EQ(stats.days_retired, 6u);
  EXPECT_EQ(stats.calls, 6u + 4u + 2u + 3u);
  Scores left;
  for (int64_t id = 1; id <= videos; ++id) left[std::to_string(id)] = 1;
  EXPECT_EQ(scores(list("", Period::week)), left);  // today's view each, the older ones gone
  EXPECT_EQ(window(list("", Period::week)), std::to_string(days_before(today, 6)));
  EXPECT_EQ(scores(list("", Period::month)), window_sum("", days_before(today, 29), today));
}

TEST_F(WindowsTest, AHoldStopsTheUpkeepUntilItEnds) {
  const int32_t today = utc_day(t0);
  flush({{1, days_before(today, 7), 4, 1}}, t0);
  keep(t0 - 86400);
  ASSERT_TRUE(redis_->execute(Command("SET", keys::views_hold(), "rebuild-1")));
  const auto held = keep(t0);
  EXPECT_TRUE(held.held);
  EXPECT_EQ(held.calls, 1u);
  EXPECT_EQ(scores(list("", Period::week)), (Scores{{"1", 4}}));
  EXPECT_EQ(window(list("", Period::week)), std::to_string(days_before(today, 7)));
  ASSERT_TRUE(redis_->execute(Command("DEL", keys::views_hold())));
  EXPECT_FALSE(keep(t0).held);
  EXPECT_TRUE(scores(list("", Period::week)).empty());
}

// The invariant over time: after every upkeep each list is the sum of its window's day lists (less
// the withdrawn videos, which only the day lists pages read lose), however the views, the upkeep's
// chunks, withdrawals and two aggregators keeping the windows at once fall.
TEST_F(WindowsTest, EveryListStaysTheSumOfItsWindowOverFortyFiveDays) {
  std::mt19937 random(20210301);
  std::set<int64_t> gone;
  int concurrent = 0;
  for (int day = 0; day < 45; ++day) {
    for (int64_t hour : {1, 9, 17}) {
      const int64_t now = t0 - 12 * 3600 + day * 86400 + hour * 3600;
      const int32_t today = utc_day(now);
      std::vector<VideoIncrement> views;
      for (int i = 0; i < 30; ++i) {
        const int64_t id = 1 + static_cast<int64_t>(random() % videos);
        // Mostly today, some yesterday (late events), a few from a day the week has left.
        const int back = random() % 10 == 0 ? 9 : static_cast<int>(random() % 2);
        views.push_back({id, days_before(today, back), 1 + static_cast<int64_t>(random() % 5), 1});
      }
      flush(views, now);
      if (day == 20 && hour == 9) {
        for (int64_t id : {5, 6}) {
          auto replies = redis_->execute(projection::withdraw_video_commands(video(id), today));
          ASSERT_TRUE(replies && redis::check_exec(*replies, "withdraw").ok());
          gone.insert(id);
        }
      }
      WindowOptions options;
      options.chunk = 3 + static_cast<int64_t>(random() % 5);
      if (random() % 3 == 0) {
        // Two aggregators at once, their script calls interleaved on one event loop.
        using State = testing::TaskState<Result<WindowStats>>;
        std::vector<std::shared_ptr<State>> runs{std::make_shared<State>(), std::make_shared<State>()};
        for (auto& run : runs) {
          asio::co_spawn(io_, testing::store_into(keep_windows(*connection_, now, slugs, options), run),
                         [run](std::exception_ptr) { run->finished = true; });
        }
        ASSERT_TRUE(testing::run_until(io_, [&] { return runs[0]->finished && runs[1]->finished; }));
        for (auto& run : runs) {
          ASSERT_TRUE(run->result && *run->result) << (run->result ? run->result->error().message : "threw");
        }
        ++concurrent;
      } else {
        keep(now, options.chunk);
      }
      for (std::string_view slug : {"", "music", "sports"}) {
        for (auto [period, length] : {std::pair{Period::week, 7}, std::pair{Period::month, 30}}) {
          const int32_t first = days_before(today, length - 1);
          ASSERT_EQ(window(list(slug, period)), std::to_string(first));
          ASSERT_EQ(scores(list(slug, period)), window_sum(slug, first, today, gone))
              << list(slug, period) << " on day " << day << " at " << hour << ":00";
        }
      }
    }
  }
  EXPECT_GT(concurrent, 5);
}

}  // namespace
}  // namespace reel::views
