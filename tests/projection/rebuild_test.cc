// Rebuild and the Redis read model against a real redis-server and a real SQLite store.
#include "projection/rebuild.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "common/asio.h"  // before any other Asio header
#include "common/clock.h"
#include "common/days.h"
#include "projection/keys.h"
#include "projection/redis_read_model.h"
#include "redis/blocking_client.h"
#include "redis/server.h"
#include "sql/catalog_store.h"
#include "support/fixtures.h"
#include "support/hold_renewals.h"

namespace reel::projection {
namespace {

namespace fs = std::filesystem;
constexpr int64_t now = 1795824000 + 12 * 3600;  // 2026-11-28 12:00 UTC

class RebuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis::RedisServerOptions options;
    options.dir = (dir_ / "redis").string();
    options.append_only = false;
    auto server = redis::RedisServer::start(options);
    ASSERT_TRUE(server) << server.error().message;
    server_.emplace(std::move(*server));
    redis::ConnectionOptions connection;
    connection.endpoint = server_->endpoint();
    auto client = redis::BlockingClient::connect(connection);
    ASSERT_TRUE(client) << client.error().message;
    redis_.emplace(std::move(*client));

    auto db = sql::open({"sqlite:" + (dir_ / "reel.db").string()});
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    ASSERT_TRUE(sql::migrate(*db_));
    store_.emplace(*db_);
    ASSERT_TRUE(store_->ensure_category("music", "Music", 0));
    ASSERT_TRUE(store_->ensure_category("sports", "Sports", 1));
    ASSERT_TRUE(store_->ensure_channel("bob", "Bob's Channel"));
    ASSERT_TRUE(store_->ensure_channel("ann", "Ann"));
    // id 1..5 ready, id 6 processing.
    add(1, "bob", {"music"}, {"guitar", "live"}, 100, 600, 10, 0);
    add(2, "bob", {"music"}, {"guitar", "live", "solo-only"}, 500, 60, 1, 1);
    add(3, "ann", {"sports"}, {"ball"}, 50, 3600, 0, 0);
    add(4, "ann", {"music", "sports"}, {"live"}, 1000, 30, 5, 5);
    add(5, "ann", {"sports"}, {"ball", "live"}, 7, 120, 0, 2);
    add(6, "ann", {"music"}, {"secret"}, 9999, 10, 0, 0, catalog::VideoStatus::processing);
    const int32_t today = utc_day(now);
    ASSERT_TRUE(store_->add_daily_views({{1, today, 30},
                                         {2, today, 3},
                                         {1, days_before(today, 3), 20},
                                         {4, days_before(today, 10), 400},
                                         {6, today, 50}}));
  }

  void TearDown() override {
    redis_.reset();
    if (server_) (void)server_->stop();
  }

  void add(int64_t expected_id, std::string channel, std::vector<std::string> categories,
           std::vector<std::string> tags, int64_t views, int32_t duration, int64_t likes, int64_t dislikes,
           catalog::VideoStatus status = catalog::VideoStatus::ready) {
    catalog::Video v;
    v.title = "Video " + std::to_string(expected_id);
    v.slug = "video-" + std::to_string(expected_id);
    auto channel_id = store_->ensure_channel(channel, channel);
    ASSERT_TRUE(channel_id);
    v.channel_id = *channel_id;
    v.channel_name = std::move(channel);
    v.categories = std::move(categories);
    v.tags = std::move(tags);
    v.views = views;
    v.duration_s = duration;
    v.likes = likes;
    v.dislikes = dislikes;
    v.status = status;
    v.published_at = now - expected_id * 3600;
    v.files = {{"mp4", 360, "demo/x.mp4", 1, "video/mp4"}, {"thumb", 180, "demo/x.jpg", 1, "image/jpeg"}};
    auto id = store_->insert_video(v);
    ASSERT_TRUE(id) << id.error().message;
    ASSERT_EQ(*id, expected_id);
  }

