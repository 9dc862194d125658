// Listing pages read through RedisReadModel against a running Redis (the seeded catalog's), as a
// page handler reads them, without HTTP: plain pages beside filtered ones, cold (the filtered
// result key dropped before each read, untimed) or cached. Each read uses a fresh RedisReadModel,
// so the event loop's page and card caches never answer: every read costs Redis its full work.
// `concurrency` reads run at once on one event loop and one connection (auto-pipelined).
//
//   reel_list_bench --port P --query 'category=*&duration=long&period=week' [--cold]
//                   [--seconds 10] [--concurrency 8]
// category=* rotates over the header's categories, tag=a,b,c (or category=, channel=) over the names
// listed; page=N picks the page.
// Prints "RESULT rps=... p50=... p99=... bytes_per_req=0 errors=N" (milliseconds; errors = reads
// that failed), wrk's format in bench/lib.sh.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/asio.h"  // before any other Asio header
#include "common/clock.h"
#include "common/days.h"
#include "projection/filtered_list.h"
#include "projection/redis_read_model.h"
#include "redis/connection.h"
#include "result_line.h"

namespace reel::projection {
namespace {

struct Options {
  int port = 6379;
  std::string query;
  bool cold = false;
  int seconds = 10;
  int concurrency = 8;
};

// 'k=v&k=v' into a query; `rotate` is set when the scope's name is '*' (the header's categories);
// a name 'a,b,c' fills `names` (rotated over).
ListQuery parse_query(const std::string& text, bool& rotate, std::vector<std::string>& names) {
  ListQuery query;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('&', at);
    if (end == std::string::npos) end = text.size();
    const std::string pair = text.substr(at, end - at);
    at = end + 1;
    const size_t eq = pair.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = pair.substr(0, eq), value = pair.substr(eq + 1);
    if (key == "sort") query.sort = parse_sort(value).value_or(Sort::newest);
    if (key == "period") query.period = parse_period(value).value_or(Period::all);
    if (key == "duration") query.duration = parse_duration(value).value_or(Duration::any);
    if (key == "page") query.page = std::max(1, std::stoi(value));
    if (key == "category" || key == "tag" || key == "channel") {
      query.kind = key == "category" ? ListKind::category : key == "tag" ? ListKind::tag : ListKind::channel;
      query.name = value;
      rotate = value == "*";
      for (size_t from = 0; value.find(',') != std::string::npos && from <= value.size();) {
        const size_t comma = std::min(value.find(',', from), value.size());
        names.push_back(value.substr(from, comma - from));
        from = comma + 1;
      }
    }
  }
  return query;
}

struct Run {
  std::vector<double> latencies_ms;
  int64_t errors = 0;
};

Task<void> reader(redis::Connection& redis, const Clock& clock, const Options& options, ListQuery query,
                  const std::vector<std::string>& names, std::chrono::steady_clock::time_point until,
                  size_t& next, Run& run) {
  while (std::chrono::steady_clock::now() < until) {
    if (!names.empty()) query.name = names[next++ % names.size()];
    if (options.cold && query.filtered()) {
      FilteredPageCall call(query, utc_day(clock.unix_seconds()), clock.unix_seconds(), FilterLimits{});
      redis::Command drop("DEL", call.result_key());
      auto dropped = co_await redis.execute(std::move(drop));
      if (!dropped) ++run.errors;
    }
    RedisReadModel model(redis, clock);
    const auto start = std::chrono::steady_clock::now();
    auto page = co_await model.listing(query);
    const auto took = std::chrono::steady_clock::now() - start;
    if (!page) ++run.errors;
    run.latencies_ms.push_back(std::chrono::duration<double, std::milli>(took).count());
  }
}

int run_bench(const Options& options) {
  bool rotate = false;
  std::vector<std::string> names;
  ListQuery query = parse_query(options.query, rotate, names);
  asio::io_context io;
  redis::ConnectionOptions connection_options;
  connection_options.endpoint.port = static_cast<uint16_t>(options.port);
  connection_options.command_timeout = std::chrono::seconds(10);
  redis::Connection redis(io.get_executor(), connection_options);
  redis.start();
  SystemClock clock;
  Run run;
  size_t next = 0;
  auto main = [&]() -> Task<void> {
    if (rotate) {
      RedisReadModel model(redis, clock);
      ListQuery all;
      auto home = co_await model.listing(all);
      if (home) {
        for (const auto& link : (*home)->nav) names.push_back(link.slug);
      }
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(options.seconds);
    auto executor = co_await asio::this_coro::executor;
    int done = 0;
    for (int i = 0; i < options.concurrency; ++i) {
      asio::co_spawn(executor, reader(redis, clock, options, query, names, until, next, run),
                     [&](std::exception_ptr) { ++done; });
    }
    asio::steady_timer timer(executor);
    while (done < options.concurrency) {
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::use_awaitable);
    }
    redis.stop();
  };
  asio::co_spawn(io, main(), asio::detached);
  io.run();
  if (run.latencies_ms.empty()) {
    std::fprintf(stderr, "no reads completed\n");
    return 1;
  }
  bench::print_result(run.latencies_ms, static_cast<double>(run.latencies_ms.size()) / options.seconds, 0,
                      run.errors);
  return 0;
}

}  // namespace
}  // namespace reel::projection

int main(int argc, char** argv) {
  reel::projection::Options options;
  CLI::App app{"Listing pages read through RedisReadModel, plain or filtered, cold or cached"};
  app.add_option("--port", options.port, "Redis port")->required();
  app.add_option("--query", options.query, "the listing's query string (category=* rotates)");
  app.add_flag("--cold", options.cold, "drop the filtered result key before each read");
  app.add_option("--seconds", options.seconds, "how long to read");
  app.add_option("--concurrency", options.concurrency, "reads at once");
  CLI11_PARSE(app, argc, argv);
  return reel::projection::run_bench(options);
}
