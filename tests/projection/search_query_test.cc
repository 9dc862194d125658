// Search through RedisReadModel::search and its planner (search_query.h) against a real
// redis-server, on videos published with the projection's own commands (so the st: sets, lists
// and cards are what the worker writes): matching (all terms, exclusions, phrases), every filter
// alone and combined, every sort, the relevance formula, pagination, the result key reused,
// missing cards, bad input, Redis failures and the work budget on ten large term sets.
#include "projection/search_query.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "catalog/model.h"
#include "common/asio.h"  // before any other Asio header
#include "common/clock.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "projection/redis_read_model.h"
#include "projection/search_index.h"
#include "redis/connection.h"
#include "redis/server.h"
#include "search/analyzer.h"
#include "support/event_loop.h"
#include "support/fixtures.h"
#include "support/redis_loop_test.h"

namespace reel::projection {
namespace {

using namespace std::chrono_literals;

constexpr int64_t now_s = 1'800'000'000;
constexpr int64_t day_s = 86'400;

// A ready video by "ann" in category "music", 2 minutes long, published a day ago.
catalog::Video video(int64_t id, std::string title) {
  catalog::Video v;
  v.id = id;
  v.title = std::move(title);
  v.slug = search::thread_analyzer().slug(v.title);
  v.channel_name = "ann";
  v.categories = {"music"};
  v.description = "Filmed at home.";
  v.duration_s = 120;
  v.status = catalog::VideoStatus::ready;
  v.published_at = now_s - day_s;
  return v;
}

class SearchQueryTest : public testing::RedisLoopTest {
 protected:
  void SetUp() override {
    RedisLoopTest::SetUp();
    if (HasFatalFailure()) return;
    model_.emplace(*connection_, clock_);
  }

  void publish(const catalog::Video& v) {
    auto replies = redis_->execute(publish_video_commands(v, "Ann"));
    ASSERT_TRUE(replies) << replies.error().message;
    ASSERT_TRUE(redis::check_exec(*replies, "publish").ok());
  }

  redis::Reply command(redis::Command command) {
    auto reply = redis_->execute(std::move(command));
    EXPECT_TRUE(reply) << reply.error().message;
    return reply ? std::move(*reply) : redis::Reply{};
  }

  // The search's results; fails the test on an Error.
  SearchResults search(const SearchQuery& query) {
    auto results = testing::run_task(io_, model_->search(query));
    if (!results || !*results) {
      ADD_FAILURE() << "search failed: " << (results ? results->error().message : "no answer");
      return {};
    }
    return ***results;
  }
  SearchResults search(std::string text) {
    SearchQuery query;
    query.text = std::move(text);
    return search(query);
  }

  static std::vector<int64_t> ids(const SearchResults& results) {
    std::vector<int64_t> out;
    for (const auto& card : results.cards) out.push_back(card.id);
    return out;
  }

  // The planner's answer to `query` (ranks start..stop, the first page of 30 by default), called
  // directly.
  search_query::Answer plan_and_run(const SearchQuery& query, int64_t start = 0, int64_t stop = 29) {
    const auto plan = search_query::plan(query, search::thread_analyzer(), now_s, start, stop);
    auto reply = command(search_query::script().eval_command(plan.keys, plan.args));
    auto answer = search_query::read_answer(reply);
    EXPECT_TRUE(answer) << answer.error().message;
    return answer ? *answer : search_query::Answer{};
  }

  ManualClock clock_{now_s};
  std::optional<RedisReadModel> model_;
};

TEST_F(SearchQueryTest, EveryTermMustMatchAndExcludedTermsAreRemoved) {
  publish(video(1, "Red guitar solo"));
  publish(video(2, "Red piano solo"));
  publish(video(3, "Blue guitar solo"));

  auto both = search("red guitar");
  EXPECT_EQ(ids(both), (std::vector<int64_t>{1}));
  EXPECT_EQ(both.total, 1);
  EXPECT_EQ(both.pages, 1);
  EXPECT_FALSE(both.empty_query);

  auto guitars = search("Guitars");  // stemmed and folded as the index
  std::vector<int64_t> found = ids(guitars);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<int64_t>{1, 3}));