  RebuildStats rebuild_all(std::vector<std::string> names = {}) {
    RebuildOptions options;
    options.now = now;
    options.projections = std::move(names);
    auto stats = rebuild(*store_, *redis_, options);
    EXPECT_TRUE(stats) << stats.error().message;
    return stats ? *stats : RebuildStats{};
  }

  std::vector<std::string> strings(const redis::Reply& reply) {
    std::vector<std::string> out;
    for (const auto& e : reply.elements()) out.emplace_back(e.str());
    return out;
  }

  std::vector<std::string> zrevrange(const std::string& key) {
    auto reply = redis_->execute(redis::Command("ZREVRANGE", key, 0, -1));
    EXPECT_TRUE(reply);
    return reply ? strings(*reply) : std::vector<std::string>{};
  }

  int64_t integer(redis::Command command) {
    auto reply = redis_->execute(std::move(command));
    EXPECT_TRUE(reply);
    return reply ? reply->integer() : -1;
  }

  // A connection of the test's own to the suite's Redis, to watch or disturb the hold on views.
  Result<redis::BlockingClient> connect_observer() {
    return redis::BlockingClient::connect(redis::ConnectionOptions{.endpoint = server_->endpoint()});
  }

  // Options for a rebuild of everything whose hold on views lives 600 ms past its last renewal.
  static RebuildOptions with_short_hold() {
    RebuildOptions options;
    options.now = now;
    options.hold_ttl = std::chrono::milliseconds(600);
    return options;
  }

  // A read model with the event loop and Redis connection of its own that a server loop gives it.
  struct LoopModel {
    explicit LoopModel(const redis::Endpoint& endpoint)
        : connection(io.get_executor(), redis::ConnectionOptions{.endpoint = endpoint}),
          model(connection, clock) {
      connection.start();
    }
    asio::io_context io;
    redis::Connection connection;
    ManualClock clock{now};
    RedisReadModel model;
  };

  // Runs one read-model call on a fresh event loop; returns its result and the round trips it took.
  template <class Call>
  auto read(Call call) {
    LoopModel loop(server_->endpoint());
    auto& [io, connection, clock, model] = loop;
    using R = typename decltype(call(model))::value_type;
    std::optional<R> result;
    uint64_t before = 0;
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
          co_await model.ready();  // connects; not counted below
          before = connection.stats().round_trips;
          result.emplace(co_await call(model));
          connection.stop();
        },
        asio::detached);
    io.run();
    return std::pair{std::move(*result), connection.stats().round_trips - before};
  }

  reel::testing::TempDir temp_;
  const fs::path& dir_ = temp_.path();
  std::optional<redis::RedisServer> server_;
  std::optional<redis::BlockingClient> redis_;
  std::unique_ptr<sql::Connection> db_;
  std::optional<sql::CatalogStore> store_;
};

using keys::Scope;

