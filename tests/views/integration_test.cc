// The aggregator, the flush script, the upkeep and the Service against a real redis-server.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "common/asio.h"  // before any other Asio header
#include "common/days.h"
#include "projection/codec.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "redis/server.h"
#include "support/event_loop.h"
#include "support/fixtures.h"
#include "views/flush.h"
#include "views/service.h"

namespace reel::views {
namespace {

using namespace std::chrono_literals;
using redis::Command;
using reel::testing::run_task;
using reel::testing::run_until;
namespace keys = projection::keys;

// Noon (UTC) of a day long past: the aggregator's clock, not Redis's, decides how long the day
// lists live, so the lists must still have their full lifetime left whatever day the test runs.
const int64_t t0 = day_start(20210314) + 12 * 3600;
const int32_t today = utc_day(t0);

std::string line(int64_t time, int64_t video, std::string_view viewer, std::string_view agent = "desktop") {
  return "t=" + std::to_string(time) + " v=" + std::to_string(video) + " k=" + std::string(viewer) +
         " r=search u=" + std::string(agent) + "\n";
}

std::string search_line(int64_t time, std::string_view viewer, std::string_view query,
                        std::string_view agent = "desktop") {
  Agent agent_class = Agent::other;
  parse_agent(agent, &agent_class);
  return format_syslog_line(SearchEvent{time, viewer, query, 3, agent_class}, "web-1", "reel") + "\n";
}

class ViewsRedis : public ::testing::Test {
 protected:
  void SetUp() override {
    start_server(0);
    ASSERT_TRUE(server_.has_value());
    connect();
    seed();
  }

  void start_server(uint16_t port) {
    redis::RedisServerOptions options;
    options.dir = (dir_.path() / "redis").string();
    options.port = port;
    auto server = redis::RedisServer::start(options);
    ASSERT_TRUE(server) << server.error().message;
    server_.emplace(std::move(*server));
  }

  void connect() {
    redis::ConnectionOptions options;
    options.endpoint = server_->endpoint();
    options.connect_backoff_min = 10ms;
    options.connect_backoff_max = 50ms;
    connection_.emplace(io_.get_executor(), options);
    connection_->start();
  }

  // Videos 1..6: 1-3 in music, 4-6 in music and sports; tags; channel bob. Video 999 does not exist.
  void seed() {
    std::vector<Command> commands;
    std::vector<catalog::Category> categories{{1, "music", "Music", 0}, {2, "sports", "Sports", 1}};
    commands.push_back(projection::nav_command(categories));
    for (int64_t id = 1; id <= 6; ++id) {
      catalog::Video v;
      v.id = id;
      v.title = "Video " + std::to_string(id);
      v.slug = "video-" + std::to_string(id);
      v.channel_name = "bob";
      v.status = catalog::VideoStatus::ready;
      v.views = 100;
      v.categories =
          id <= 3 ? std::vector<std::string>{"music"} : std::vector<std::string>{"music", "sports"};
      v.tags = {"live", "tag" + std::to_string(id)};
      for (auto& c : projection::video_object_commands(v, "Bob")) commands.push_back(std::move(c));
      commands.emplace_back("ZADD", keys::list({projection::ListKind::all, {}}, projection::Sort::views), 100,
                            id);
    }
    ASSERT_TRUE(execute(std::move(commands)).ok());
  }

  Result<std::vector<redis::Reply>> execute(std::vector<Command> commands) {
    auto result = run_task(io_, connection_->execute(std::move(commands)));
    if (!result) return Error{"did not finish"};
    return std::move(*result);
  }
  redis::Reply call(Command command) {
    std::vector<Command> one;
    one.push_back(std::move(command));
    auto r = execute(std::move(one));
    if (!r) {
      ADD_FAILURE() << r.error().message;
      return {};
    }
    return std::move(r->front());
  }
  double score(const std::string& key, int64_t member) {
    return call(Command("ZSCORE", key, member)).number();
  }
  double popularity(std::string_view query) {
    return call(Command("ZSCORE", keys::search_popular(), query)).number();
  }
  bool has_member(const std::string& key, int64_t member) {
    return !call(Command("ZSCORE", key, member)).is_nil();
  }
  // Runs the scripts of the aggregator's sealed chunks without telling it, as if each reply was
  // lost (the connection dropped after the script ran); returns the replies.
  std::vector<redis::Reply> apply_losing_replies(Aggregator& aggregator) {
    ChunkEncoder encoder(aggregator.lambda(), {});
    std::vector<Command> sent;
    for (const auto& chunk : aggregator.seal()) sent.push_back(encoder.command(chunk, t0, true));
    auto ran = execute(std::move(sent));
    EXPECT_TRUE(ran) << ran.error().message;
    return ran ? std::move(*ran) : std::vector<redis::Reply>{};
  }
  Status flush(RedisFlusher& flusher) {
    auto s = run_task(io_, flusher.flush());
    if (!s) return Error{"flush did not finish"};
    return *s;
  }

