// Filtered listings (projection/filtered_list.h) against a real redis-server: every scope, sort,
// duration bucket and upload period, alone and combined, page by page, compared with an oracle
// that filters the whole ordering list (ZREVRANGE 0 -1) in C++; the plans' limits (scan cap,
// max_results) with small values; the result key reused by the next page; the period's edges
// with a ManualClock (only the filter's "now" comes from it: the result key's expiry is Redis's).
#include "projection/filtered_list.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <tuple>

#include "catalog/model.h"
#include "common/asio.h"  // before any other Asio header
#include "common/clock.h"
#include "common/days.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "projection/redis_read_model.h"
#include "redis/script.h"
#include "support/event_loop.h"
#include "support/suite_redis.h"

namespace reel::projection {
namespace {

using namespace std::chrono_literals;
using reel::testing::run_task;

constexpr int64_t now_s = 1'800'000'000;  // the ManualClock's time; Redis TTLs never see it
constexpr int64_t day_s = 86400;
const std::vector<std::string> categories{"music", "games", "news"};
const std::vector<std::string> tags{"t0", "t1", "t2", "t3", "t4"};
const std::vector<std::string> channels{"ann", "bob", "cid"};

struct Scoped {
  ListKind kind;
  std::string name;
};

std::vector<Scoped> all_scopes() {
  std::vector<Scoped> scopes{{ListKind::all, ""}};
  for (const auto& c : categories) scopes.push_back({ListKind::category, c});
  for (const auto& t : tags) scopes.push_back({ListKind::tag, t});
  for (const auto& c : channels) scopes.push_back({ListKind::channel, c});
  return scopes;
}

std::string describe(const ListQuery& q) {
  return fmt::format("kind={} name={} sort={} period={} duration={} page={}", static_cast<int>(q.kind),
                     q.name, sort_name(q.sort), period_name(q.period), duration_name(q.duration), q.page);
}

class FilteredListTest : public reel::testing::RedisSuiteTest {
 protected:
  void SetUp() override {
    RedisSuiteTest::SetUp();
    auto client = flushed_client();
    ASSERT_TRUE(client) << client.error().message;
    client_.emplace(std::move(*client));
    write_catalog();
  }

  // 240 videos over 40 days, durations on and around the buckets' edges, views with ties, a
  // subset viewed this week and today, a subset trending; plus two videos on the week's edge.
  void write_catalog() {
    std::mt19937 rng(12);
    const int32_t durations[] = {15, 120, 239, 240, 241, 600, 1199, 1200, 1201, 4000};
    std::vector<redis::Command> writes;
    std::vector<catalog::Category> nav;
    for (size_t i = 0; i < categories.size(); ++i) {
      nav.push_back(
          {static_cast<int64_t>(i + 1), categories[i], "Category " + categories[i], static_cast<int32_t>(i)});
    }
    writes.push_back(nav_command(nav));
    for (size_t i = 0; i < channels.size(); ++i) {
      writes.push_back(
          channel_command({static_cast<int64_t>(i + 1), channels[i], "Channel " + channels[i], 1, 3}));
    }
    const int32_t today = utc_day(now_s);
    for (int64_t id = 1; id <= 242; ++id) {
      catalog::Video video;
      video.id = id;
      video.title = fmt::format("Video {}", id);
      video.slug = fmt::format("video-{}", id);
      video.status = catalog::VideoStatus::ready;
      video.duration_s = durations[rng() % std::size(durations)];
      video.published_at = now_s - static_cast<int64_t>(rng() % (40 * day_s));
      if (id == 241) video.published_at = now_s - 7 * day_s;      // on the week's first second
      if (id == 242) video.published_at = now_s - 7 * day_s - 1;  // just before it
      video.views = static_cast<int64_t>(rng() % 50) * 10;        // many ties
      video.likes = static_cast<int64_t>(rng() % 20);
      video.dislikes = static_cast<int64_t>(rng() % 5);
      video.channel_name = channels[rng() % channels.size()];
      video.categories = {categories[rng() % categories.size()]};
      if (rng() % 3 == 0 && categories[id % 3] != video.categories[0])
        video.categories.push_back(categories[id % 3]);
      for (const auto& t : tags) {
        if (rng() % 3 == 0) video.tags.push_back(t);
      }
      videos_[id] = video;
      for (auto& command : publish_video_commands(video, "Channel " + video.channel_name)) {
        writes.push_back(std::move(command));
      }
      if (rng() % 2 == 0) {
        for (Period period : {Period::week, Period::day}) {
          for (const auto& key : period_lists(video, period, today)) {
            writes.emplace_back("ZADD", key, static_cast<int64_t>(rng() % 30), id);
          }
        }
      }
      if (rng() % 3 != 0) {
        writes.emplace_back("ZADD", keys::trending({ListKind::all, {}}), static_cast<int64_t>(rng() % 40),
                            id);
        for (const auto& c : video.categories) {
          writes.emplace_back("ZADD", keys::trending({ListKind::category, c}),
                              static_cast<int64_t>(rng() % 40), id);
        }
      }
    }
    auto written = client_->execute(std::move(writes));
    ASSERT_TRUE(written) << written.error().message;
    for (const auto& reply : *written) ASSERT_FALSE(reply.is_error()) << reply.str();
  }