TEST_F(RebuildTest, ListsHoldReadyVideosInOrder) {
  auto stats = rebuild_all();
  EXPECT_EQ(stats.videos, 5u);
  EXPECT_EQ(zrevrange("z:new"), (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(zrevrange(keys::list({ListKind::all, {}}, Sort::views)),
            (std::vector<std::string>{"4", "2", "1", "3", "5"}));
  EXPECT_EQ(zrevrange(keys::list({ListKind::all, {}}, Sort::duration)),
            (std::vector<std::string>{"3", "1", "5", "2", "4"}));
  EXPECT_EQ(zrevrange(keys::list({ListKind::category, "music"}, Sort::newest)),
            (std::vector<std::string>{"1", "2", "4"}));
  EXPECT_EQ(zrevrange(keys::list({ListKind::tag, "live"}, Sort::views)),
            (std::vector<std::string>{"4", "2", "1", "5"}));
  EXPECT_EQ(zrevrange(keys::list({ListKind::channel, "ann"}, Sort::newest)),
            (std::vector<std::string>{"3", "4", "5"}));
  EXPECT_TRUE(zrevrange(keys::list({ListKind::tag, "secret"}, Sort::newest)).empty())
      << "processing video listed";
  EXPECT_EQ(integer(redis::Command("EXISTS", keys::card(6))), 0);
  EXPECT_EQ(integer(redis::Command("EXISTS", keys::video(1))), 1);
  auto shadows = redis_->execute(redis::Command("KEYS", std::string(keys::shadow_prefix()) + "*"));
  ASSERT_TRUE(shadows);
  EXPECT_TRUE(shadows->elements().empty());
}

TEST_F(RebuildTest, PeriodListsComeFromDailyViews) {
  rebuild_all();
  const int32_t today = utc_day(now);
  const auto day = keys::list({ListKind::all, {}}, Sort::views, Period::day, today);
  EXPECT_EQ(zrevrange(day), (std::vector<std::string>{"1", "2"}));
  // It lives until the day's start + 35 days, counted from the rebuild's clock (noon of that day),
  // whatever Redis's own clock says.
  const int64_t ttl = integer(redis::Command("TTL", day));
  EXPECT_LE(ttl, 35 * 86400 - 12 * 3600);
  EXPECT_GT(ttl, 35 * 86400 - 13 * 3600);
  EXPECT_EQ(zrevrange(keys::list({ListKind::all, {}}, Sort::views, Period::week)),
            (std::vector<std::string>{"1", "2"}));
  auto week_score = redis_->execute(
      redis::Command("ZSCORE", keys::list({ListKind::all, {}}, Sort::views, Period::week), 1));
  ASSERT_TRUE(week_score);
  EXPECT_EQ(week_score->number(), 50);
  EXPECT_EQ(zrevrange(keys::list({ListKind::all, {}}, Sort::views, Period::month)),
            (std::vector<std::string>{"4", "1", "2"}));
  EXPECT_EQ(zrevrange(keys::list({ListKind::category, "sports"}, Sort::views, Period::month)),
            (std::vector<std::string>{"4"}));
  // Each week and month list comes with its window (views/windows.h), every category's too.
  for (const std::string slug : {"", "music", "sports"}) {
    const keys::Scope scope{slug.empty() ? ListKind::all : ListKind::category, slug};
    for (auto [period, first] :
         {std::pair{Period::week, days_before(today, 6)}, std::pair{Period::month, days_before(today, 29)}}) {
      auto window = redis_->execute(
          redis::Command("HGET", keys::views_windows(), keys::list(scope, Sort::views, period)));
      ASSERT_TRUE(window);
      EXPECT_EQ(window->str(), std::to_string(first)) << keys::list(scope, Sort::views, period);
    }
  }
  // Trending: the last week's daily counts, decayed; video 4's views are older than a week.
  EXPECT_EQ(zrevrange(keys::list({ListKind::all, {}}, Sort::trending)), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(integer(redis::Command("EXISTS", keys::trending_epoch())), 1);
}

TEST_F(RebuildTest, RelatedSharesTagsFirst) {
  rebuild_all();
  auto related = zrevrange(keys::related(1));
  ASSERT_FALSE(related.empty());
  EXPECT_EQ(related[0], "2");  // shares two tags and the category
  EXPECT_EQ(std::find(related.begin(), related.end(), "1"), related.end());
  EXPECT_EQ(std::find(related.begin(), related.end(), "6"), related.end());
}

// One event loop's read model keeps a list page and its cards from their second read on, reuses
// them while younger than card_ttl (no round trip at all for a kept page, no MGET for a page of
// kept cards), and reads them again once that has passed.
TEST_F(RebuildTest, ReadModelKeepsPagesAndCardsForTheirTtl) {
  rebuild_all();
  LoopModel loop(server_->endpoint());
  auto& [io, connection, clock, model] = loop;
  ListQuery query;
  query.sort = Sort::views;
  std::vector<int64_t> views_of_1;
  std::vector<uint64_t> trips;
  auto read_page = [&]() -> Task<void> {
    const uint64_t before = connection.stats().round_trips;
    auto listing = co_await model.listing(query);
    trips.push_back(connection.stats().round_trips - before);
    for (const auto& card : listing ? (*listing)->cards : std::vector<Card>{}) {
      if (card.id == 1) views_of_1.push_back(card.views);
    }
  };
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        co_await model.ready();
        co_await read_page();  // read once: not kept
        co_await read_page();  // read twice: kept from now on
        co_await connection.execute(redis::Command("SETRANGE", keys::card(1), 0, "000000000777"));
        co_await read_page();  // within the TTL: the kept page, no round trip
        query.per_page = 3;
        co_await read_page();  // another page of the list, read once: its ids, then the kept cards
        clock.advance(std::chrono::seconds(2));
        co_await read_page();  // past the TTL: read again
        connection.stop();
      },
      asio::detached);
  io.run();
  EXPECT_EQ(views_of_1, (std::vector<int64_t>{150, 150, 150, 150, 777}));
  EXPECT_EQ(trips, (std::vector<uint64_t>{2, 2, 0, 1, 2}));
}

TEST_F(RebuildTest, ReadModelKeepsTheHomePageForTheTtl) {
  rebuild_all();
  LoopModel loop(server_->endpoint());
  auto& [io, connection, clock, model] = loop;
  std::vector<uint64_t> trips;
  std::vector<size_t> newest;
  auto read_home = [&]() -> Task<void> {
    const uint64_t before = connection.stats().round_trips;
    auto home = co_await model.home();
    trips.push_back(connection.stats().round_trips - before);
    newest.push_back(home ? (*home)->newest.size() : 0);
  };
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        co_await model.ready();
        co_await read_home();  // read once: not kept
        co_await read_home();  // read twice: kept from now on
        co_await read_home();  // within the TTL: no round trip
        clock.advance(std::chrono::seconds(2));
        co_await read_home();  // past it: read again
        connection.stop();
      },
      asio::detached);
  io.run();
  EXPECT_EQ(trips[2], 0u);
  EXPECT_GT(trips[3], 0u);
  EXPECT_GT(trips[0], 0u);
  EXPECT_EQ(newest, (std::vector<size_t>{5, 5, 5, 5}));
}