  std::string day_key(int32_t day, std::string_view category = {}) {
    return category.empty() ? keys::list({projection::ListKind::all, {}}, projection::Sort::views,
                                         projection::Period::day, day)
                            : keys::list({projection::ListKind::category, category}, projection::Sort::views,
                                         projection::Period::day, day);
  }
  std::string all_key(projection::ListKind kind = projection::ListKind::all, std::string_view name = {}) {
    return keys::list({kind, name}, projection::Sort::views, projection::Period::all);
  }

  // A first aggregator process on the views stream: it reads the stream's `first` lines, seals
  // them, commits the generation (expecting `chunks` chunks) and applies only its first chunk; then
  // it reads the lines `more()` adds (up to `all` lines in all) and dies. Returns that first chunk.
  FlushChunk die_after_one_chunk(const AggregatorOptions& options, uint64_t first, size_t chunks,
                                 const std::function<void()>& more, uint64_t all) {
    redis::ConnectionOptions connection;
    connection.endpoint = server_->endpoint();
    Aggregator aggregator(clock_, options);
    StreamInput input = open_stream_source(io_.get_executor(), connection, {});
    input.source->start([&](std::string_view lines) { aggregator.ingest_lines(lines); }, [](Status) {});
    EXPECT_TRUE(run_until(io_, [&] { return aggregator.counters().lines == first; }));
    StreamJournal journal("1/1", input.position);
    const auto& sealed = aggregator.seal();
    EXPECT_EQ(sealed.size(), chunks);
    if (sealed.empty()) return {};
    FlushChunk applied = sealed[0];
    std::vector<Command> commit_and_one;
    commit_and_one.push_back(journal.commit(journal.position(), sealed, true));
    commit_and_one.push_back(ChunkEncoder(aggregator.lambda(), {}).command(applied, t0, true));
    EXPECT_TRUE(execute(std::move(commit_and_one)));
    more();
    EXPECT_TRUE(run_until(io_, [&] { return aggregator.counters().lines == all; }));
    input.source->stop();
    return applied;
  }

  AggregatorOptions options() {
    AggregatorOptions o;
    o.dedupe_capacity = 1 << 16;
    o.session_capacity = 1 << 12;
    return o;
  }

  reel::testing::TempDir dir_;
  std::optional<redis::RedisServer> server_;
  asio::io_context io_{1};
  std::optional<redis::Connection> connection_;
  ManualClock clock_{t0};
};

TEST_F(ViewsRedis, EventsBecomeExactCountsInEveryList) {
  Aggregator aggregator(clock_, options());
  RedisFlusher flusher(aggregator, *connection_);
  std::string lines;
  for (std::string viewer : {"a", "b", "c"}) lines += line(t0, 1, viewer);
  lines += line(t0 + 10, 1, "a");          // duplicate
  lines += line(t0 + 20, 4, "a");          // a's session: 1 then 4
  lines += line(t0, 4, "crawler", "bot");  // bot
  lines += line(t0, 999, "a");             // unknown video
  lines += line(t0 - 86400, 2, "d");       // yesterday
  aggregator.ingest_lines(lines);
  ASSERT_TRUE(flush(flusher));
  EXPECT_TRUE(aggregator.idle());

  EXPECT_EQ(score(all_key(), 1), 103);
  EXPECT_EQ(score(all_key(), 4), 101);
  EXPECT_EQ(score(all_key(), 2), 101);
  EXPECT_FALSE(has_member(all_key(), 999));
  EXPECT_EQ(call(Command("EXISTS", keys::card(999))).integer(), 0);
  EXPECT_EQ(aggregator.counters().unknown_video_views, 1u);

  // The card's count is rewritten in place; the rest of the card is untouched.
  const std::string card(call(Command("GET", keys::card(1))).str());
  EXPECT_TRUE(card.starts_with("000000000103")) << card;
  auto decoded = projection::codec::decode_card(card);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->views, 103);
  EXPECT_EQ(decoded->title, "Video 1");