  // The ids of the query's ordering list that pass its filters, in the list's order, at `now`.
  std::vector<int64_t> oracle(const ListQuery& query, int64_t now) {
    const std::string key = keys::list({query.kind, query.name}, query.sort, query.period, utc_day(now));
    auto all = client_->execute(redis::Command("ZREVRANGE", key, 0, -1));
    EXPECT_TRUE(all && !all->is_error());
    const bool period_filter = query.period != Period::all && query.sort != Sort::views;
    const DurationRange bucket = duration_range(query.duration);
    std::vector<int64_t> ids;
    for (const auto& element : all->elements()) {
      const auto& video = videos_.at(std::stoll(std::string(element.str())));
      if (video.duration_s < bucket.min_s || video.duration_s >= bucket.max_s) continue;
      if (period_filter && video.published_at < now - period_seconds(query.period)) continue;
      ids.push_back(video.id);
    }
    return ids;
  }

  // Every filtered combination of every scope, sort, duration and period.
  static std::vector<ListQuery> filtered_queries() {
    std::vector<ListQuery> queries;
    for (const auto& scope : all_scopes()) {
      for (Sort sort : all_sorts) {
        for (Duration duration : all_durations) {
          for (Period period : all_periods) {
            ListQuery query;
            query.kind = scope.kind;
            query.name = scope.name;
            query.sort = sort;
            query.duration = duration;
            query.period = period;
            if (query.filtered()) queries.push_back(query);
          }
        }
      }
    }
    return queries;
  }

  // The script's answer for `query` with `limits` (NOSCRIPT answered with the source).
  Result<FilteredPage> call(const ListQuery& query, const FilterLimits& limits, int64_t now = now_s) {
    FilteredPageCall page(query, utc_day(now), now, limits);
    auto reply = client_->execute(page.evalsha());
    if (!reply) return reply.error();
    if (redis::Script::is_noscript(*reply)) reply = client_->execute(page.eval());
    if (!reply) return reply.error();
    return parse_filtered_page(*reply);
  }