TEST_F(RebuildTest, ReadModelAnswersInAtMostTwoRoundTrips) {
  rebuild_all();
  {
    ListQuery query;
    query.sort = Sort::views;
    query.per_page = 2;
    query.page = 2;
    auto [listing, trips] = read([&](ReadModel& m) { return m.listing(query); });
    ASSERT_TRUE(listing);
    EXPECT_LE(trips, 2u);
    EXPECT_EQ((*listing)->total, 5);
    EXPECT_EQ((*listing)->pages, 3);
    ASSERT_EQ((*listing)->cards.size(), 2u);
    EXPECT_EQ((*listing)->cards[0].id, 1);
    EXPECT_EQ((*listing)->cards[0].views, 150);  // 100 + the 50 daily views added
    EXPECT_DOUBLE_EQ((*listing)->cards[0].rating, 100.0);
    EXPECT_EQ((*listing)->cards[0].thumb_url, "/media/demo/x.jpg");
    ASSERT_EQ((*listing)->nav.size(), 2u);
  }
  {
    ListQuery query{ListKind::channel, "bob"};
    auto [listing, trips] = read([&](ReadModel& m) { return m.listing(query); });
    ASSERT_TRUE(listing);
    EXPECT_LE(trips, 2u);
    EXPECT_TRUE((*listing)->found);
    EXPECT_EQ((*listing)->title, "Bob's Channel");
    EXPECT_EQ((*listing)->cards.size(), 2u);
  }
  for (auto query : {ListQuery{ListKind::category, "nope"}, ListQuery{ListKind::tag, "nope"},
                     ListQuery{ListKind::channel, "nobody"}}) {
    auto [listing, trips] = read([&](ReadModel& m) { return m.listing(query); });
    ASSERT_TRUE(listing);
    EXPECT_FALSE((*listing)->found) << query.name;
  }
  {
    auto [video, trips] = read([](ReadModel& m) { return m.video(1); });
    ASSERT_TRUE(video);
    ASSERT_TRUE(*video);
    EXPECT_LE(trips, 2u);
    EXPECT_EQ((*video)->title, "Video 1");
    EXPECT_EQ((*video)->views, 150);
    EXPECT_EQ((*video)->channel_display_name, "Bob's Channel");
    ASSERT_FALSE((*video)->related.empty());
    EXPECT_EQ((*video)->related[0].id, 2);
    EXPECT_EQ((*video)->related[0].views, 503);
  }
  {
    auto [video, trips] = read([](ReadModel& m) { return m.video(6); });
    ASSERT_TRUE(video);
    EXPECT_FALSE(*video) << "a processing video has no page";
  }
  {
    auto [home, trips] = read([](ReadModel& m) { return m.home(); });
    ASSERT_TRUE(home);
    EXPECT_LE(trips, 2u);
    ASSERT_EQ((*home)->popular.size(), 2u);  // today's list
    EXPECT_EQ((*home)->popular[0].id, 1);
    EXPECT_EQ((*home)->newest.size(), 5u);
  }
}