  // Day lists, with the rebuild's expiry, globally and per category.
  EXPECT_EQ(score(day_key(today), 1), 3);
  EXPECT_EQ(score(day_key(today), 4), 1);
  EXPECT_EQ(score(day_key(days_before(today, 1)), 2), 1);
  EXPECT_FALSE(has_member(day_key(today), 2));
  // Each lives until its day's start + 35 days, counted from the aggregator's clock (t0, noon).
  // The lower bound only allows for the time the test itself takes (an hour, on any machine).
  const int64_t lives = day_start(today) + 35 * 86400 - t0;
  for (const auto& [key, seconds] :
       {std::pair{day_key(today), lives}, std::pair{day_key(today, "music"), lives},
        std::pair{day_key(days_before(today, 1), "music"), lives - 86400}}) {
    const int64_t ttl = call(Command("TTL", key)).integer();
    EXPECT_LE(ttl, seconds) << key;
    EXPECT_GT(ttl, seconds - 3600) << key;
  }
  EXPECT_EQ(score(day_key(today, "music"), 1), 3);
  EXPECT_EQ(score(day_key(today, "sports"), 4), 1);
  EXPECT_FALSE(has_member(day_key(today, "sports"), 1));

  // All-time lists of category, tag and channel.
  EXPECT_EQ(score(all_key(projection::ListKind::category, "music"), 1), 3);
  EXPECT_EQ(score(all_key(projection::ListKind::category, "sports"), 4), 1);
  EXPECT_EQ(score(all_key(projection::ListKind::tag, "live"), 1), 3);
  EXPECT_EQ(score(all_key(projection::ListKind::tag, "tag4"), 4), 1);
  EXPECT_EQ(score(all_key(projection::ListKind::channel, "bob"), 2), 1);

  // Trending: forward-decayed, epoch = the first flush's reference time (the clock: t0).
  EXPECT_EQ(call(Command("GET", keys::trending_epoch())).integer(), t0);
  const std::string trending = keys::trending({projection::ListKind::all, {}});
  EXPECT_NEAR(score(trending, 1), 3.0, 1e-9);
  EXPECT_NEAR(score(trending, 4), std::exp2(20.0 / 86400), 1e-9);
  EXPECT_NEAR(score(trending, 2), 0.5, 1e-9);
  EXPECT_NEAR(score(keys::trending({projection::ListKind::category, "sports"}), 4), std::exp2(20.0 / 86400),
              1e-9);

  // Co-views, both directions; nothing for the unknown video.
  EXPECT_EQ(score(keys::coviews(1), 4), 1);
  EXPECT_EQ(score(keys::coviews(4), 1), 1);
  EXPECT_EQ(call(Command("EXISTS", keys::coviews(999))).integer(), 0);
  EXPECT_FALSE(has_member(keys::coviews(4), 999));

  // A later flush adds to the totals; the trending epoch stays.
  clock_.advance(3600s);
  aggregator.ingest_line(line(t0 + 3600, 1, "e"));
  ASSERT_TRUE(flush(flusher));
  EXPECT_EQ(score(all_key(), 1), 104);
  EXPECT_TRUE(std::string(call(Command("GET", keys::card(1))).str()).starts_with("000000000104"));
  EXPECT_NEAR(score(trending, 1), 3.0 + std::exp2(1.0 / 24), 1e-9);

  // One script call per chunk, one round trip per flush; the first flush found no cached script
  // (NOSCRIPT) and sent its chunks again with EVAL.
  EXPECT_EQ(flusher.stats().round_trips, 3u);
  EXPECT_EQ(flusher.stats().failures, 0u);

