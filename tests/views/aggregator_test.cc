// The aggregator without Redis: dedupe, bots, time bounds, partitioning, merging, chunks and
// tokens, co-view pairs, trending weights, daily rows, search events; and the tables under it.
#include "views/aggregator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "common/days.h"
#include "views/hash.h"

namespace reel::views {
namespace {

using namespace std::chrono_literals;
constexpr int64_t t0 = 1795867200;  // 2026-11-28 12:00:00 UTC
constexpr int32_t today = 20261128;

std::string line(int64_t time, int64_t video, std::string_view viewer, std::string_view agent = "desktop") {
  return "t=" + std::to_string(time) + " v=" + std::to_string(video) + " k=" + std::string(viewer) +
         " r=direct u=" + std::string(agent);
}

AggregatorOptions small_options() {
  AggregatorOptions o;
  o.dedupe_capacity = 4096;
  o.session_capacity = 1024;
  o.instance = "test";
  return o;
}

// Sums the sealed video increments per (video, day).
std::map<std::pair<int64_t, int32_t>, int64_t> sealed_views(Aggregator& a) {
  std::map<std::pair<int64_t, int32_t>, int64_t> out;
  for (const auto& chunk : a.seal()) {
    for (const auto& v : chunk.videos) out[{v.video_id, v.day}] += v.views;
  }
  return out;
}

void apply_all(Aggregator& a, const std::vector<int64_t>& unknown = {}) {
  std::vector<std::string> tokens;
  for (const auto& chunk : a.seal()) tokens.push_back(chunk.token);
  for (const auto& token : tokens) a.applied(token, ChunkResult{false, 0, unknown, {}});
}

TEST(Aggregator, CountsOneViewPerViewerAndVideoPerHalfHour) {
  ManualClock clock(t0);
  Aggregator a(clock, small_options());
  EXPECT_EQ(a.ingest_line(line(t0, 1, "alice")), Skip::counted);
  EXPECT_EQ(a.ingest_line(line(t0 + 60, 1, "alice")), Skip::duplicate);
  EXPECT_EQ(a.ingest_line(line(t0 + 60, 2, "alice")), Skip::counted);  // another video
  EXPECT_EQ(a.ingest_line(line(t0 + 60, 1, "bob")), Skip::counted);    // another viewer
  clock.advance(1799s);
  EXPECT_EQ(a.ingest_line(line(t0 + 1799, 1, "alice")), Skip::duplicate);
  clock.advance(1s);
  EXPECT_EQ(a.ingest_line(line(t0 + 1800, 1, "alice")), Skip::counted);  // 30 minutes after the counted one
  EXPECT_EQ(a.ingest_line(line(t0 + 1801, 1, "alice")), Skip::duplicate);
  // Out of order: compared with the latest counted view (t0 + 1800).
  EXPECT_EQ(a.ingest_line(line(t0 + 1000, 1, "alice")), Skip::duplicate);
  EXPECT_EQ(a.ingest_line(line(t0 - 600, 1, "alice")), Skip::counted);

  const auto c = a.counters();
  EXPECT_EQ(c.lines, 9u);
  EXPECT_EQ(c.views(), 5u);
  EXPECT_EQ(c.of(Skip::duplicate), 4u);
  EXPECT_EQ((sealed_views(a)),
            (std::map<std::pair<int64_t, int32_t>, int64_t>{{{1, today}, 4}, {{2, today}, 1}}));
}

TEST(Aggregator, FiltersBotsAndAbsurdTimesAndCountsEachReason) {
  ManualClock clock(t0);
  Aggregator a(clock, small_options());
  EXPECT_EQ(a.ingest_line(line(t0, 1, "crawler", "bot")), Skip::bot);
  EXPECT_EQ(a.ingest_line(line(t0 + 301, 1, "early")), Skip::in_future);
  EXPECT_EQ(a.ingest_line(line(t0 + 300, 1, "early")), Skip::counted);
  EXPECT_EQ(a.ingest_line(line(t0 - 2 * 86400 - 1, 1, "late")), Skip::too_old);
  EXPECT_EQ(a.ingest_line(line(t0 - 2 * 86400, 2, "late")), Skip::counted);
  EXPECT_EQ(a.ingest_line(line(0, 1, "epoch")), Skip::too_old);
  EXPECT_EQ(a.ingest_line(line(99999999999, 1, "far")), Skip::in_future);
  EXPECT_EQ(a.ingest_line("garbage"), Skip::malformed);
  EXPECT_EQ(a.ingest_line("t=1 v=x k=a"), Skip::bad_video_id);
  EXPECT_EQ(a.ingest_line("t=x v=1 k=a"), Skip::bad_time);
  EXPECT_EQ(a.ingest_line(std::string(max_line_bytes + 1, 't')), Skip::oversized);
  const auto c = a.counters();
  EXPECT_EQ(c.lines, 11u);
  EXPECT_EQ(c.of(Skip::bot), 1u);
  EXPECT_EQ(c.of(Skip::in_future), 2u);
  EXPECT_EQ(c.of(Skip::too_old), 2u);
  EXPECT_EQ(c.of(Skip::malformed), 1u);
  EXPECT_EQ(c.of(Skip::bad_video_id), 1u);
  EXPECT_EQ(c.of(Skip::bad_time), 1u);
  EXPECT_EQ(c.of(Skip::oversized), 1u);
  EXPECT_EQ(c.views(), 2u);
  uint64_t total = 0;
  for (uint64_t n : c.outcomes) total += n;
  EXPECT_EQ(total, c.lines);  // every line under exactly one outcome
}

TEST(Aggregator, IngestLinesSplitsABlockAndIgnoresEmptyLinesAndCarriageReturns) {
  ManualClock clock(t0);
  Aggregator a(clock, small_options());
  a.ingest_lines(line(t0, 1, "a") + "\r\n\n" + line(t0, 2, "a") + "\n" + line(t0, 3, "a"));
  EXPECT_EQ(a.counters().lines, 3u);
  EXPECT_EQ(a.counters().views(), 3u);
}

TEST(Aggregator, ViewsNearMidnightGoToTheirOwnDay) {
  const int64_t midnight = day_start(20261129);
  ManualClock clock(midnight);
  Aggregator a(clock, small_options());
  a.ingest_line(line(midnight - 1, 7, "a"));
  a.ingest_line(line(midnight, 7, "b"));
  a.ingest_line(line(midnight + 5, 7, "c"));
  EXPECT_EQ((sealed_views(a)),
            (std::map<std::pair<int64_t, int32_t>, int64_t>{{{7, 20261128}, 1}, {{7, 20261129}, 2}}));
}

TEST(Partitioning, EveryViewerHasExactlyOneOwnerAndTheHashIsStable) {
  // Fixed values: aggregators of different builds must agree.
  EXPECT_EQ(viewer_hash(""), mix64(0xcbf29ce484222325ULL));
  EXPECT_EQ(viewer_hash("0a1b2c3d4e5f6789"), 0x904463c6ed8766b6ULL);
  EXPECT_TRUE(owns("0a1b2c3d4e5f6789", 2, 4));
  std::vector<int> per_partition(4);
  for (int i = 0; i < 10000; ++i) {
    const std::string key = "viewer-" + std::to_string(i);
    int owners = 0;
    for (uint32_t p = 0; p < 4; ++p) {
      if (owns(key, p, 4)) {
        ++owners;
        ++per_partition[p];
      }
    }
    ASSERT_EQ(owners, 1) << key;
    EXPECT_TRUE(owns(key, 0, 1));
    EXPECT_TRUE(owns(key, 0, 0));
  }
  for (int n : per_partition) EXPECT_NEAR(n, 2500, 250);
}

TEST(Partitioning, AnAggregatorSkipsOtherPartitionsViewers) {
  ManualClock clock(t0);
  std::vector<std::unique_ptr<Aggregator>> parts;
  for (uint32_t i = 0; i < 3; ++i) {
    auto o = small_options();
    o.partition_index = i;
    o.partition_count = 3;
    parts.push_back(std::make_unique<Aggregator>(clock, o));
  }
  for (int v = 0; v < 300; ++v) {
    for (auto& p : parts) p->ingest_line(line(t0, 1, "viewer-" + std::to_string(v)));
  }
  uint64_t counted = 0;
  for (auto& p : parts) {
    counted += p->counters().views();
    EXPECT_EQ(p->counters().views() + p->counters().of(Skip::not_owned), 300u);
  }
  EXPECT_EQ(counted, 300u);
}

TEST(Aggregator, SealsIntoChunksWithUniqueTokensAndKeepsThemUntilApplied) {
  ManualClock clock(t0);
  auto o = small_options();
  o.chunk_entries = 2;
  Aggregator a(clock, o);
  // One viewer watches 1..5: 5 video increments, and 0+1+2+3+4 = 10 co-view pairs.
  for (int v = 1; v <= 5; ++v) a.ingest_line(line(t0, v, "x"));
  EXPECT_EQ(a.pending_videos(), 5u);
  EXPECT_EQ(a.pending_pairs(), 10u);
  std::vector<std::string> tokens;
  size_t videos = 0, pairs = 0;
  for (const auto& c : a.seal()) {
    tokens.push_back(c.token);
    EXPECT_TRUE(c.token.starts_with("test:"));
    EXPECT_TRUE(c.videos.empty() != c.pairs.empty());
    EXPECT_LE(c.videos.size() + c.pairs.size(), 2u);
    EXPECT_EQ(c.trend_ref, t0);
    videos += c.videos.size();
    pairs += c.pairs.size();
  }
  EXPECT_EQ(tokens.size(), 3u + 5u);
  EXPECT_EQ(std::set<std::string>(tokens.begin(), tokens.end()).size(), tokens.size());
  EXPECT_EQ(videos, 5u);
  EXPECT_EQ(pairs, 10u);
  EXPECT_EQ(a.pending_videos(), 0u);

  // New views merge into pending; seal() offers the same chunks until they are applied.
  a.ingest_line(line(t0, 9, "y"));
  a.applied(tokens[0], {});
  std::set<std::string> left;
  for (const auto& c : a.seal()) left.insert(c.token);
  EXPECT_EQ(left, std::set<std::string>(tokens.begin() + 1, tokens.end()));
  a.applied("no-such-token", {});
  EXPECT_EQ(a.seal().size(), tokens.size() - 1);
  EXPECT_FALSE(a.idle());
  apply_all(a);
  EXPECT_TRUE(a.in_flight().empty());
  EXPECT_EQ((sealed_views(a)), (std::map<std::pair<int64_t, int32_t>, int64_t>{{{9, today}, 1}}));
  const std::string next = a.seal().front().token;
  EXPECT_EQ(next, "test:9");
  apply_all(a);
  EXPECT_TRUE(a.idle());
  EXPECT_EQ(a.counters().chunks_sealed, 9u);
  EXPECT_EQ(a.counters().chunks_applied, 9u);
}

TEST(Aggregator, PendingIsBoundedAndDropsAreCounted) {
  ManualClock clock(t0);
  auto o = small_options();
  o.max_pending_videos = 3;
  o.max_pending_pairs = 2;
  Aggregator a(clock, o);
  for (int v = 1; v <= 5; ++v) a.ingest_line(line(t0, v, "v" + std::to_string(v)));
  EXPECT_EQ(a.counters().views(), 3u);
  EXPECT_EQ(a.counters().of(Skip::pending_full), 2u);
  EXPECT_EQ(a.ingest_line(line(t0, 2, "other")), Skip::counted);  // an existing entry still merges
  for (int v = 1; v <= 3; ++v) a.ingest_line(line(t0, v, "w"));   // pairs 1-2, 1-3, 2-3
  EXPECT_EQ(a.pending_pairs(), 2u);
  EXPECT_EQ(a.counters().coview_pairs, 2u);
  EXPECT_EQ(a.counters().coview_pairs_dropped, 1u);
}

TEST(Aggregator, TrendingWeightsDecayWithTheHalfLife) {
  ManualClock clock(t0);
  Aggregator a(clock, small_options());
  EXPECT_DOUBLE_EQ(a.lambda(), std::log(2.0) / 86400);
  a.ingest_line(line(t0, 1, "a"));
  a.ingest_line(line(t0 - 86400, 1, "b"));  // a day old: half the weight
  a.ingest_line(line(t0 - 43200, 2, "c"));
  a.ingest_line(line(t0 + 60, 3, "d"));
  std::map<int64_t, double> trend;
  for (const auto& c : a.seal()) {
    for (const auto& v : c.videos) trend[v.video_id] += v.trend;
  }
  EXPECT_NEAR(trend[1], 1.5, 1e-12);
  EXPECT_NEAR(trend[2], std::sqrt(0.5), 1e-12);
  EXPECT_NEAR(trend[3], std::exp2(60.0 / 86400), 1e-12);
}

TEST(Aggregator, AppliedChunksBecomeDailyRowsLessUnknownVideos) {
  ManualClock clock(t0);
  Aggregator a(clock, small_options());
  a.ingest_line(line(t0, 1, "a"));
  a.ingest_line(line(t0, 1, "b"));
  a.ingest_line(line(t0 - 86400, 1, "c"));
  a.ingest_line(line(t0, 404, "a"));
  apply_all(a, {404});
  auto rows = a.drain_daily_views();
  std::map<std::pair<int64_t, int32_t>, int64_t> got;
  for (const auto& r : rows) got[{r.video_id, r.day}] += r.views;
  EXPECT_EQ(got, (std::map<std::pair<int64_t, int32_t>, int64_t>{{{1, today}, 2}, {{1, 20261127}, 1}}));
  EXPECT_EQ(a.counters().unknown_video_views, 1u);
  EXPECT_TRUE(a.drain_daily_views().empty());

  // A failed SQL write gives its rows back; they merge with newer ones.
  a.return_daily_views(rows);
  a.ingest_line(line(t0, 1, "d"));
  apply_all(a);
  got.clear();
  for (const auto& r : a.drain_daily_views()) got[{r.video_id, r.day}] += r.views;
  EXPECT_EQ(got, (std::map<std::pair<int64_t, int32_t>, int64_t>{{{1, today}, 3}, {{1, 20261127}, 1}}));
}

TEST(Aggregator, DailyRowsAreBounded) {
  ManualClock clock(t0);
  auto o = small_options();
  o.max_daily_rows = 2;
  Aggregator a(clock, o);
  for (int v = 1; v <= 4; ++v) a.ingest_line(line(t0, v, "a"));
  a.ingest_line(line(t0, 4, "b"));
  apply_all(a);
  EXPECT_EQ(a.drain_daily_views().size(), 2u);
  EXPECT_EQ(a.counters().daily_views_dropped, 3u);  // videos 3 and 4 (twice)
}

TEST(CoViews, PairsWithTheLastFiveVideosOfTheSessionWindow) {
  ManualClock clock(t0 + 7800);  // after the last view
  Aggregator a(clock, small_options());
  // Viewer s watches 1..7 a minute apart, then 8 after two hours, then 1 again.
  for (int v = 1; v <= 7; ++v) a.ingest_line(line(t0 + 60 * v, v, "s"));
  a.ingest_line(line(t0 + 60 * 7 + 7200, 8, "s"));  // past the 1 h session window: no pairs
  a.ingest_line(line(t0 + 60 * 7 + 7300, 1, "s"));  // pairs with 8 only (the others are old)
  a.ingest_line(line(t0 + 60, 1, "t"));             // another viewer
  a.ingest_line(line(t0 + 61, 2, "t"));             // pairs 1-2 again
  a.ingest_line(line(t0 + 62, 2, "t"));             // a duplicate view: no pairs
  std::map<std::pair<int64_t, int64_t>, int64_t> pairs;
  for (const auto& c : a.seal()) {
    for (const auto& p : c.pairs) {
      EXPECT_LT(p.video_a, p.video_b);
      pairs[{p.video_a, p.video_b}] += p.count;
    }
  }
  std::map<std::pair<int64_t, int64_t>, int64_t> want;
  for (int v = 2; v <= 7; ++v) {
    for (int u = std::max(1, v - 5); u < v; ++u) want[{u, v}] = 1;
  }
  want[{1, 2}] = 2;
  want[{1, 8}] = 1;
  EXPECT_EQ(pairs, want);
}

TEST(Deduper, IsBoundedAndEvictsTheOldestEntryOfABucket) {
  Deduper d(10, 1800);
  EXPECT_EQ(d.capacity(), 10u);  // 2 buckets of 5
  EXPECT_EQ(d.memory_bytes(), 128u);
  // Fill far past capacity: the memory stays fixed, live entries get evicted and counted.
  for (uint64_t fp = 1; fp <= 1000; ++fp) EXPECT_TRUE(d.admit(mix64(fp) | 1, t0 + static_cast<int64_t>(fp)));
  EXPECT_EQ(d.evictions(), 990u);  // every insert after the 10 slots filled pushed out a live entry
  // The most recent entries of each bucket are still there.
  EXPECT_FALSE(d.admit(mix64(1000) | 1, t0 + 1001));
  // An entry past its window is replaced without counting an eviction.
  Deduper e(5, 1800);
  for (uint64_t fp = 1; fp <= 5; ++fp) e.admit(fp << 32, t0);
  e.admit(6ull << 32, t0 + 1800);
  EXPECT_EQ(e.evictions(), 0u);
  e.admit(7ull << 32, t0 + 1799);  // the oldest left (t0) is still inside its window
  EXPECT_EQ(e.evictions(), 1u);
}

TEST(Sessions, AViewerEvictedFromAFullBucketStartsANewSession) {
  Sessions s(4, 3600);  // one bucket of 4
  std::vector<int64_t> seen;
  auto collect = [&](int64_t other) { seen.push_back(other); };
  for (uint64_t viewer = 1; viewer <= 4; ++viewer)
    s.record(viewer << 8, 10, t0 + static_cast<int64_t>(viewer), collect);
  s.record(5 << 8, 10, t0 + 10, collect);  // evicts viewer 1, whose latest view is the oldest
  EXPECT_TRUE(seen.empty());
  s.record(1 << 8, 11, t0 + 11, collect);  // viewer 1 forgot video 10 (and evicts viewer 2)
  EXPECT_TRUE(seen.empty());
  s.record(2 << 8, 11, t0 + 12, collect);  // so viewer 2 starts afresh too (evicting viewer 3)
  EXPECT_TRUE(seen.empty());
  s.record(4 << 8, 12, t0 + 13, collect);  // viewer 4 was never evicted: it pairs with 10
  EXPECT_EQ(seen, std::vector<int64_t>{10});
}

TEST(FlatMap, GrowsKeepsInsertionOrderAndRefusesPastItsLimit) {
  struct Hash {
    uint64_t operator()(int64_t k) const { return mix64(static_cast<uint64_t>(k)); }
  };
  FlatMap<int64_t, int, Hash> m(100, 4);
  for (int64_t k = 1; k <= 100; ++k) *m.find_or_insert(k) += static_cast<int>(k);
  EXPECT_EQ(m.find_or_insert(101), nullptr);
  *m.find_or_insert(50) += 1;
  std::vector<int64_t> keys;
  m.for_each([&](int64_t k, int v) {
    keys.push_back(k);
    EXPECT_EQ(v, k == 50 ? 51 : k);
  });
  ASSERT_EQ(keys.size(), 100u);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(keys[i], static_cast<int64_t>(i + 1));
  m.clear();
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(*m.find_or_insert(7), 0);
}

// Search events: deduped per (viewer, query) in the same table and window as views.
std::string search_line(int64_t time, std::string_view viewer, std::string_view query,
                        std::string_view agent = "desktop") {
  std::string q;
  append_query_encoded(q, query);
  return "t=" + std::to_string(time) + " k=" + std::string(viewer) + " q=" + q +
         " n=5 u=" + std::string(agent);
}

std::map<std::string, int64_t> sealed_searches(Aggregator& a) {
  std::map<std::string, int64_t> out;
  for (const auto& chunk : a.seal()) {
    EXPECT_TRUE(chunk.searches.empty() || (chunk.videos.empty() && chunk.pairs.empty()));
    for (const auto& s : chunk.searches) out[s.query] += s.searches;
  }
  return out;
}

TEST(SearchAggregation, OneViewerCountsOncePerQueryAndWindow) {
  ManualClock clock(t0);
  Aggregator a(clock, small_options());
  for (int i = 0; i < 100; ++i) a.ingest_line(search_line(t0 + i, "alice", "funny cats"));
  const auto c = a.counters();
  EXPECT_EQ(c.searches(), 1u);
  EXPECT_EQ(c.of(Skip::duplicate), 99u);
  EXPECT_EQ(c.views(), 0u);
  EXPECT_EQ(sealed_searches(a), (std::map<std::string, int64_t>{{"funny cats", 1}}));
}

TEST(SearchAggregation, ThreeViewersCountThreeAndOtherQueriesCountApart) {
  ManualClock clock(t0);
  Aggregator a(clock, small_options());
  std::string block;
  for (int round = 0; round < 10; ++round) {
    for (const char* viewer : {"alice", "bob", "carol"})
      block += search_line(t0 + round, viewer, "funny cats") + "\n";
  }
  block += search_line(t0, "alice", "cooking") + "\n";
  // Interleaved with views of the same viewers: the two kinds do not dedupe each other.
  block += "t=" + std::to_string(t0) + " v=1 k=alice u=desktop\n";
  a.ingest_lines(block);
  EXPECT_EQ(a.counters().searches(), 4u);
  EXPECT_EQ(a.counters().views(), 1u);
  EXPECT_EQ(a.pending_searches(), 2u);
  EXPECT_FALSE(a.idle());
  EXPECT_EQ(sealed_searches(a), (std::map<std::string, int64_t>{{"cooking", 1}, {"funny cats", 3}}));
}

TEST(SearchAggregation, CountsAgainAfterTheWindowAndSkipsBotsOldAndOthersViewers) {
  ManualClock clock(t0);
  AggregatorOptions options = small_options();
  options.partition_count = 2;
  options.partition_index = 0;
  Aggregator a(clock, options);
  std::string mine, theirs;
  for (int i = 0; !(!mine.empty() && !theirs.empty()); ++i) {
    const std::string viewer = "viewer-" + std::to_string(i);
    (owns(viewer, 0, 2) ? mine : theirs) = viewer;
  }
  EXPECT_EQ(a.ingest_line(search_line(t0, mine, "q")), Skip::search);
  clock.advance(1799s);
  EXPECT_EQ(a.ingest_line(search_line(t0 + 1799, mine, "q")), Skip::duplicate);
  clock.advance(1s);
  EXPECT_EQ(a.ingest_line(search_line(t0 + 1800, mine, "q")), Skip::search);
  EXPECT_EQ(a.ingest_line(search_line(t0, theirs, "q")), Skip::not_owned);
  EXPECT_EQ(a.ingest_line(search_line(t0, mine, "crawled", "bot")), Skip::bot);
  EXPECT_EQ(a.ingest_line(search_line(t0 - 3 * 86400, mine, "old")), Skip::too_old);
  EXPECT_EQ(a.ingest_line("t=1795867200 k=x q=%zz"), Skip::bad_query);
  EXPECT_EQ(sealed_searches(a), (std::map<std::string, int64_t>{{"q", 2}}));
}

TEST(SearchAggregation, PendingQueriesAreBoundedAndWeightedLikeTrending) {
  ManualClock clock(t0);
  AggregatorOptions options = small_options();
  options.max_pending_searches = 2;
  options.chunk_entries = 1;
  Aggregator a(clock, options);
  EXPECT_EQ(a.ingest_line(search_line(t0, "a", "one")), Skip::search);
  EXPECT_EQ(a.ingest_line(search_line(t0 - 86400, "b", "one")), Skip::search);  // a half-life ago: 1/2
  EXPECT_EQ(a.ingest_line(search_line(t0, "a", "two")), Skip::search);
  EXPECT_EQ(a.ingest_line(search_line(t0, "a", "three")), Skip::pending_full);
  const auto& chunks = a.seal();
  ASSERT_EQ(chunks.size(), 2u);  // one query a chunk
  std::map<std::string, double> trend;
  for (const auto& chunk : chunks) {
    EXPECT_EQ(chunk.trend_ref, t0);
    for (const auto& s : chunk.searches) trend[s.query] = s.trend;
  }
  EXPECT_DOUBLE_EQ(trend["one"], 1.5);
  EXPECT_DOUBLE_EQ(trend["two"], 1.0);
}

}  // namespace
}  // namespace reel::views