TEST_F(RebuildTest, StaleKeysAreRemoved) {
  rebuild_all();
  ASSERT_TRUE(db_->execute("UPDATE videos SET status = 'failed' WHERE id = 2"));
  auto stats = rebuild_all();
  EXPECT_GT(stats.stale_keys_removed, 0u);
  EXPECT_EQ(integer(redis::Command("EXISTS", keys::card(2))), 0);
  EXPECT_EQ(integer(redis::Command("EXISTS", keys::video(2))), 0);
  EXPECT_EQ(integer(redis::Command("EXISTS", keys::list({ListKind::tag, "solo-only"}, Sort::newest))), 0);
  EXPECT_EQ(zrevrange("z:new"), (std::vector<std::string>{"1", "3", "4", "5"}));
}

TEST_F(RebuildTest, NamedProjectionsOnly) {
  rebuild_all();
  ASSERT_TRUE(store_->ensure_category("news", "News", 2));
  ASSERT_TRUE(redis_->execute(redis::Command("DEL", "z:new")));
  rebuild_all({"nav"});
  auto nav = redis_->execute(redis::Command("GET", keys::nav()));
  ASSERT_TRUE(nav);
  EXPECT_NE(nav->str().find("news"), std::string_view::npos);
  EXPECT_EQ(integer(redis::Command("EXISTS", "z:new")), 0) << "newest was not selected";
  RebuildOptions options;
  options.projections = {"everything"};
  auto bad = rebuild(*store_, *redis_, options);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unknown projection 'everything'"), std::string::npos);
}

TEST_F(RebuildTest, WaitsForEveryLiveAggregatorToConfirmItsViewsAreInSql) {
  rebuild_all();
  const auto views = keys::list({ListKind::all, {}}, Sort::views);
  ASSERT_TRUE(redis_->execute(redis::Command("ZADD", views, 1, 999)));  // marks the live list
  // One aggregator that never confirms, one whose presence expired (it died).
  ASSERT_TRUE(redis_->execute(redis::Command("HSET", keys::views_aggregators(), "stuck", 1, "gone", 1)));
  ASSERT_TRUE(redis_->execute(redis::Command("SET", keys::views_aggregator("stuck"), "", "PX", 600000)));
  RebuildOptions options;
  options.now = now;
  options.confirm_timeout = std::chrono::milliseconds(100);
  auto stats = rebuild(*store_, *redis_, options);
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message.find("stuck"), std::string::npos) << stats.error().message;
  EXPECT_EQ(stats.error().message.find("gone"), std::string::npos) << stats.error().message;
  EXPECT_EQ(integer(redis::Command("HEXISTS", keys::views_aggregators(), "gone")), 0);  // forgotten
  EXPECT_EQ(integer(redis::Command("EXISTS", keys::views_hold())), 0);                  // released
  EXPECT_EQ(integer(redis::Command("ZCARD", views)), 6);                                // nothing swapped in
  // A rebuild that needs no view counts does not wait for anyone.
  options.projections = {"newest"};
  EXPECT_TRUE(rebuild(*store_, *redis_, options));
}

