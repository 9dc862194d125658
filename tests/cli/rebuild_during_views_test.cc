// `reel rebuild` while the view aggregator counts: the real pipeline of `reel views` (TCP input,
// aggregator, flush script, daily counts to SQL on its own thread) against a real redis-server and
// SQLite, fed views without a pause while the real rebuild runs again and again. Every total must
// come out as the views sent: none lost between a rebuild's SQL snapshot and its swap, none
// counted twice.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "cli/views.h"
#include "common/asio.h"  // before any other Asio header
#include "common/clock.h"
#include "common/days.h"
#include "projection/codec.h"
#include "projection/keys.h"
#include "projection/rebuild.h"
#include "support/redis_sqlite_test.h"
#include "support/synthetic_catalog.h"

namespace reel::cli {
namespace {

using namespace std::chrono_literals;
using projection::ListKind;
using projection::Period;
using projection::Sort;
namespace keys = projection::keys;

constexpr int64_t catalog_size = 3000;
constexpr int64_t watched_videos = 300;  // views go to videos 1..300

// The views of one video on one UTC day.
using VideoDay = std::pair<int64_t, int32_t>;

class RebuildDuringViews : public reel::testing::RedisSqliteTest {
 protected:
  void SetUp() override {
    RedisSqliteTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(reel::testing::insert_synthetic_catalog(*store_, catalog_size));
    ASSERT_TRUE(rebuild_once({}));
  }

  Status rebuild_once(std::vector<std::string> projections) {
    projection::RebuildOptions options;
    options.projections = std::move(projections);
    options.now = SystemClock().unix_seconds();
    auto stats = projection::rebuild(*store_, *redis_, options);
    if (!stats) return stats.error();
    return {};
  }

  redis::Reply call(redis::Command command) {
    auto reply = redis_->execute(std::move(command));
    EXPECT_TRUE(reply) << reply.error().message;
    return reply ? std::move(*reply) : redis::Reply{};
  }

  int64_t score(const std::string& key, int64_t member) {
    auto reply = call(redis::Command("ZSCORE", key, member));
    return reply.is_nil() ? 0 : static_cast<int64_t>(reply.number());
  }

  static std::string all_time(ListKind kind = ListKind::all, std::string_view name = {}) {
    return keys::list({kind, name}, Sort::views, Period::all);
  }
  static std::string day_list(int32_t day) {
    return keys::list({ListKind::all, {}}, Sort::views, Period::day, day);
  }