  std::optional<redis::BlockingClient> client_;
  std::map<int64_t, catalog::Video> videos_;
};

// A RedisReadModel on its own loop and connection, with a ManualClock at now_s.
struct Reader {
  explicit Reader(const redis::ConnectionOptions& options, FilterLimits limits = {})
      : connection(io.get_executor(), options), model(connection, clock, {}, limits) {
    connection.start();
  }
  ~Reader() { connection.stop(); }
  std::shared_ptr<const Listing> read(const ListQuery& query) {
    auto listing = run_task(io, model.listing(query));
    if (!listing || !*listing) {
      ADD_FAILURE() << describe(query) << ": " << (listing ? listing->error().message : "no answer");
      return std::make_shared<const Listing>();
    }
    return **listing;
  }
  asio::io_context io;
  ManualClock clock{now_s};
  redis::Connection connection;
  RedisReadModel model;
};

std::vector<int64_t> ids_of(const std::vector<Card>& cards) {
  std::vector<int64_t> ids;
  for (const auto& card : cards) ids.push_back(card.id);
  return ids;
}

TEST_F(FilteredListTest, EveryScopeSortAndFilterPagesThroughExactlyTheMatchesInOrder) {
  Reader reader(connection_options());
  int non_empty = 0;
  for (ListQuery query : filtered_queries()) {
    query.per_page = 9;
    const auto expected = oracle(query, now_s);
    std::vector<int64_t> got;
    for (query.page = 1;; ++query.page) {
      auto listing = reader.read(query);
      ASSERT_TRUE(listing->found) << describe(query);
      ASSERT_EQ(listing->total, static_cast<int64_t>(expected.size())) << describe(query);
      ASSERT_EQ(listing->pages, static_cast<int>((expected.size() + 8) / 9)) << describe(query);
      auto page = ids_of(listing->cards);
      got.insert(got.end(), page.begin(), page.end());
      if (query.page >= listing->pages) break;
      ASSERT_EQ(page.size(), 9u) << describe(query);
    }
    EXPECT_EQ(got, expected) << describe(query);
    if (!expected.empty()) ++non_empty;
  }
  // The catalog is rich enough that most combinations whose list exists match something (tags and
  // channels have no rating, duration or trending lists: 360 of the 864 combinations).
  EXPECT_GT(non_empty, 350);
}

TEST_F(FilteredListTest, TheTitlesAndFoundOfTheScopesAreThoseOfTheUnfilteredListing) {
  Reader reader(connection_options());
  for (const auto& scope : all_scopes()) {
    ListQuery query;
    query.kind = scope.kind;
    query.name = scope.name;
    auto plain = reader.read(query);
    query.duration = Duration::long_videos;
    auto filtered = reader.read(query);
    EXPECT_TRUE(filtered->found) << scope.name;
    EXPECT_EQ(filtered->title, plain->title) << scope.name;
    EXPECT_EQ(filtered->subscribers, plain->subscribers) << scope.name;
    EXPECT_EQ(filtered->nav.size(), categories.size());
  }
}

TEST_F(FilteredListTest, AnUnknownCategoryTagOrChannelIsNotFound) {
  Reader reader(connection_options());
  for (auto kind : {ListKind::category, ListKind::tag, ListKind::channel}) {
    ListQuery query;
    query.kind = kind;
    query.name = "nothing-by-this-name";
    query.duration = Duration::short_videos;
    query.period = Period::month;
    auto listing = reader.read(query);
    EXPECT_FALSE(listing->found) << static_cast<int>(kind);
    EXPECT_TRUE(listing->cards.empty());
    EXPECT_EQ(listing->total, 0);
  }
  // Nothing was cached for a list that does not exist.
  auto stored = client_->execute(redis::Command("KEYS", "ql:*"));
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->elements().empty());
}

TEST_F(FilteredListTest, SmallLimitsBoundTheWorkAndKeepTheFirstMatchesInOrder) {
  FilterLimits limits;
  limits.max_results = 7;
  limits.scan_cap = 40;
  limits.chunk = 6;
  int incomplete = 0, capped_by_scan = 0;
  for (ListQuery query : filtered_queries()) {
    query.per_page = 5;
    const auto expected = oracle(query, now_s);
    std::vector<int64_t> got;
    FilteredPage first;
    for (query.page = 1; query.page <= 3; ++query.page) {
      auto page = call(query, limits);
      ASSERT_TRUE(page) << page.error().message;
      EXPECT_LE(page->scanned, limits.scan_cap) << describe(query);
      if (page->scanned > 0 || page->cached) {  // read from a result key, not straight from the list
        EXPECT_LE(page->pageable, limits.max_results) << describe(query);
      }
      if (query.page > 1 && first.scanned > 0) {
        EXPECT_TRUE(page->cached) << describe(query);
      }
      if (query.page == 1) first = *page;
      for (const auto& id : page->ids) got.push_back(std::stoll(id));
    }
    // The pages hold the first matches, in the list's order: a prefix of the oracle.
    ASSERT_LE(got.size(), expected.size()) << describe(query);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), expected.begin())) << describe(query);
    EXPECT_EQ(static_cast<int64_t>(got.size()), std::min<int64_t>(first.pageable, 15)) << describe(query);
    if (first.complete) {
      EXPECT_EQ(first.total, static_cast<int64_t>(expected.size())) << describe(query);
    } else {
      ++incomplete;
      EXPECT_EQ(first.total, first.pageable) << describe(query);
      EXPECT_LE(first.total, static_cast<int64_t>(expected.size())) << describe(query);
      if (first.scanned == limits.scan_cap && first.total < limits.max_results) ++capped_by_scan;
    }
  }
  EXPECT_GT(incomplete, 0);
  EXPECT_GT(capped_by_scan, 0);  // some walks stopped at the scan cap, not at max_results
}