  auto not_blue = search("solo -blue");
  found = ids(not_blue);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(not_blue.total, 2);

  EXPECT_TRUE(search("violin").cards.empty());
  EXPECT_EQ(search("violin").total, 0);
}

TEST_F(SearchQueryTest, PhrasesMustAppearInOrderInTheTitle) {
  publish(video(1, "Night city lights"));
  publish(video(2, "City at night"));
  publish(video(3, "A night in the city"));

  auto phrase = search("\"night city\"");
  EXPECT_EQ(ids(phrase), (std::vector<int64_t>{1}));
  EXPECT_EQ(phrase.total, 1);
  auto with_stop_words = search("\"night in the city\"");
  EXPECT_EQ(ids(with_stop_words), (std::vector<int64_t>{3}));

  // An excluded phrase removes the titles holding it, not every title with its words.
  auto excluded = search("night -\"city at night\"");
  std::vector<int64_t> found = ids(excluded);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<int64_t>{1, 3}));

  // The checked result is what is stored: the next call reads it (cached), with its total.
  SearchQuery again;
  again.text = "\"night city\"";
  auto answer = plan_and_run(again);
  EXPECT_TRUE(answer.cached);
  EXPECT_EQ(answer.total, 1);
  EXPECT_EQ(answer.ids, (std::vector<std::string>{"1"}));
}

TEST_F(SearchQueryTest, EachFilterAloneAndCombined) {
  auto base = video(1, "Cooking pasta");
  publish(base);
  auto other_category = video(2, "Cooking pasta");
  other_category.categories = {"food"};
  publish(other_category);
  auto tagged = video(3, "Cooking pasta");
  tagged.tags = {"italian"};
  publish(tagged);
  auto other_channel = video(4, "Cooking pasta");
  other_channel.channel_name = "bob";
  publish(other_channel);
  auto long_one = video(5, "Cooking pasta");
  long_one.duration_s = 1800;
  publish(long_one);
  auto old = video(6, "Cooking pasta");
  old.published_at = now_s - 40 * day_s;
  publish(old);
  auto long_tagged_food = video(7, "Cooking pasta");
  long_tagged_food.categories = {"food"};
  long_tagged_food.tags = {"italian"};
  long_tagged_food.duration_s = 1500;
  publish(long_tagged_food);

  auto sorted_ids = [&](SearchQuery query) {
    query.text = "cooking pasta";
    auto found = ids(search(query));
    std::sort(found.begin(), found.end());
    return found;
  };
  SearchQuery by_category, by_tag, by_channel, by_duration, by_period, combined, unknown;
  by_category.category = "food";
  EXPECT_EQ(sorted_ids(by_category), (std::vector<int64_t>{2, 7}));
  by_tag.tag = "italian";
  EXPECT_EQ(sorted_ids(by_tag), (std::vector<int64_t>{3, 7}));
  by_channel.channel = "bob";
  EXPECT_EQ(sorted_ids(by_channel), (std::vector<int64_t>{4}));
  by_duration.duration = Duration::long_videos;
  EXPECT_EQ(sorted_ids(by_duration), (std::vector<int64_t>{5, 7}));
  by_duration.duration = Duration::short_videos;
  EXPECT_EQ(sorted_ids(by_duration), (std::vector<int64_t>{1, 2, 3, 4, 6}));
  by_period.period = Period::month;
  EXPECT_EQ(sorted_ids(by_period), (std::vector<int64_t>{1, 2, 3, 4, 5, 7}));
  by_period.period = Period::all;
  EXPECT_EQ(sorted_ids(by_period).size(), 7u);
  combined.category = "food";
  combined.tag = "italian";
  combined.duration = Duration::long_videos;
  combined.period = Period::week;
  EXPECT_EQ(sorted_ids(combined), (std::vector<int64_t>{7}));
  combined.duration = Duration::medium;
  EXPECT_TRUE(sorted_ids(combined).empty());
  // The same filters with the sort on the filter's own list (cut natively, not walked).
  for (SearchSort sort : {SearchSort::newest, SearchSort::duration, SearchSort::views}) {
    by_period.sort = by_duration.sort = sort;
    by_period.period = Period::month;
    EXPECT_EQ(sorted_ids(by_period), (std::vector<int64_t>{1, 2, 3, 4, 5, 7})) << search_sort_name(sort);
    by_duration.duration = Duration::long_videos;
    EXPECT_EQ(sorted_ids(by_duration), (std::vector<int64_t>{5, 7})) << search_sort_name(sort);
    by_duration.period = Period::month;  // both: one cut natively, the other walked
    EXPECT_EQ(sorted_ids(by_duration), (std::vector<int64_t>{5, 7})) << search_sort_name(sort);
    by_duration.duration = Duration::short_videos;
    EXPECT_EQ(sorted_ids(by_duration), (std::vector<int64_t>{1, 2, 3, 4})) << search_sort_name(sort);
    by_duration.period = Period::all;
  }

  // Unknown names match nothing; names no key can hold too, without an error.
  unknown.category = "no-such-category";
  EXPECT_TRUE(sorted_ids(unknown).empty());
  unknown.category.clear();
  unknown.tag = "no-such-tag";
  EXPECT_TRUE(sorted_ids(unknown).empty());
  unknown.tag.clear();
  unknown.channel = "x:*\r\n{}";
  EXPECT_TRUE(sorted_ids(unknown).empty());
}

