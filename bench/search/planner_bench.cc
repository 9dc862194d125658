// The search planner's script alone (projection/search_query.h), Redis-side, on a synthetic
// catalog shaped like the seeded one: REEL_BENCH_VIDEOS videos (default 1,000,000) in z:new,
// z:views:all, z:duration and 16 category lists; 12 title words each held by 2.5% of the videos
// (random ids, random weights), 10 description words held by every video. One redis-server of its
// own (a temporary directory, no persistence); building the catalog takes about a minute.
// Each benchmark is one query shape, cold (its result key deleted before each call) or cached
// (the call that reads the result key: the next page, the next visitor); real time per call over
// one connection, so it includes one loopback round trip. `work` = elements the script touched.
// Run: build/bench/search/reel_planner_bench --benchmark_repetitions=3
// --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "projection/keys.h"
#include "projection/search_index.h"
#include "projection/search_query.h"
#include "redis/blocking_client.h"
#include "redis/server.h"
#include "shared/private_redis.h"

namespace reel::projection {
namespace {

constexpr const char* title_words =
    "volcano kitchen harbor meadow river studio galaxy forest castle desert ocean city";
constexpr const char* description_words =
    "filmed edited thanks watching like subscribe channel video today enjoy";

// Builds the catalog with the analyzer's own terms for the words, in one script per family.
constexpr std::string_view build_lua = R"lua(
math.randomseed(7)
local n, nwords, ncommon = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for first = 1, n, 1000 do
  local new, views, length, category = {}, {}, {}, {}
  for id = first, math.min(first + 999, n) do
    new[#new + 1] = 1700000000 + id * 30; new[#new + 1] = id
    views[#views + 1] = math.random(0, 100000); views[#views + 1] = id
    length[#length + 1] = math.random(10, 3600); length[#length + 1] = id
  end
  redis.call('ZADD', KEYS[1], unpack(new))
  redis.call('ZADD', KEYS[2], unpack(views))
  redis.call('ZADD', KEYS[3], unpack(length))
end
for id = 1, n do redis.call('ZADD', KEYS[5 + id % 16], 1700000000 + id * 30, id) end
for w = 1, nwords do
  for k = 1, math.floor(n * 0.025 / 1000) do
    local args = {}
    for i = 1, 1000 do args[#args + 1] = 1 + math.random(); args[#args + 1] = math.random(1, n) end
    redis.call('ZADD', KEYS[20 + w], unpack(args))
  end
end
for w = 1, ncommon do
  for first = 1, n, 1000 do
    local args = {}
    for id = first, math.min(first + 999, n) do args[#args + 1] = 0.3 + math.random() * 0.1; args[#args + 1] = id end
    redis.call('ZADD', KEYS[20 + nwords + w], unpack(args))
  end
end
redis.call('SET', KEYS[4], n)
return 1
)lua";

struct Catalog {
  std::filesystem::path dir;
  std::optional<bench::PrivateRedis> redis;
};

Catalog& catalog() {
  static Catalog* shared = [] {
    auto* made = new Catalog;
    char pattern[] = "/tmp/reel-planner-bench-XXXXXX";
    made->dir = mkdtemp(pattern);
    auto own = bench::start_private_redis(made->dir.string(), std::chrono::minutes(10));
    if (!own) {
      std::fprintf(stderr, "%s\n", own.error().message.c_str());
      std::exit(1);
    }
    made->redis.emplace(std::move(*own));

    const char* videos = std::getenv("REEL_BENCH_VIDEOS");
    const auto titles = search::thread_analyzer().parse_query(title_words).required_terms();
    const auto common = search::thread_analyzer().parse_query(description_words).required_terms();
    const keys::Scope all{ListKind::all, {}};
    redis::Command build("EVAL", build_lua, 20 + titles.size() + common.size(), keys::list(all, Sort::newest),
                         keys::list(all, Sort::views), keys::list(all, Sort::duration),
                         keys::search_videos());
    for (int c = 0; c < 16; ++c)
      build.arg(keys::list({ListKind::category, "c" + std::to_string(c)}, Sort::newest));
    for (const auto& term : titles) build.arg(keys::search_term(term));
    for (const auto& term : common) build.arg(keys::search_term(term));
    build.arg(videos ? videos : "1000000").arg(titles.size()).arg(common.size());
    auto built = made->redis->client.execute(std::move(build));
    if (!built || built->is_error()) {
      std::fprintf(stderr, "building the catalog failed\n");
      std::exit(1);
    }
    return made;
  }();
  return *shared;
}

void run(benchmark::State& state, const SearchQuery& query, bool cold) {
  auto& redis = catalog().redis->client;
  const auto plan = search_query::plan(query, search::thread_analyzer(), 1730000000, 0, 29);
  const std::string result = keys::search_result(plan.digest);
  int64_t work = 0;
  auto call = [&] {
    auto reply = redis.execute(search_query::script().evalsha_command(plan.keys, plan.args));
    if (reply && redis::Script::is_noscript(*reply)) {
      reply = redis.execute(search_query::script().eval_command(plan.keys, plan.args));
    }
    auto answer = reply ? search_query::read_answer(*reply) : Result<search_query::Answer>(reply.error());
    if (!answer) state.SkipWithError(answer.error().message.c_str());
    return answer ? answer->work : 0;
  };
  call();  // the script loaded, the result stored
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      if (!redis.execute(redis::Command("DEL", result))) state.SkipWithError("DEL failed");
      state.ResumeTiming();
    }
    work = call();
  }
  state.counters["work"] = static_cast<double>(work);
}

SearchQuery text(std::string words, SearchSort sort = SearchSort::relevance) {
  SearchQuery query;
  query.text = std::move(words);
  query.sort = sort;
  return query;
}

void register_all() {
  SearchQuery filtered = text("volcano kitchen");
  filtered.category = "c3";
  filtered.duration = Duration::long_videos;
  struct Shape {
    const char* name;
    SearchQuery query;
  };
  const Shape shapes[] = {
      {"1_term", text("volcano")},
      {"2_terms", text("volcano kitchen")},
      {"3_terms", text("volcano kitchen harbor")},
      {"2_terms_newest", text("volcano kitchen", SearchSort::newest)},
      {"1_term_views", text("volcano", SearchSort::views)},
      {"2_terms_category_long", filtered},
      {"title_and_description_word", text("volcano filmed")},
      {"2_description_words", text("filmed edited")},
      {"10_description_words", text(description_words)},
  };
  for (const auto& shape : shapes) {
    for (bool cold : {true, false}) {
      const std::string name = std::string("Planner/") + shape.name + (cold ? "/cold" : "/cached");
      benchmark::RegisterBenchmark(
          name.c_str(), [query = shape.query, cold](benchmark::State& state) { run(state, query, cold); })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace
}  // namespace reel::projection

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  reel::projection::register_all();
  benchmark::RunSpecifiedBenchmarks();
  auto stopped = reel::projection::catalog().redis->server.stop();
  if (!stopped.ok()) std::fprintf(stderr, "redis-server: %s\n", stopped.error().message.c_str());
  std::filesystem::remove_all(reel::projection::catalog().dir);
  return stopped.ok() ? 0 : 1;
}