TEST_F(FilteredListTest, AFilterOnTheListsOwnScoreReadsItsRangeAtAnyDepthWithoutStoring) {
  FilterLimits limits;
  limits.max_results = 7;
  limits.scan_cap = 40;
  for (auto [sort, period, duration] : {std::tuple{Sort::newest, Period::month, Duration::any},
                                        std::tuple{Sort::duration, Period::all, Duration::short_videos}}) {
    ListQuery query;
    query.sort = sort;
    query.period = period;
    query.duration = duration;
    query.per_page = 5;
    const auto expected = oracle(query, now_s);
    ASSERT_GT(expected.size(), 60u) << describe(query);  // beyond both limits
    query.page = 12;
    auto page = call(query, limits);
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_EQ(page->scanned, 0) << describe(query);
    EXPECT_TRUE(page->complete);
    EXPECT_EQ(page->total, static_cast<int64_t>(expected.size())) << describe(query);
    EXPECT_EQ(page->pageable, page->total);
    std::vector<std::string> want;
    for (size_t i = 55; i < 60; ++i) want.push_back(std::to_string(expected[i]));
    EXPECT_EQ(page->ids, want) << describe(query);
  }
  auto stored = client_->execute(redis::Command("KEYS", "ql:*"));
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->elements().empty());
}

TEST_F(FilteredListTest, TheNextPageAndTheNextVisitorReuseTheResultKey) {
  ListQuery query;
  query.sort = Sort::views;
  query.duration = Duration::medium;
  query.per_page = 4;
  auto first = call(query, {});
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(first->cached);
  EXPECT_GT(first->scanned, 0);
  // A new medium video with the most views: a fresh walk would put it first.
  auto newcomer = videos_.at(1);
  newcomer.id = 999;
  newcomer.duration_s = 600;
  newcomer.views = 1'000'000;
  videos_[999] = newcomer;
  auto published = client_->execute(publish_video_commands(newcomer, "Channel ann"));
  ASSERT_TRUE(published);

  query.page = 2;
  auto second = call(query, {});
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->cached);
  EXPECT_EQ(second->scanned, 0);
  EXPECT_EQ(second->total, first->total);
  // Another reader (another visitor's server) sees the same cached matches, without the newcomer.
  Reader reader(connection_options());
  query.page = 1;
  auto listing = reader.read(query);
  ASSERT_FALSE(listing->cards.empty());
  EXPECT_NE(listing->cards[0].id, 999);
  EXPECT_EQ(listing->total, first->total);
  std::vector<std::string> shown;
  for (const auto& card : listing->cards) shown.push_back(std::to_string(card.id));
  EXPECT_EQ(shown, first->ids);

  // Once the result key is gone (it expires), the walk runs again and finds the newcomer.
  FilteredPageCall page(query, utc_day(now_s), now_s, {});
  ASSERT_TRUE(client_->execute(redis::Command("DEL", page.result_key())));
  auto fresh = call(query, {});
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_FALSE(fresh->cached);
  ASSERT_FALSE(fresh->ids.empty());
  EXPECT_EQ(fresh->ids[0], "999");
  EXPECT_EQ(fresh->total, first->total + 1);
}