  auto rows = aggregator.drain_daily_views();
  int64_t total = 0;
  for (const auto& r : rows) total += r.views;
  EXPECT_EQ(total, 3 + 1 + 1 + 1);  // video 1 (x3 + 1 later), 4, 2; not 999
}

TEST_F(ViewsRedis, CoViewListsAreTrimmedToTheirTop) {
  for (int id : {11, 21, 31, 41, 51}) call(Command("SET", keys::card(id), "x"));
  Aggregator aggregator(clock_, options());
  FlushOptions fo;
  fo.coview_keep = 3;
  fo.coview_trim_at = 4;
  RedisFlusher flusher(aggregator, *connection_, fo);
  // Video 1 is watched with 2 and 3 once each, and with 11, 21, ... 51 two to six times.
  int n = 0;
  for (auto [other, times] : {std::pair{2, 1}, {3, 1}, {11, 2}, {21, 3}, {31, 4}, {41, 5}, {51, 6}}) {
    for (int i = 0; i < times; ++i) {
      const std::string viewer = "v" + std::to_string(n++);
      aggregator.ingest_line(line(t0, 1, viewer));
      aggregator.ingest_line(line(t0, other, viewer));
    }
  }
  ASSERT_TRUE(flush(flusher));
  auto members = call(Command("ZREVRANGE", keys::coviews(1), 0, -1));
  std::vector<std::string> got;
  for (const auto& m : members.elements()) got.emplace_back(m.str());
  // Each new member checks the size: at 31 the list (2, 3, 11, 21, 31) was over 4 and was cut to
  // its top 3 (11, 21, 31); at 51 again.
  EXPECT_EQ(got, (std::vector<std::string>{"51", "41", "31"}));
  EXPECT_EQ(score(keys::coviews(51), 1), 6);
}

TEST_F(ViewsRedis, AChunkWhoseReplyWasLostIsNotAppliedTwice) {
  Aggregator aggregator(clock_, options());
  RedisFlusher flusher(aggregator, *connection_);
  for (int i = 0; i < 10; ++i) aggregator.ingest_line(line(t0, 3, "viewer" + std::to_string(i)));
  auto ran = apply_losing_replies(aggregator);
  ASSERT_EQ(ran.size(), 1u);
  EXPECT_EQ(ran.front().elements().at(0).integer(), 1);
  EXPECT_EQ(score(all_key(), 3), 110);

  // The retry finds the token and changes nothing.
  ASSERT_TRUE(flush(flusher));
  EXPECT_EQ(score(all_key(), 3), 110);
  EXPECT_EQ(score(day_key(today), 3), 10);
  EXPECT_EQ(aggregator.counters().chunks_replayed, 1u);
  EXPECT_TRUE(aggregator.idle());
  // Its daily rows are still handed out once.
  auto rows = aggregator.drain_daily_views();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].views, 10);
}