TEST_F(SearchQueryTest, EachSortOrdersByItsList) {
  auto lesson = [&](int64_t id, int64_t days_old, int64_t views, int64_t likes, int32_t duration_s) {
    auto v = video(id, "Drum lesson");
    v.published_at = now_s - days_old * day_s;
    v.views = views;
    v.likes = likes;
    v.dislikes = 10 - likes;
    v.duration_s = duration_s;
    publish(v);
  };
  lesson(1, 3, 500, 1, 300);
  lesson(2, 1, 10, 5, 100);
  lesson(3, 2, 90, 9, 900);

  SearchQuery query;
  query.text = "drum lesson";
  query.sort = SearchSort::newest;
  EXPECT_EQ(ids(search(query)), (std::vector<int64_t>{2, 3, 1}));
  query.sort = SearchSort::views;
  EXPECT_EQ(ids(search(query)), (std::vector<int64_t>{1, 3, 2}));
  query.sort = SearchSort::rating;
  EXPECT_EQ(ids(search(query)), (std::vector<int64_t>{3, 2, 1}));
  query.sort = SearchSort::duration;
  EXPECT_EQ(ids(search(query)), (std::vector<int64_t>{3, 1, 2}));
}

// The planner weighs terms inside Redis with search_index::idf_lua: the same numbers as idf()
// for rare, common and clamped counts (a counter behind the sets, nothing indexed).
TEST_F(SearchQueryTest, TheScriptsIdfIsSearchIndexIdf) {
  const std::string script = std::string(search_index::idf_lua) +
                             "return string.format('%.17g', idf(tonumber(ARGV[1]), tonumber(ARGV[2])))";
  for (auto [indexed, with_term] : std::vector<std::pair<int64_t, int64_t>>{{1'000'000, 1},
                                                                            {1'000'000, 250'000},
                                                                            {1'000'000, 1'000'000},
                                                                            {1000, 999},
                                                                            {0, 5},
                                                                            {5, 0},
                                                                            {0, 0}}) {
    const redis::Reply reply = command(redis::Command("EVAL", script, 0, indexed, with_term));
    ASSERT_FALSE(reply.is_error()) << reply.str();
    EXPECT_DOUBLE_EQ(std::stod(std::string(reply.str())), search_index::idf(indexed, with_term))
        << indexed << " videos, " << with_term << " with the term";
  }
}

TEST_F(SearchQueryTest, RelevanceWeighsTextThenPopularityAndFreshness) {
  // Same text: the popular new video (lower id, which alone would rank it last) comes first.
  auto old_quiet = video(2, "Sunset timelapse");
  old_quiet.published_at = now_s - 400 * day_s;
  old_quiet.views = 3;
  auto new_popular = video(1, "Sunset timelapse");
  new_popular.published_at = now_s - 2 * day_s;
  new_popular.views = 50'000;
  // The words only in the description: a weaker text match, below the old title match although
  // newer (by popularity and freshness alone it would come second).
  auto description_only = video(3, "Beach walk");
  description_only.description = "A sunset timelapse at the end.";
  description_only.published_at = now_s - day_s;
  for (const auto& v : {old_quiet, new_popular, description_only}) publish(v);

  EXPECT_EQ(ids(search("sunset timelapse")), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(SearchQueryTest, ARareTermWeighsMoreThanACommonOne) {
  // Mirror images: each holds one word in its title and the other in its description. The rare
  // word's title match wins (with equal weights the higher id would come first).
  auto rare_in_title = video(1, "Theremin");
  rare_in_title.description = "Piano played here.";
  auto common_in_title = video(2, "Piano");
  common_in_title.description = "Theremin played here.";
  publish(rare_in_title);
  publish(common_in_title);
  for (int64_t id = 3; id <= 8; ++id) publish(video(id, "Piano show " + std::to_string(id)));

  EXPECT_EQ(ids(search("theremin piano")), (std::vector<int64_t>{1, 2}));
}

TEST_F(SearchQueryTest, PagesFollowOneRanking) {
  for (int64_t id = 1; id <= 7; ++id) {
    auto v = video(id, "Chess opening " + std::to_string(id));
    v.published_at = now_s - id * 3600;
    publish(v);
  }
  SearchQuery query;
  query.text = "chess opening";
  query.sort = SearchSort::newest;
  query.per_page = 3;
  std::vector<int64_t> seen;
  for (int page = 1; page <= 3; ++page) {
    query.page = page;
    auto results = search(query);
    EXPECT_EQ(results.total, 7);
    EXPECT_EQ(results.pages, 3);
    EXPECT_EQ(results.page, page);
    for (int64_t id : ids(results)) seen.push_back(id);
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
  query.page = 4;
  EXPECT_TRUE(search(query).cards.empty());
  query.page = 1'000'000;  // past max_results: nothing, not an error
  EXPECT_TRUE(search(query).cards.empty());
}

TEST_F(SearchQueryTest, TheResultKeyServesTheNextCallUntilItExpires) {
  publish(video(1, "Jazz trio live"));
  publish(video(2, "Jazz trio rehearsal"));
  SearchQuery query;
  query.text = "jazz trio";
  auto first = plan_and_run(query);
  EXPECT_FALSE(first.cached);
  EXPECT_EQ(first.total, 2);

  const auto plan = search_query::plan(query, search::thread_analyzer(), now_s, 0, 29);
  const std::string key = keys::search_result(plan.digest);
  const int64_t ttl = command(redis::Command("TTL", key)).integer();
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, search_query::result_ttl.count());

  // A new match published after the first call is not in the stored result; the same query
  // typed otherwise ("Trio  JAZZ") reads the same key; the script's cache lost (NOSCRIPT) is
  // no failure.
  publish(video(3, "Jazz trio outdoors"));
  command(redis::Command("SCRIPT", "FLUSH"));
  auto cached = search("Trio  JAZZ");
  EXPECT_EQ(cached.total, 2);
  EXPECT_EQ(cached.cards.size(), 2u);

  command(redis::Command("DEL", key));
  RedisReadModel fresh_model(*connection_, clock_);  // holds no page in process
  auto results = testing::run_task(io_, fresh_model.search(query));
  ASSERT_TRUE(results && *results);
  EXPECT_EQ((**results)->total, 3);
}

// The planner's keys are a cache of the primary's own: a cold query's writes (result, scratch) go
// to neither the AOF nor the replicas, which would replay every query's intersection.
TEST_F(SearchQueryTest, ItsWritesAreNeitherLoggedNorReplicated) {
  publish(video(1, "Jazz trio live"));
  publish(video(2, "Jazz trio rehearsal"));
  const auto before = testing::aof_bytes(*redis_);
  ASSERT_TRUE(before) << before.error().message;
  SearchQuery query;
  query.text = "jazz trio";
  auto answer = plan_and_run(query);
  EXPECT_FALSE(answer.cached);
  EXPECT_EQ(answer.total, 2);
  const auto plan = search_query::plan(query, search::thread_analyzer(), now_s, 0, 29);
  EXPECT_EQ(command(redis::Command("EXISTS", keys::search_result(plan.digest))).integer(), 1);  // kept here
  const auto after = testing::aof_bytes(*redis_);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(*after, *before);
  command(redis::Command("SET", "control", "1"));  // a write outside the planner is logged
  const auto control = testing::aof_bytes(*redis_);
  ASSERT_TRUE(control) << control.error().message;
  EXPECT_GT(*control, *before);
}

TEST_F(SearchQueryTest, AQueryCostsTwoRoundTripsAndAPhraseQueryThree) {
  for (int64_t id = 1; id <= 3; ++id) publish(video(id, "Harbor boats " + std::to_string(id)));
  // Beforehand: the category list read and the script loaded (EVAL after NOSCRIPT), once, and no
  // card read (a card read twice is kept in process, and a third read costs no MGET).
  ASSERT_EQ(search("zebra").total, 0);
  auto round_trips = [&](const std::string& text) {
    const uint64_t before = connection_->stats().round_trips;
    auto results = search(text);
    EXPECT_EQ(results.cards.size(), 3u) << text;
    return connection_->stats().round_trips - before;
  };
  EXPECT_EQ(round_trips("harbor boats"), 2u);      // EVALSHA, MGET of the cards
  EXPECT_EQ(round_trips("\"harbor boats\""), 3u);  // EVALSHA, MGET of candidates, store
  RedisReadModel other_loop(*connection_, clock_);
  const uint64_t before = connection_->stats().round_trips;
  SearchQuery phrase;
  phrase.text = "\"harbor boats\"";
  auto cached = testing::run_task(io_, other_loop.search(phrase));
  ASSERT_TRUE(cached && *cached);
  EXPECT_EQ((**cached)->total, 3);
  // A cached phrase query: EVALSHA (with the category list this loop lacks), MGET.
  EXPECT_EQ(connection_->stats().round_trips - before, 2u);
}

// The page marks what the planner searched for: the analyzed terms come with the results, cached
// or not.
TEST_F(SearchQueryTest, ResultsCarryTheAnalyzedTerms) {
  publish(video(1, "Jazz trios live"));
  for (int call = 0; call < 2; ++call) {
    auto results = search("Trios  JAZZ");
    EXPECT_EQ(results.total, 1);
    EXPECT_EQ(results.terms, (std::vector<std::string>{"trio", "jazz"})) << call;
  }
}

TEST_F(SearchQueryTest, IdsWhoseCardIsGoneAreSkipped) {
  for (int64_t id = 1; id <= 3; ++id) publish(video(id, "Origami crane " + std::to_string(id)));
  command(redis::Command("DEL", keys::card(2)));  // withdrawn while a rebuild runs
  auto results = search("origami crane");
  std::vector<int64_t> found = ids(results);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<int64_t>{1, 3}));
}

TEST_F(SearchQueryTest, BadInputIsAnEmptyQueryOrAnAnswerNeverAnError) {
  publish(video(1, "Guitar tutorial"));
  command(redis::Command("CONFIG", "RESETSTAT"));

  for (std::string text : {"", "   ", "the of and", "-guitar", "-guitar -tutorial", "\"\"", "!!! ???"}) {
    auto results = search(text);
    EXPECT_TRUE(results.empty_query) << text;
    EXPECT_TRUE(results.cards.empty()) << text;
  }

  std::string thousand_terms;
  for (int i = 0; i < 1000; ++i) thousand_terms += "guitar" + std::to_string(i) + " ";
  const std::vector<std::string> odd = {
      std::string(10 * 1024, 'g'),
      thousand_terms,
      "guitar tutorial " + std::string(10 * 1024, 'x'),
      "gui\xcc\x81tar e\xcc\x81te\xcc\x81",                                                 // combining marks
      "\xd7\x92\xd7\x99\xd7\x98\xd7\xa8\xd7\x94 \xd9\x82\xd9\x8a\xd8\xaa\xd8\xa7\xd8\xb1",  // RTL
      "\xf0\x9f\x8e\xb8 guitar \xf0\x9f\x94\xa5",                                           // emoji
      "gu\xff\xfeitar \xc3\x28 \xed\xa0\x80",                                               // invalid UTF-8
      "gu.*tar [a-z]+ ^$ (a|b) ? \\d",
      "* ? [abc] {x} guitar*",
      "st:* q:{} \r\nFLUSHALL\r\n guitar:tutorial KEYS *",
      "\"unclosed phrase guitar",
      "-\"-\" --guitar \"\" \"guitar\"",
  };
  for (const auto& text : odd) {
    SearchQuery query;
    query.text = text;
    auto results = testing::run_task(io_, model_->search(query));
    ASSERT_TRUE(results);
    EXPECT_TRUE(*results) << "an error for " << text << ": " << results->error().message;
    const auto answer = plan_and_run(query);  // not cached by the read model: every branch runs
    EXPECT_LE(answer.work, search_query::work_budget);
  }

  // Never a scan of the key space.
  const std::string stats(command(redis::Command("INFO", "commandstats")).str());
  EXPECT_EQ(stats.find("cmdstat_keys:"), std::string::npos);
  EXPECT_EQ(stats.find("cmdstat_scan:"), std::string::npos);
  EXPECT_EQ(stats.find("cmdstat_flushall:"), std::string::npos);
  EXPECT_EQ(command(redis::Command("EXISTS", keys::card(1))).integer(), 1);
}

TEST_F(SearchQueryTest, ARedisFailureIsAnError) {
  redis::ConnectionOptions options = connection_options();
  options.endpoint.port = 1;  // nothing listens there
  options.command_timeout = 2000ms;
  redis::Connection unreachable(io_.get_executor(), options);
  unreachable.start();
  RedisReadModel model(unreachable, clock_);
  SearchQuery query;
  query.text = "guitar";
  auto results = testing::run_task(io_, model.search(query));
  ASSERT_TRUE(results);
  EXPECT_FALSE(*results);
}

// Grace: a search page this loop holds is served stale while Redis is down, as list pages are.
TEST(SearchGrace, AHeldSearchPageIsServedStaleWhileRedisIsDown) {
  testing::TempDir dir;
  redis::RedisServerOptions server_options;
  server_options.dir = (dir.path() / "redis").string();
  server_options.append_only = false;
  auto server = redis::RedisServer::start(server_options);
  ASSERT_TRUE(server) << server.error().message;
  redis::ConnectionOptions options{.endpoint = server->endpoint()};
  options.command_timeout = 1000ms;
  {
    auto tool = redis::BlockingClient::connect(options);
    ASSERT_TRUE(tool) << tool.error().message;
    auto v = video(1, "Kite surfing");
    auto replies = tool->execute(publish_video_commands(v, "Ann"));
    ASSERT_TRUE(replies && redis::check_exec(*replies, "publish").ok());
  }
  asio::io_context io;
  redis::Connection connection(io.get_executor(), options);
  connection.start();
  ManualClock clock(now_s);
  RedisReadModel model(connection, clock, 300s);
  SearchQuery held, other;
  held.text = "kite surfing";
  other.text = "kite";
  for (const SearchQuery* query : {&held, &held, &other}) {  // held read twice: kept
    auto read = testing::run_task(io, model.search(*query));
    ASSERT_TRUE(read && *read);
    EXPECT_EQ((**read)->cards.size(), 1u);
  }

  ASSERT_TRUE(server->stop().ok());
  clock.advance(60s);
  auto stale = testing::run_task(io, model.search(held));
  ASSERT_TRUE(stale);
  ASSERT_TRUE(*stale) << stale->error().message;
  EXPECT_EQ((**stale)->cards.size(), 1u);
  EXPECT_EQ(model.stale_served(), 1u);
  auto missing = testing::run_task(io, model.search(other));  // read once: not held
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  connection.stop();
}

// Ten terms each held by 200,000 videos (ids 1..200,000, every video holding all ten): the
// planner cuts the smallest to its top slice, stays within its budget and still answers.
TEST_F(SearchQueryTest, TheTenMostCommonTermsStayWithinTheBudget) {
  std::vector<std::string> words = {"filmed",    "edited",  "thanks", "watching", "like",
                                    "subscribe", "channel", "video",  "today",    "enjoy"};
  std::string text;
  for (const auto& word : words) text += word + " ";
  const auto parsed = search::thread_analyzer().parse_query(text);
  const auto terms = parsed.required_terms();
  ASSERT_EQ(terms.size(), 10u);
  redis::Command build("EVAL", R"lua(
    for k = 1, #KEYS do  -- the ten term sets and z:new
      for first = 1, 200000, 1000 do
        local args = {}
        for id = first, first + 999 do
          -- z:new (the last key): every video its own time, newest the highest id
          args[#args + 1] = k == #KEYS and id or ((id * 7919 + k * 104729) % 1000) / 1000
          args[#args + 1] = id
        end
        redis.call('ZADD', KEYS[k], unpack(args))
      end
    end
    return 1)lua",
                       terms.size() + 1);
  for (const auto& term : terms) build.arg(keys::search_term(term));
  build.arg(keys::list({ListKind::all, {}}, Sort::newest));
  command(std::move(build));
  command(redis::Command("SET", keys::search_videos(), 1'000'000));

  std::vector<int64_t> work;
  for (SearchSort sort : {SearchSort::relevance, SearchSort::newest}) {
    SearchQuery query;
    query.text = text;
    query.sort = sort;
    query.duration = Duration::any;
    const auto answer = plan_and_run(query);
    EXPECT_LE(answer.work, search_query::work_budget) << search_sort_name(sort);
    EXPECT_GT(answer.work, 0) << search_sort_name(sort);
    EXPECT_TRUE(answer.approximate) << search_sort_name(sort);
    // Every video holds all ten terms, so the estimate (the slice's matches scaled to the cut
    // set) is exact; the pages reach the ids stored.
    EXPECT_EQ(answer.total, 200'000) << search_sort_name(sort);
    EXPECT_EQ(answer.pageable, search_query::max_results) << search_sort_name(sort);
    EXPECT_EQ(answer.ids.size(), 30u) << search_sort_name(sort);
    work.push_back(answer.work);
    if (sort == SearchSort::newest) {
      // Newest first among all the slice's matches, scored from z:new after the intersection in chunks.
      const std::string newest = keys::list({ListKind::all, {}}, Sort::newest);
      const auto stored = plan_and_run(query, 0, search_query::max_results - 1);  // the result key
      redis::Command scores("ZMSCORE", newest);
      for (const auto& id : stored.ids) scores.arg(id);
      const auto published = command(std::move(scores));
      // The scores of the 1,000 newest among the slice's members, computed here on their own.
      redis::Command best("EVAL", R"lua(
        local scores = {}
        for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
          scores[#scores + 1] = tonumber(redis.call('ZSCORE', KEYS[2], id))
        end
        table.sort(scores, function(a, b) return a > b end)
        local top = {}
        for i = 1, tonumber(ARGV[1]) do top[i] = tostring(scores[i]) end
        return top)lua",
                          2, keys::search_slice(keys::search_term(terms[0])), newest,
                          search_query::max_results);
      const auto expected = command(std::move(best));
      ASSERT_EQ(expected.elements().size(), published.elements().size());
      for (size_t i = 0; i < expected.elements().size(); ++i) {
        EXPECT_DOUBLE_EQ(std::stod(std::string(published.elements()[i].str())),
                         std::stod(std::string(expected.elements()[i].str())))
            << "rank " << i;
      }
    }
  }
  // The slice of the smallest input (all are equal: the first term's) is kept for the result TTL
  // and shared: the first query asked again, its result key gone, does not copy it again.
  const std::string slice = keys::search_slice(keys::search_term(terms[0]));
  EXPECT_EQ(command(redis::Command("ZCARD", slice)).integer(), search_query::slice_size);
  const int64_t ttl = command(redis::Command("TTL", slice)).integer();
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, search_query::result_ttl.count());
  SearchQuery again;
  again.text = text;
  command(redis::Command(
      "DEL", keys::search_result(search_query::plan(again, search::thread_analyzer(), now_s, 0, 29).digest)));
  EXPECT_EQ(plan_and_run(again).work, work[0] - search_query::slice_size);
}

// Relevance re-ranks the first rerank_depth by text by popularity and freshness; the rest of the
// stored result follows in text order. 400 videos hold the term with weights falling with their
// id, and views rising with it: the re-ranked head puts the most viewed first, the tail keeps text
// order (lower ids first).
TEST_F(SearchQueryTest, OnlyTheFirstPagesAreReRankedByPopularity) {
  const int64_t n = 400;
  redis::Command build("EVAL", R"lua(
    for id = 1, tonumber(ARGV[1]) do
      redis.call('ZADD', KEYS[1], 10 - id / 1000, id)
      redis.call('ZADD', KEYS[2], 10 ^ (id / 20), id)
      redis.call('ZADD', KEYS[3], tonumber(ARGV[2]), id)
    end
    return 1)lua",
                       3, keys::search_term("zither"), keys::list({ListKind::all, {}}, Sort::views),
                       keys::list({ListKind::all, {}}, Sort::newest), n, now_s);
  command(std::move(build));
  SearchQuery query;
  query.text = "zither";
  const auto answer = plan_and_run(query, 0, n - 1);
  EXPECT_EQ(answer.total, n);
  const std::vector<std::string>& ranked = answer.ids;
  ASSERT_EQ(ranked.size(), static_cast<size_t>(n));
  const auto depth = static_cast<size_t>(search_query::rerank_depth);
  // The head: the 300 best by text (ids 1..300), most viewed (highest id) first.
  EXPECT_EQ(ranked[0], std::to_string(depth));
  std::set<std::string> head(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(depth));
  EXPECT_EQ(head.size(), depth);
  EXPECT_TRUE(head.contains("1"));
  EXPECT_FALSE(head.contains(std::to_string(depth + 1)));
  // The tail in text order.
  for (size_t rank = depth; rank < ranked.size(); ++rank) EXPECT_EQ(ranked[rank], std::to_string(rank + 1));
}

}  // namespace
}  // namespace reel::projection