// A stage may go minutes without a round trip to Redis (one SQL statement summing a month of daily
// views for a million videos): the hold must last through it all the same.
TEST_F(RebuildTest, HoldsViewCountingThroughAStageLongerThanTheHoldsTimeToLive) {
  auto observer = connect_observer();
  ASSERT_TRUE(observer) << observer.error().message;
  RebuildOptions options = with_short_hold();
  std::optional<Status> stalled;
  options.progress = [&](std::string_view stage, uint64_t, uint64_t) {
    if (stage != "views/month" || stalled) return;
    // Every round trip of the rebuild so far may have renewed the hold; from here it sends none
    // until the hold was renewed three times past the time to live.
    const auto lapse = std::chrono::steady_clock::now() + options.hold_ttl;
    stalled = reel::testing::await_hold_renewals(*observer, lapse, 3);
  };
  auto stats = rebuild(*store_, *redis_, options);
  ASSERT_TRUE(stalled) << "the rebuild never reached the month's views";
  EXPECT_TRUE(*stalled) << stalled->error().message;
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(integer(redis::Command("EXISTS", keys::views_hold())), 0);  // released
  EXPECT_EQ(zrevrange(keys::list({ListKind::all, {}}, Sort::views, Period::month)),
            (std::vector<std::string>{"4", "1", "2"}));
}

// A hold that lapses mid-rebuild (another tool removed it; or Redis was away past its time to live)
// is found before the swap: nothing built under it is published, and the error says why.
TEST_F(RebuildTest, ALapsedHoldSwapsNothingIn) {
  rebuild_all();
  const auto views = keys::list({ListKind::all, {}}, Sort::views);
  ASSERT_TRUE(redis_->execute(redis::Command("ZADD", views, 1, 999)));  // marks the live list
  auto observer = connect_observer();
  ASSERT_TRUE(observer) << observer.error().message;
  RebuildOptions options = with_short_hold();
  std::optional<Status> lapsed;
  options.progress = [&](std::string_view stage, uint64_t, uint64_t) {
    if (stage != "views/month" || lapsed) return;
    auto removed = observer->execute(redis::Command("DEL", keys::views_hold()));
    // The next renewal finds the hold gone.
    lapsed = removed ? reel::testing::await_renewal_attempts(*observer, 1) : Status{removed.error()};
  };
  auto stats = rebuild(*store_, *redis_, options);
  ASSERT_TRUE(lapsed) << "the rebuild never reached the month's views";
  ASSERT_TRUE(*lapsed) << lapsed->error().message;
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message.find("lapsed: nothing was swapped in"), std::string::npos)
      << stats.error().message;
  EXPECT_NE(stats.error().message.find("expired before the rebuild ended"), std::string::npos)
      << stats.error().message;
  const auto live = zrevrange(views);
  EXPECT_NE(std::find(live.begin(), live.end(), "999"), live.end());  // the live list is still in place
}

TEST_F(RebuildTest, OneRebuildOfViewCountsAtATime) {
  ASSERT_TRUE(redis_->execute(redis::Command("SET", keys::views_hold(), "other", "PX", 600000)));
  RebuildOptions options;
  options.now = now;
  options.projections = {"views"};
  auto stats = rebuild(*store_, *redis_, options);
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message.find("another rebuild"), std::string::npos) << stats.error().message;
  auto hold = redis_->execute(redis::Command("GET", keys::views_hold()));
  ASSERT_TRUE(hold);
  EXPECT_EQ(hold->str(), "other");  // left to its owner
}

}  // namespace
}  // namespace reel::projection