TEST_F(ViewsRedis, AHoldKeepsViewIncrementsInFlightUntilItEndsAndIsConfirmedOnceTheyAreInSql) {
  Aggregator aggregator(clock_, options());
  RedisFlusher flusher(aggregator, *connection_);
  // A chunk applied just before the hold began, whose reply was lost.
  for (int i = 0; i < 5; ++i) aggregator.ingest_line(line(t0, 2, "before" + std::to_string(i)));
  ASSERT_EQ(apply_losing_replies(aggregator).size(), 1u);
  EXPECT_EQ(score(all_key(), 2), 105);

  call(Command("SET", keys::views_hold(), "r1"));
  aggregator.ingest_line(line(t0, 1, "p"));
  aggregator.ingest_line(line(t0 + 5, 3, "p"));  // and a co-view of 1 and 3
  ASSERT_TRUE(flush(flusher));
  EXPECT_EQ(flusher.hold(), "r1");
  EXPECT_EQ(score(all_key(), 2), 105);  // the lost reply's chunk answered as applied, not applied again
  EXPECT_EQ(score(all_key(), 1), 100);  // held
  EXPECT_EQ(score(all_key(), 3), 100);
  EXPECT_FALSE(has_member(day_key(today), 1));
  EXPECT_EQ(score(keys::coviews(1), 3), 1);  // co-views are not held
  ASSERT_EQ(aggregator.in_flight().size(), 1u);
  EXPECT_EQ(aggregator.in_flight()[0].held_by, "r1");
  EXPECT_EQ(aggregator.counters().chunks_held, 1u);
  const std::string presence = keys::views_aggregator(aggregator.instance());
  EXPECT_EQ(call(Command("HEXISTS", keys::views_aggregators(), aggregator.instance())).integer(), 1);
  EXPECT_EQ(call(Command("GET", presence)).str(), "");  // nothing confirmed yet
  EXPECT_GT(call(Command("PTTL", presence)).integer(), 0);

  // The rows drained now hold every view applied before the hold: once written, it is confirmed.
  std::string settled;
  auto rows = aggregator.drain_daily_views(&settled);
  EXPECT_EQ(settled, "r1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].video_id, 2);
  EXPECT_EQ(rows[0].views, 5);
  aggregator.daily_views_written(settled);
  const uint64_t commands = flusher.stats().commands;
  ASSERT_TRUE(flush(flusher));
  EXPECT_EQ(call(Command("GET", presence)).str(), "r1");
  EXPECT_EQ(flusher.stats().commands, commands);  // the refused chunk is not sent again meanwhile

  // The hold ends: the kept views are applied, once.
  call(Command("DEL", keys::views_hold()));
  ASSERT_TRUE(flush(flusher));
  EXPECT_TRUE(aggregator.idle());
  EXPECT_EQ(score(all_key(), 1), 101);
  EXPECT_EQ(score(all_key(), 3), 101);
  EXPECT_EQ(score(day_key(today), 1), 1);
  EXPECT_EQ(score(keys::coviews(1), 3), 1);
  int64_t later = 0;
  for (const auto& r : aggregator.drain_daily_views()) later += r.views;
  EXPECT_EQ(later, 2);
}

TEST_F(ViewsRedis, FlushesAfterRedisLostItsScriptCache) {
  Aggregator aggregator(clock_, options());
  RedisFlusher flusher(aggregator, *connection_);
  aggregator.ingest_line(line(t0, 5, "a"));
  ASSERT_TRUE(flush(flusher));
  call(Command("SCRIPT", "FLUSH"));
  aggregator.ingest_line(line(t0, 5, "b"));
  ASSERT_TRUE(flush(flusher));
  EXPECT_EQ(score(all_key(), 5), 102);
}

TEST_F(ViewsRedis, RedisStoppedAndRestartedMidStreamKeepsTotalsExact) {
  Aggregator aggregator(clock_, options());
  RedisFlusher flusher(aggregator, *connection_);
  const uint16_t port = server_->endpoint().port;
  int64_t sent = 0;
  auto stream = [&](int batch) {
    std::string lines;
    for (int i = 0; i < 500; ++i) {
      lines += line(t0, 1 + (i % 6), "b" + std::to_string(batch) + "-" + std::to_string(i));
      ++sent;
    }
    aggregator.ingest_lines(lines);
  };
  stream(0);
  ASSERT_TRUE(flush(flusher));
  stream(1);
  ASSERT_TRUE(server_->stop().ok());
  EXPECT_FALSE(flush(flusher));  // Redis down: the chunks stay in flight
  stream(2);                     // and new views keep merging
  EXPECT_FALSE(flush(flusher));
  stream(3);
  EXPECT_GT(aggregator.in_flight().size(), 0u);
  EXPECT_LE(aggregator.pending_videos(), 6u);  // merged per video, not per view

  server_.reset();
  start_server(port);
  ASSERT_TRUE(run_until(io_, [&] { return connection_->connected(); }));
  ASSERT_TRUE(flush(flusher));  // the chunks in flight
  ASSERT_TRUE(flush(flusher));  // what merged meanwhile
  EXPECT_TRUE(aggregator.idle());

  int64_t total = 0;
  for (int64_t id = 1; id <= 6; ++id) {
    total += static_cast<int64_t>(score(all_key(), id)) - 100;
    EXPECT_EQ(score(all_key(), id) - 100, score(day_key(today), id));
    const std::string card(call(Command("GET", keys::card(id))).str());
    EXPECT_EQ(projection::codec::decode_card(card)->views, static_cast<int64_t>(score(all_key(), id)));
  }
  EXPECT_EQ(total, sent);
  EXPECT_EQ(static_cast<int64_t>(aggregator.counters().views()), sent);
  EXPECT_GE(flusher.stats().failures, 2u);
}

TEST_F(ViewsRedis, UpkeepSetsWeekAndMonthTrimsAndRebasesTrending) {
  std::vector<Command> setup;
  for (int back = 0; back < 40; ++back) {
    setup.emplace_back("ZADD", day_key(days_before(today, back)), 1, 1);
    setup.emplace_back("ZADD", day_key(days_before(today, back), "music"), 2, 1);
  }
  const std::string trending = keys::trending({projection::ListKind::all, {}});
  const std::string music_trending = keys::trending({projection::ListKind::category, "music"});
  for (int id = 1; id <= 5; ++id) setup.emplace_back("ZADD", trending, 256 * id, id);
  setup.emplace_back("ZADD", music_trending, 512, 1);
  setup.emplace_back("SET", keys::trending_epoch(), t0 - 8 * 86400);
  ASSERT_TRUE(execute(std::move(setup)));

  const double lambda = std::log(2.0) / 86400;
  MaintenanceOptions mo;
  mo.trending_keep = 3;
  auto done = run_task(io_, maintain(*connection_, t0, lambda, mo));
  ASSERT_TRUE(done && done->ok()) << (done ? done->error().message : "");
  EXPECT_EQ((*done)->set_whole, 6u);  // no windows yet: week and month, globally and per category

  using projection::Period;
  auto list = [&](Period p, std::string_view category = {}) {
    return keys::list(
        {category.empty() ? projection::ListKind::all : projection::ListKind::category, category},
        projection::Sort::views, p);
  };
  EXPECT_EQ(score(list(Period::week), 1), 7);
  EXPECT_EQ(score(list(Period::month), 1), 30);
  EXPECT_EQ(score(list(Period::week, "music"), 1), 14);
  EXPECT_EQ(score(list(Period::month, "music"), 1), 60);
  EXPECT_EQ(call(Command("EXISTS", list(Period::week, "sports"))).integer(), 0);  // no day lists: none

  // Trimmed to the top 3, then multiplied by 2^-8 (eight days at a one-day half-life).
  EXPECT_EQ(call(Command("ZCARD", trending)).integer(), 3);
  EXPECT_NEAR(score(trending, 5), 5, 1e-9);
  EXPECT_NEAR(score(trending, 3), 3, 1e-9);
  EXPECT_FALSE(has_member(trending, 2));
  EXPECT_NEAR(score(music_trending, 1), 2, 1e-9);
  EXPECT_EQ(call(Command("GET", keys::trending_epoch())).integer(), t0);

  // A flush after the rebase scores against the new epoch.
  Aggregator aggregator(clock_, options());
  RedisFlusher flusher(aggregator, *connection_);
  aggregator.ingest_line(line(t0, 1, "a"));
  ASSERT_TRUE(flush(flusher));
  EXPECT_NEAR(score(music_trending, 1), 3, 1e-9);

  // Run again at once: nothing is rebased a second time; after a Redis script flush it still works.
  call(Command("SCRIPT", "FLUSH"));
  done = run_task(io_, maintain(*connection_, t0 + 60, lambda, mo));
  ASSERT_TRUE(done && done->ok()) << (done ? done->error().message : "");
  EXPECT_EQ((*done)->calls, 0u);  // the windows are where they belong
  EXPECT_NEAR(score(music_trending, 1), 3, 1e-9);
}

TEST_F(ViewsRedis, ServiceCountsViewsArrivingOverUdp) {
  Aggregator aggregator(clock_, options());
  ServiceOptions so;
  so.flush_interval = 20ms;
  Service service(io_.get_executor(), clock_, aggregator, *connection_, so);
  auto source = open_udp_source(io_.get_executor(), HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(source) << source.error().message;
  const uint16_t port = (*source)->port();
  ASSERT_NE(port, 0);
  service.add_source(std::move(*source));
  service.start();

  asio::ip::udp::socket sender(io_, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
  const asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"), port);
  for (int i = 0; i < 20; ++i) {
    ViewEvent e{t0, 6, "", Referrer::direct, Agent::desktop};
    const std::string viewer = "udp" + std::to_string(i);
    e.viewer = viewer;
    sender.send_to(asio::buffer(format_syslog_line(e, "web-1", "reel")), to);
  }
  EXPECT_TRUE(run_until(io_, [&] { return aggregator.counters().views() == 20 && aggregator.idle(); }));
  EXPECT_TRUE(run_until(io_, [&] { return score(all_key(), 6) == 120; }));
  auto drained = run_task(io_, service.drain(60s));  // nothing left to flush: returns at once
  ASSERT_TRUE(drained && drained->ok());
}

TEST_F(ViewsRedis, AStreamGenerationHalfAppliedAtACrashIsFinishedOnceAfterARestart) {
  auto add = [&](int from, int to) {
    std::vector<Command> adds;
    for (int i = from; i < to; ++i) {
      adds.emplace_back("XADD", keys::views_stream(), "*", "l", line(t0, 1 + i % 6, "s" + std::to_string(i)));
    }
    ASSERT_TRUE(execute(std::move(adds)));
  };
  AggregatorOptions small = options();
  small.chunk_entries = 2;  // six videos: three chunks in a generation
  redis::ConnectionOptions connection;
  connection.endpoint = server_->endpoint();

  // The first process reads 12 events, seals them, commits the generation and applies one of its
  // three chunks; it has read 6 more events when it dies.
  add(0, 12);
  std::vector<int64_t> applied_first;
  for (const VideoIncrement& v : die_after_one_chunk(
                                     small, 12, 3, [&] { add(12, 18); }, 18)
                                     .videos)
    applied_first.push_back(v.video_id);
  ASSERT_EQ(applied_first.size(), 2u);
  for (int64_t video = 1; video <= 6; ++video) {
    const bool applied = std::find(applied_first.begin(), applied_first.end(), video) != applied_first.end();
    EXPECT_EQ(score(all_key(), video), applied ? 102 : 100) << video;  // two views each so far
  }

  // The next one finishes the stored generation (chunk 0 replayed, not counted again) and reads
  // the 6 events past the cursor again.
  Aggregator second(clock_, small);
  ServiceOptions so;
  so.flush_interval = 10ms;
  Service service(io_.get_executor(), clock_, second, *connection_, so);
  service.add_stream_source(open_stream_source(io_.get_executor(), connection, {}), "1/1");
  service.start();
  ASSERT_TRUE(run_until(io_, [&] {
    return second.idle() && call(Command("EXISTS", keys::views_generation("1/1"))).integer() == 0;
  }));
  for (int64_t video = 1; video <= 6; ++video) EXPECT_EQ(score(all_key(), video), 103) << video;
  EXPECT_EQ(second.counters().chunks_replayed, 1u);
  EXPECT_EQ(second.counters().views(), 6u);
  auto drained = run_task(io_, service.drain(60s));
  ASSERT_TRUE(drained && drained->ok());
  auto last = call(Command("XREVRANGE", keys::views_stream(), "+", "-", "COUNT", 1));
  ASSERT_TRUE(last.is_array() && last.elements().size() == 1);
  EXPECT_EQ(call(Command("HGET", keys::views_cursors(), "1/1")).str(),
            last.elements()[0].elements()[0].str());
}

TEST_F(ViewsRedis, DrainGivesUpAfterItsTimeoutWhileRedisIsDown) {
  Aggregator aggregator(clock_, options());
  ServiceOptions so;
  so.flush_interval = 10ms;
  Service service(io_.get_executor(), clock_, aggregator, *connection_, so);
  service.start();
  ASSERT_TRUE(server_->stop().ok());
  aggregator.ingest_line(line(t0, 1, "a"));
  auto drained = run_task(io_, service.drain(100ms));
  ASSERT_TRUE(drained);
  ASSERT_FALSE(drained->ok());
  EXPECT_NE(drained->error().message.find("not flushed"), std::string::npos) << drained->error().message;
  EXPECT_FALSE(aggregator.idle());  // the views are still there for a caller that tries again
}

// Search events: one per viewer, query and window, forward-decayed like trending (the same epoch),
// into search:popular; a chunk whose reply was lost is not counted twice.
TEST_F(ViewsRedis, SearchEventsBecomeDecayedPopularSearches) {
  Aggregator aggregator(clock_, options());
  RedisFlusher flusher(aggregator, *connection_);
  const std::string odd = "100% \"x\" [y] = é";
  std::string lines;
  for (int i = 0; i < 100; ++i) lines += search_line(t0 + i % 60, "alice", "funny cats");  // counts once
  lines += search_line(t0, "bob", "funny cats");
  lines += search_line(t0 - 86400, "carol", "funny cats");  // a half-life earlier: 1/2
  lines += search_line(t0 + 20, "dave", odd);
  lines += search_line(t0, "crawler", "spam", "bot");
  lines += line(t0, 1, "alice");  // a view in the same input
  aggregator.ingest_lines(lines);
  EXPECT_EQ(aggregator.counters().searches(), 4u);
  ASSERT_TRUE(flush(flusher));
  EXPECT_TRUE(aggregator.idle());

  EXPECT_EQ(call(Command("GET", keys::trending_epoch())).integer(), t0);
  EXPECT_NEAR(popularity("funny cats"), 2.5, 1e-9);
  EXPECT_NEAR(popularity(odd), std::exp2(20.0 / 86400), 1e-9);
  EXPECT_TRUE(call(Command("ZSCORE", keys::search_popular(), "spam")).is_nil());
  EXPECT_EQ(call(Command("ZCARD", keys::search_popular())).integer(), 2);
  EXPECT_EQ(score(all_key(), 1), 101);

  // An hour later, against the same epoch; then a chunk whose reply was lost, retried by the flusher.
  clock_.advance(3600s);
  aggregator.ingest_line(search_line(t0 + 3600, "erin", "funny cats"));
  const auto lost = apply_losing_replies(aggregator);
  ASSERT_EQ(lost.size(), 1u);
  ASSERT_TRUE(flush(flusher));
  EXPECT_EQ(aggregator.counters().chunks_replayed, 1u);
  EXPECT_NEAR(popularity("funny cats"), 2.5 + std::exp2(1.0 / 24), 1e-9);
}

TEST_F(ViewsRedis, UpkeepTrimsAndRebasesPopularSearchesWithTrending) {
  std::vector<Command> setup;
  for (int i = 1; i <= 5; ++i)
    setup.emplace_back("ZADD", keys::search_popular(), 256 * i, "query " + std::to_string(i));
  setup.emplace_back("SET", keys::trending_epoch(), t0 - 8 * 86400);
  ASSERT_TRUE(execute(std::move(setup)));
  MaintenanceOptions mo;
  mo.popular_searches_keep = 3;
  auto done = run_task(io_, maintain(*connection_, t0, std::log(2.0) / 86400, mo));
  ASSERT_TRUE(done && done->ok()) << (done ? done->error().message : "");
  // The top 3, multiplied by 2^-8 (eight days at a one-day half-life), like every trending list.
  EXPECT_EQ(call(Command("ZCARD", keys::search_popular())).integer(), 3);
  EXPECT_NEAR(popularity("query 5"), 5, 1e-9);
  EXPECT_NEAR(popularity("query 3"), 3, 1e-9);
  EXPECT_TRUE(call(Command("ZSCORE", keys::search_popular(), "query 2")).is_nil());

  // A search flushed after the rebase adds its weight against the new epoch.
  Aggregator aggregator(clock_, options());
  RedisFlusher flusher(aggregator, *connection_);
  aggregator.ingest_line(search_line(t0, "a", "query 3"));
  ASSERT_TRUE(flush(flusher));
  EXPECT_NEAR(popularity("query 3"), 4, 1e-9);
}

// `reel views --stdin`'s input: a file of mixed lines read by the fd source, flushed by the Service.
TEST_F(ViewsRedis, ServiceCountsSearchesReadFromAFile) {
  const std::string path = (dir_.path() / "events.log").string();
  {
    std::ofstream out(path);
    for (int viewer = 0; viewer < 30; ++viewer) {
      for (int again = 0; again < 3; ++again)
        out << search_line(t0, "v" + std::to_string(viewer), viewer % 3 == 0 ? "music" : "news");
      out << line(t0, 5, "v" + std::to_string(viewer));
    }
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto source = open_fd_source(io_.get_executor(), fd);
  ::close(fd);
  ASSERT_TRUE(source) << source.error().message;
  Aggregator aggregator(clock_, options());
  ServiceOptions so;
  so.flush_interval = 10ms;
  Service service(io_.get_executor(), clock_, aggregator, *connection_, so);
  service.add_source(std::move(*source));
  bool ended = false;
  service.start([&] { ended = true; });
  ASSERT_TRUE(run_until(io_, [&] { return ended; }));
  auto drained = run_task(io_, service.drain(60s));
  ASSERT_TRUE(drained && drained->ok());
  EXPECT_NEAR(popularity("music"), 10, 1e-9);
  EXPECT_NEAR(popularity("news"), 20, 1e-9);
  EXPECT_EQ(score(all_key(), 5), 130);
}

// The views stream carries searches too, and a generation of search chunks half applied at a
// crash is finished once by the next process: each query's count is exact.
TEST_F(ViewsRedis, StreamSearchesAreCountedOnceAcrossACrash) {
  auto add = [&](int from, int to) {
    std::vector<Command> adds;
    for (int i = from; i < to; ++i) {
      adds.emplace_back("XADD", keys::views_stream(), "*", "l",
                        search_line(t0, "s" + std::to_string(i), "query " + std::to_string(i % 3)));
    }
    ASSERT_TRUE(execute(std::move(adds)));
  };
  AggregatorOptions small = options();
  small.chunk_entries = 1;  // three queries: three chunks in a generation
  redis::ConnectionOptions connection;
  connection.endpoint = server_->endpoint();

  add(0, 9);
  const FlushChunk first = die_after_one_chunk(
      small, 9, 3, [&] { add(9, 12); }, 12);
  ASSERT_EQ(first.searches.size(), 1u);
  const std::string applied_first = first.searches[0].query;
  for (int q = 0; q < 3; ++q) {
    const std::string query = "query " + std::to_string(q);
    EXPECT_EQ(call(Command("ZSCORE", keys::search_popular(), query)).is_nil(), query != applied_first)
        << query;
  }

  Aggregator second(clock_, small);
  ServiceOptions so;
  so.flush_interval = 10ms;
  Service service(io_.get_executor(), clock_, second, *connection_, so);
  service.add_stream_source(open_stream_source(io_.get_executor(), connection, {}), "1/1");
  service.start();
  ASSERT_TRUE(run_until(io_, [&] {
    return second.idle() && call(Command("EXISTS", keys::views_generation("1/1"))).integer() == 0;
  }));
  for (int q = 0; q < 3; ++q) EXPECT_NEAR(popularity("query " + std::to_string(q)), 4, 1e-9) << q;
  EXPECT_EQ(second.counters().chunks_replayed, 1u);
  EXPECT_EQ(second.counters().searches(), 3u);
  auto drained = run_task(io_, service.drain(60s));
  ASSERT_TRUE(drained && drained->ok());
}

}  // namespace
}  // namespace reel::views
