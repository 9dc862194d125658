// Aggregator throughput: parse + partition + dedupe + aggregate (+ co-view sessions) on one core
// over a generated log (reel_views_generate), with the flushes the aggregator would do sealed into
// script calls and encoded in RESP into a counting sink instead of Redis. Prints events/s and the
// Redis traffic per million events for each flush size given.
//   reel_views_bench FILE [--flush-every N[,N...]] [--now UNIX] [--coview-depth N]
//                    [--redis EVENTS [--videos N] [--windows 0|1]]
// Flush sizes are in events: at a 1 s flush interval, 2,300 is 200 million views a day on average.
// --redis runs the first EVENTS events again with real flushes (flush every 2,300 events) into a
// private redis-server seeded with a catalog of N videos (1 category, 5 tags, 1 channel each),
// and prints what Redis did per million events (INFO commandstats calls, its CPU time); --windows 0
// leaves the week and month windows unset (only the day lists counted, the upkeep's old way).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/days.h"
#include "flags.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "projection/view_lists.h"
#include "redis/blocking_client.h"
#include "redis/protocol.h"
#include "redis/server.h"
#include "shared/private_redis.h"
#include "views/aggregator.h"
#include "views/flush.h"

namespace {

using Seconds = std::chrono::duration<double>;

struct Traffic {
  uint64_t flushes = 0, script_calls = 0, video_increments = 0, pair_increments = 0, search_increments = 0,
           resp_bytes = 0, chunks_days = 0;
};

// Seals what is pending, encodes each chunk's script call, counts it, and marks it applied.
void flush(reel::views::Aggregator& aggregator, const reel::views::ChunkEncoder& encoder, Traffic& traffic,
           std::string& resp) {
  const auto& chunks = aggregator.seal();
  if (chunks.empty()) return;
  ++traffic.flushes;
  std::vector<std::string> tokens;
  for (const auto& chunk : chunks) {
    resp.clear();
    (void)reel::redis::append_command(resp, encoder.command(chunk, aggregator.clock().unix_seconds()));
    traffic.resp_bytes += resp.size();
    ++traffic.script_calls;
    traffic.video_increments += chunk.videos.size();
    traffic.pair_increments += chunk.pairs.size();
    traffic.search_increments += chunk.searches.size();
    tokens.push_back(chunk.token);
  }
  for (const auto& token : tokens) aggregator.applied(token, {});
}

// Sum of calls over INFO commandstats, and the server's CPU seconds (user + sys).
std::pair<uint64_t, double> redis_work(reel::redis::BlockingClient& client) {
  uint64_t calls = 0;
  auto stats = client.execute(reel::redis::Command("INFO", "commandstats"));
  std::string_view text = stats ? stats->str() : std::string_view();
  for (size_t at = text.find("calls="); at != std::string_view::npos; at = text.find("calls=", at + 1)) {
    calls += std::strtoull(text.data() + at + 6, nullptr, 10);
  }
  double cpu = 0;
  auto info = client.execute(reel::redis::Command("INFO", "cpu"));
  std::string_view cpu_text = info ? info->str() : std::string_view();
  for (std::string_view field : {"used_cpu_user:", "used_cpu_sys:"}) {
    const size_t at = cpu_text.find(field);
    if (at != std::string_view::npos) cpu += std::strtod(cpu_text.data() + at + field.size(), nullptr);
  }
  return {calls, cpu};
}

// With `windows`, the week and month lists (global and the 20 categories') have their windows
// (views/windows.h), so each increment also goes to them, as in a running site; without, only
// to the day lists, as before the windows.
int run_against_redis(std::string_view data, size_t events, int64_t videos, int64_t now, int coview_depth,
                      bool windows) {
  using namespace reel;
  const std::string dir = "/tmp/reel-views-bench-redis";
  auto own = bench::start_private_redis(dir, std::chrono::seconds(60));
  if (!own) {
    std::fprintf(stderr, "%s\n", own.error().message.c_str());
    return 1;
  }
  redis::BlockingClient* client = &own->client;
  std::printf("\nreal Redis: seeding %lld videos...\n", static_cast<long long>(videos));
  std::vector<redis::Command> batch;
  for (int64_t id = 1; id <= videos; ++id) {
    catalog::Video v;
    v.id = id;
    v.title = "Video " + std::to_string(id);
    v.slug = "video-" + std::to_string(id);
    v.channel_name = "channel" + std::to_string(id % 5000);
    v.categories = {"category" + std::to_string(id % 20)};
    for (int t = 0; t < 5; ++t) v.tags.push_back("tag" + std::to_string((id * 7 + t * 1009) % 50000));
    for (auto& c : projection::video_object_commands(v, "Channel")) batch.push_back(std::move(c));
    if (batch.size() >= 20000 || id == videos) {
      if (auto r = client->execute(std::move(batch)); !r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        return 1;
      }
      batch.clear();
    }
  }
  if (windows) {
    redis::Command set("HSET", projection::keys::views_windows());
    std::vector<std::string> slugs;
    for (int category = 0; category < 20; ++category) slugs.push_back("category" + std::to_string(category));
    for (const projection::keys::Scope& scope : projection::view_list_scopes(slugs)) {
      for (const projection::ViewWindow& window : projection::view_windows) {
        set.arg(projection::keys::list(scope, projection::Sort::views, window.period))
            .arg(window.first_day(utc_day(now)));
      }
    }
    (void)client->execute(std::move(set));
  }
  std::printf("  the week and month windows %s\n", windows ? "kept (views/windows.h)" : "not kept");
  (void)client->execute(redis::Command("SCRIPT", "LOAD", views::ChunkEncoder::script().source()));
  (void)client->execute(redis::Command("CONFIG", "RESETSTAT"));

  ManualClock clock(now);
  views::AggregatorOptions options;
  options.instance = "bench";
  options.coview_depth = coview_depth;
  views::Aggregator aggregator(clock, options);
  views::ChunkEncoder encoder(aggregator.lambda(), views::FlushOptions{});
  const auto before = redis_work(*client);
  Seconds in_redis{0};
  uint64_t round_trips = 0;
  size_t seen = 0;
  std::string_view rest = data;
  while (seen < events && !rest.empty()) {
    size_t end = 0;
    for (int i = 0; i < 2300 && end < rest.size(); ++i) {
      const size_t newline = rest.find('\n', end);
      end = newline == std::string_view::npos ? rest.size() : newline + 1;
    }
    aggregator.ingest_lines(rest.substr(0, end));
    rest.remove_prefix(end);
    seen += 2300;
    std::vector<redis::Command> commands;
    std::vector<std::string> tokens;
    for (const auto& chunk : aggregator.seal()) {
      commands.push_back(encoder.command(chunk, clock.unix_seconds()));
      tokens.push_back(chunk.token);
    }
    if (commands.empty()) continue;
    const auto t = std::chrono::steady_clock::now();
    auto replies = client->execute(std::move(commands));
    in_redis += std::chrono::steady_clock::now() - t;
    ++round_trips;
    if (!replies) {
      std::fprintf(stderr, "%s\n", replies.error().message.c_str());
      return 1;
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
      auto result = views::parse_chunk_reply((*replies)[i]);
      if (!result) {
        std::fprintf(stderr, "%s\n", result.error().message.c_str());
        return 1;
      }
      aggregator.applied(tokens[i], *result);
    }
  }
  const auto after = redis_work(*client);
  const double per_million = 1e6 / static_cast<double>(aggregator.counters().lines);
  std::printf(
      "  %llu events in %llu flushes of 2,300: Redis ran %.0f commands per million events "
      "(client sent %.0f script calls), %.2f s of Redis CPU and %.2f s of flush round trips per "
      "million events\n",
      static_cast<unsigned long long>(aggregator.counters().lines),
      static_cast<unsigned long long>(round_trips),
      static_cast<double>(after.first - before.first) * per_million,
      static_cast<double>(aggregator.counters().chunks_sealed) * per_million,
      (after.second - before.second) * per_million, in_redis.count() * per_million);
  // Where Redis spent it, command by command.
  auto stats = client->execute(redis::Command("INFO", "commandstats"));
  if (stats) {
    std::string_view text = stats->str();
    for (size_t at = text.find("cmdstat_"); at != std::string_view::npos;
         at = text.find("cmdstat_", at + 1)) {
      const std::string_view row = text.substr(at + 8, text.find('\r', at) - at - 8);
      std::printf("    %.*s\n", static_cast<int>(row.size()), row.data());
    }
  }
  (void)own->server.stop();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace reel::views;
  using bench::list_flag;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: reel_views_bench FILE [--flush-every N[,N...]] [--now UNIX] [--coview-depth N] "
                 "[--redis EVENTS [--videos N] [--windows 0|1]]\n");
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary | std::ios::ate);
  if (!file) {
    std::perror(argv[1]);
    return 1;
  }
  std::string data(static_cast<size_t>(file.tellg()), '\0');
  file.seekg(0);
  file.read(data.data(), static_cast<std::streamsize>(data.size()));
  const auto flush_sizes = list_flag(argc, argv, "--flush-every", {2300, 100000, 1000000});
  const int64_t now = list_flag(argc, argv, "--now", {1795737600 + 86400})[0];
  const int coview_depth = static_cast<int>(list_flag(argc, argv, "--coview-depth", {session_depth})[0]);
  const auto redis_events = static_cast<size_t>(list_flag(argc, argv, "--redis", {0})[0]);
  const int64_t videos = list_flag(argc, argv, "--videos", {1'000'000})[0];
  std::printf("log: %s, %.1f MiB; co-view depth %d\n", argv[1], static_cast<double>(data.size()) / (1 << 20),
              coview_depth);
  const bool windows = list_flag(argc, argv, "--windows", {1})[0] != 0;
  if (redis_events > 0) return run_against_redis(data, redis_events, videos, now, coview_depth, windows);

  for (long long flush_every : flush_sizes) {
    reel::ManualClock clock(now);
    AggregatorOptions options;
    options.instance = "bench";
    options.coview_depth = coview_depth;
    Aggregator aggregator(clock, options);
    ChunkEncoder encoder(aggregator.lambda(), FlushOptions{});
    Traffic traffic;
    std::string resp;
    Seconds flushing{0};
    uint64_t next_flush = static_cast<uint64_t>(flush_every);

    const auto started = std::chrono::steady_clock::now();
    std::string_view rest(data);
    while (!rest.empty()) {
      // Blocks of about 64 KiB ending at a newline, as a source hands them over.
      size_t end = rest.size() <= 65536 ? rest.size() : rest.rfind('\n', 65536) + 1;
      if (end == 0) end = rest.size();
      aggregator.ingest_lines(rest.substr(0, end));
      rest.remove_prefix(end);
      if (aggregator.counters().lines >= next_flush) {
        const auto t = std::chrono::steady_clock::now();
        flush(aggregator, encoder, traffic, resp);
        flushing += std::chrono::steady_clock::now() - t;
        next_flush = aggregator.counters().lines + static_cast<uint64_t>(flush_every);
      }
    }
    const auto t = std::chrono::steady_clock::now();
    flush(aggregator, encoder, traffic, resp);
    flushing += std::chrono::steady_clock::now() - t;
    const Seconds total = std::chrono::steady_clock::now() - started;

    const Counters c = aggregator.counters();
    const double lines = static_cast<double>(c.lines);
    const double per_million = 1e6 / lines;
    const double ingest = (total - flushing).count();
    std::printf("\nflush every %lld events (%llu flushes)\n", flush_every,
                static_cast<unsigned long long>(traffic.flushes));
    std::printf(
        "  events              %.0f (views %llu, searches %llu, duplicates %llu, bots %llu, malformed %llu, "
        "bad time %llu)\n",
        lines, static_cast<unsigned long long>(c.views()), static_cast<unsigned long long>(c.searches()),
        static_cast<unsigned long long>(c.of(Skip::duplicate)),
        static_cast<unsigned long long>(c.of(Skip::bot)),
        static_cast<unsigned long long>(c.of(Skip::malformed)),
        static_cast<unsigned long long>(c.of(Skip::bad_time)));
    std::printf("  parse+dedupe+aggregate  %.2f s  %.2f M events/s\n", ingest, lines / ingest / 1e6);
    std::printf("  seal+encode flushes     %.2f s\n", flushing.count());
    std::printf("  all                     %.2f s  %.2f M events/s\n", total.count(),
                lines / total.count() / 1e6);
    std::printf(
        "  per million events: %.0f script calls (EVALSHA), %.0f video increments, %.0f pair increments, "
        "%.0f search increments, %.1f MiB RESP\n",
        static_cast<double>(traffic.script_calls) * per_million,
        static_cast<double>(traffic.video_increments) * per_million,
        static_cast<double>(traffic.pair_increments) * per_million,
        static_cast<double>(traffic.search_increments) * per_million,
        static_cast<double>(traffic.resp_bytes) * per_million / (1 << 20));
    std::printf("  dedupe evictions %llu, co-view pairs %llu (dropped %llu), pending dropped %llu\n",
                static_cast<unsigned long long>(aggregator.dedupe_evictions()),
                static_cast<unsigned long long>(c.coview_pairs),
                static_cast<unsigned long long>(c.coview_pairs_dropped),
                static_cast<unsigned long long>(c.of(Skip::pending_full)));
  }
  return 0;
}