  // videos.views in SQL, by id.
  std::map<int64_t, int64_t> sql_views() {
    std::map<int64_t, int64_t> views;
    auto scanned = store_->for_each_video(catalog::VideoStatus::ready,
                                          [&](const catalog::Video& v) { views[v.id] = v.views; });
    EXPECT_TRUE(scanned);
    return views;
  }
};

TEST_F(RebuildDuringViews, EveryViewSentIsCountedOnceInEveryTotal) {
  // What the lists say before any view: the totals must grow by exactly the views sent.
  std::map<int64_t, int64_t> total_before;
  for (int64_t id = 1; id <= watched_videos; ++id) total_before[id] = score(all_time(), id);
  const std::map<int64_t, int64_t> sql_before = sql_views();
  const int32_t today = utc_day(SystemClock().unix_seconds());
  std::map<VideoDay, int64_t> day_before;
  for (int32_t day : {days_before(today, 1), today, utc_day(day_start(today) + 86400)}) {
    for (int64_t id = 1; id <= watched_videos; ++id) day_before[{id, day}] = score(day_list(day), id);
  }

  config::Config config;
  config.redis.write = "127.0.0.1:" + std::to_string(server().endpoint().port);
  config.sql.url = sql_url_;
  config.views.flush_ms = 20;
  ViewsInputs inputs;
  inputs.tcp = {"127.0.0.1:0"};
  inputs.sql_interval = 500ms;  // SQL lags Redis, as in production (there 10 s)
  inputs.drain_timeout = 60s;
  auto pipeline = ViewsPipeline::open(config, inputs);
  ASSERT_TRUE(pipeline) << pipeline.error().message;
  ASSERT_EQ((*pipeline)->ports().size(), 1u);
  Status ran;
  std::thread aggregator([&] { ran = (*pipeline)->run(); });

  // The feeder: views of videos 1..300, each from a viewer of its own (none is a duplicate), at
  // the real time, in blocks of 50 lines, until told to stop.
  std::atomic<bool> feeding{true};
  std::map<VideoDay, int64_t> sent;
  int64_t sent_total = 0;
  Status fed;
  std::thread feeder([&] {
    try {
      asio::io_context io;
      asio::ip::tcp::socket socket(io);
      socket.connect({asio::ip::make_address("127.0.0.1"), (*pipeline)->ports()[0]});
      while (feeding) {
        std::string block;
        for (int i = 0; i < 50; ++i, ++sent_total) {
          const int64_t id = 1 + sent_total % watched_videos;
          const int64_t now = SystemClock().unix_seconds();
          block += "t=" + std::to_string(now) + " v=" + std::to_string(id) + " k=viewer" +
                   std::to_string(sent_total) + " r=search u=desktop\n";
          ++sent[{id, utc_day(now)}];
        }
        asio::write(socket, asio::buffer(block));
        std::this_thread::sleep_for(5ms);  // pacing, not synchronization
      }
    } catch (const std::exception& e) {
      fed = Error{e.what()};
    }
  });

  // Rebuilds one after another while views arrive: the lists of view counts alone, everything,
  // the lists again.
  for (auto projections :
       {std::vector<std::string>{"views"}, std::vector<std::string>{}, std::vector<std::string>{"views"}}) {
    auto rebuilt = rebuild_once(projections);
    EXPECT_TRUE(rebuilt) << rebuilt.error().message;
  }
  feeding = false;
  feeder.join();
  ASSERT_TRUE(fed) << fed.error().message;
  ASSERT_GT(sent_total, 0);

  // Every view sent reaches z:views:all (or some were lost: then this fails at the deadline).
  auto counted = [&] {
    int64_t sum = 0;
    for (int64_t id = 1; id <= watched_videos; ++id) sum += score(all_time(), id) - total_before[id];
    return sum;
  };
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (counted() < sent_total && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  (*pipeline)->stop();
  aggregator.join();
  ASSERT_TRUE(ran) << ran.error().message;

  std::map<int64_t, int64_t> sent_per_video;
  for (const auto& [video_day, n] : sent) sent_per_video[video_day.first] += n;
  const std::map<int64_t, int64_t> sql_after = sql_views();
  std::map<int64_t, catalog::Video> videos;
  ASSERT_TRUE(store_->for_each_video(catalog::VideoStatus::ready, [&](const catalog::Video& v) {
    if (v.id <= watched_videos) videos[v.id] = v;
  }));
  for (int64_t id = 1; id <= watched_videos; ++id) {
    SCOPED_TRACE("video " + std::to_string(id));
    const int64_t expected = total_before[id] + sent_per_video[id];
    EXPECT_EQ(score(all_time(), id), expected);
    auto card = projection::codec::decode_card(call(redis::Command("GET", keys::card(id))).str());
    ASSERT_TRUE(card.has_value());
    EXPECT_EQ(card->views, expected);
    // SQL, the record, holds each view once too.
    EXPECT_EQ(sql_after.at(id), sql_before.at(id) + sent_per_video[id]);
    // The all-time lists of its categories, tags and channel.
    for (const auto& slug : videos[id].categories)
      EXPECT_EQ(score(all_time(ListKind::category, slug), id), expected);
    for (const auto& tag : videos[id].tags) EXPECT_EQ(score(all_time(ListKind::tag, tag), id), expected);
    EXPECT_EQ(score(all_time(ListKind::channel, videos[id].channel_name), id), expected);
  }
  for (const auto& [video_day, n] : sent) {
    SCOPED_TRACE("video " + std::to_string(video_day.first) + " on " + std::to_string(video_day.second));
    EXPECT_EQ(score(day_list(video_day.second), video_day.first), day_before[video_day] + n);
  }
  // No hold is left behind.
  EXPECT_EQ(call(redis::Command("EXISTS", keys::views_hold())).integer(), 0);
}

}  // namespace
}  // namespace reel::cli
