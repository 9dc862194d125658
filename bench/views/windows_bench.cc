// How long the week and month lists' upkeep holds Redis at a large site's scale, beside the union
// it replaced (views/windows.h). A private redis-server on a loopback port; 31 day lists of
// PER_DAY random view increments (1-50 views to a random one of 1,000,000 videos, the shape of
// z:views:day:{d}); then, each timed by Redis's own clock (SLOWLOG, every command):
//  1. the old upkeep: ZUNIONSTORE of the last 7 and of the last 30 day lists;
//  2. keep_windows() with no windows yet: each list set whole by a union, once;
//  3. keep_windows() the next day: the day leaving the week and the one leaving the month,
//     subtracted `chunk` members per script call: the calls, their longest, their p99, their sum,
//     and the wall time.
// Run by hand (docs/benchmarks.md §27):
//   build/bench/views/reel_windows_bench [--per-day N[,N...]] [--chunk N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/asio.h"  // before any other Asio header
#include "common/days.h"
#include "flags.h"
#include "projection/keys.h"
#include "redis/blocking_client.h"
#include "redis/connection.h"
#include "redis/server.h"
#include "shared/private_redis.h"
#include "views/windows.h"

namespace {

using namespace reel;
namespace keys = projection::keys;
using Seconds = std::chrono::duration<double>;

const int64_t today_noon = day_start(20261201) + 12 * 3600;

std::string day_list(int32_t day) {
  return keys::list({projection::ListKind::all, {}}, projection::Sort::views, projection::Period::day, day);
}

// The durations (µs) SLOWLOG holds for commands named `name` or `other` (lower case), then resets it.
std::vector<int64_t> logged(redis::BlockingClient& client, std::string_view name,
                            std::string_view other = {}) {
  std::vector<int64_t> micros;
  auto log = client.execute(redis::Command("SLOWLOG", "GET", -1));
  if (log && log->is_array()) {
    for (const auto& entry : log->elements()) {
      const auto& fields = entry.elements();
      if (fields.size() < 4 || fields[3].elements().empty()) continue;
      std::string command(fields[3].elements()[0].str());
      std::transform(command.begin(), command.end(), command.begin(), ::tolower);
      if (command == name || command == other) micros.push_back(fields[2].integer());
    }
  }
  (void)client.execute(redis::Command("SLOWLOG", "RESET"));
  return micros;
}

void print_calls(std::string_view what, std::vector<int64_t> micros, Seconds wall) {
  std::sort(micros.begin(), micros.end());
  int64_t sum = 0;
  for (int64_t m : micros) sum += m;
  const auto at = [&](double q) {
    return micros.empty() ? 0.0
                          : micros[static_cast<size_t>(q * static_cast<double>(micros.size() - 1))] / 1e3;
  };
  std::printf(
      "  %-34s %5zu calls, longest %7.2f ms, p99 %6.2f ms, p50 %6.2f ms, in all %8.1f ms of Redis, "
      "%8.1f ms wall\n",
      std::string(what).c_str(), micros.size(), at(1.0), at(0.99), at(0.5), sum / 1e3, wall.count() * 1e3);
}

Result<views::WindowStats> keep(asio::io_context& io, redis::Connection& connection, int64_t now,
                                int64_t chunk, Seconds& wall) {
  std::optional<Result<views::WindowStats>> result;
  views::WindowOptions options;
  options.chunk = chunk;
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(
      io, [&]() -> Task<void> { result.emplace(co_await views::keep_windows(connection, now, {}, options)); },
      asio::detached);
  io.restart();
  while (!result) io.run_one();
  wall = std::chrono::steady_clock::now() - start;
  return std::move(*result);
}

int run(int64_t per_day, int64_t chunk) {
  const std::string dir = "/tmp/reel-windows-bench";
  auto own = bench::start_private_redis(dir, std::chrono::seconds(120));
  if (!own) {
    std::fprintf(stderr, "%s\n", own.error().message.c_str());
    return 1;
  }
  redis::BlockingClient* client = &own->client;
  const int32_t today = utc_day(today_noon);
  for (int back = 0; back <= 30; ++back) {
    auto filled = client->execute(
        redis::Command("EVAL",
                       "math.randomseed(tonumber(ARGV[2])) for i = 1, tonumber(ARGV[1]) do "
                       "redis.call('ZINCRBY', KEYS[1], math.random(1, 50), math.random(1, 1000000)) end",
                       1, day_list(days_before(today, back)), per_day, back + 1));
    if (!filled || filled->is_error()) {
      std::fprintf(stderr, "filling the day lists failed\n");
      return 1;
    }
  }
  auto in_day = client->execute(redis::Command("ZCARD", day_list(today)));
  std::printf("\n%lld increments a day (%lld videos a day):\n", static_cast<long long>(per_day),
              static_cast<long long>(in_day ? in_day->integer() : -1));
  (void)client->execute(redis::Command("CONFIG", "SET", "slowlog-log-slower-than", 0));
  (void)client->execute(redis::Command("CONFIG", "SET", "slowlog-max-len", 1000000));
  (void)client->execute(redis::Command("SLOWLOG", "RESET"));

  for (auto [name, days] : {std::pair{"week", 7}, std::pair{"month", 30}}) {
    redis::Command union_store("ZUNIONSTORE", std::string("old:") + name, days);
    for (int back = 0; back < days; ++back) union_store.arg(day_list(days_before(today, back)));
    const auto start = std::chrono::steady_clock::now();
    (void)client->execute(std::move(union_store));
    print_calls(std::string("old upkeep: ZUNIONSTORE ") + name, logged(*client, "zunionstore"),
                std::chrono::steady_clock::now() - start);
  }

  asio::io_context io;
  redis::Connection connection(io.get_executor(), own->options);
  connection.start();
  Seconds wall{};
  auto first = keep(io, connection, today_noon - 86400, chunk, wall);
  if (!first) {
    std::fprintf(stderr, "%s\n", first.error().message.c_str());
    return 1;
  }
  print_calls("first upkeep: each list set whole", logged(*client, "evalsha", "eval"), wall);
  auto next = keep(io, connection, today_noon, chunk, wall);
  if (!next) {
    std::fprintf(stderr, "%s\n", next.error().message.c_str());
    return 1;
  }
  print_calls("next day: two days subtracted", logged(*client, "evalsha", "eval"), wall);
  std::printf("  (%llu days retired in %llu script calls of %lld members)\n",
              static_cast<unsigned long long>(next->days_retired),
              static_cast<unsigned long long>(next->calls), static_cast<long long>(chunk));
  connection.stop();
  (void)own->server.stop();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using reel::views::bench::flag;
  using reel::views::bench::list_flag;
  const auto per_day = list_flag(argc, argv, "--per-day", {100000, 300000}, 1);
  const long long chunk = flag(argc, argv, "--chunk", views::WindowOptions{}.chunk, 1);
  for (long long n : per_day) {
    if (int failed = run(n, chunk); failed) return failed;
  }
  return 0;
}