// The result key is a cache of the primary's own: neither logged in the AOF nor replicated.
TEST_F(FilteredListTest, ItsWritesAreNeitherLoggedNorReplicated) {
  ListQuery query;
  query.sort = Sort::views;
  query.duration = Duration::long_videos;
  const auto before = reel::testing::aof_bytes(*client_);
  ASSERT_TRUE(before) << before.error().message;
  auto first = call(query, {});
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(first->cached);
  FilteredPageCall page(query, utc_day(now_s), now_s, {});
  auto stored = client_->execute(redis::Command("EXISTS", page.result_key()));
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->integer(), 1);
  const auto after = reel::testing::aof_bytes(*client_);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(*after, *before);
}

TEST_F(FilteredListTest, TheResultKeyExpiresByRedisOwnClock) {
  ListQuery query;
  query.sort = Sort::rating;
  query.duration = Duration::short_videos;
  FilteredPageCall page(query, utc_day(now_s), now_s, {});
  ASSERT_TRUE(call(query, {}));
  auto ttl = client_->execute(redis::Command("TTL", page.result_key()));
  ASSERT_TRUE(ttl);
  EXPECT_GT(ttl->integer(), 0);
  EXPECT_LE(ttl->integer(), FilterLimits{}.ttl.count());
}

TEST_F(FilteredListTest, ThePeriodStartsAtNowMinusItsLengthInclusive) {
  Reader reader(connection_options());
  for (Sort sort : {Sort::newest, Sort::rating, Sort::duration}) {
    ListQuery query;
    query.sort = sort;
    query.period = Period::week;
    query.per_page = 500;
    auto listing = reader.read(query);
    std::set<int64_t> shown;
    for (const auto& card : listing->cards) shown.insert(card.id);
    EXPECT_TRUE(shown.contains(241)) << sort_name(sort) << ": published exactly a week ago";
    EXPECT_FALSE(shown.contains(242)) << sort_name(sort) << ": a second earlier";
  }

  // A second later the edge moves past video 241; a cached result still holds it until it is
  // dropped (it expires), then the walk leaves it out.
  reader.clock.advance(2s);  // past the loop's one-second page cache too
  ListQuery query;
  query.sort = Sort::rating;
  query.period = Period::week;
  query.per_page = 500;
  auto cached = reader.read(query);
  EXPECT_TRUE(
      std::any_of(cached->cards.begin(), cached->cards.end(), [](const Card& c) { return c.id == 241; }));
  FilteredPageCall page(query, utc_day(now_s), now_s, {});
  ASSERT_TRUE(client_->execute(redis::Command("DEL", page.result_key())));
  reader.clock.advance(2s);  // past the loop's page cache again
  auto later = reader.read(query);
  EXPECT_FALSE(
      std::any_of(later->cards.begin(), later->cards.end(), [](const Card& c) { return c.id == 241; }));
  EXPECT_EQ(later->total, static_cast<int64_t>(oracle(query, now_s + 4).size()));
}

TEST_F(FilteredListTest, ALostScriptCacheIsAnsweredWithTheSource) {
  ASSERT_TRUE(client_->execute(redis::Command("SCRIPT", "FLUSH")));
  Reader reader(connection_options());
  ListQuery query;
  query.kind = ListKind::category;
  query.name = "music";
  query.duration = Duration::long_videos;
  query.sort = Sort::trending;
  auto listing = reader.read(query);
  EXPECT_TRUE(listing->found);
  EXPECT_EQ(ids_of(listing->cards), oracle(query, now_s));
}

}  // namespace
}  // namespace reel::projection
