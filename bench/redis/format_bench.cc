// RESP command formatting: hiredis's redisFormatCommandArgv against Reel's append_command, on the
// commands of one 30-card listing page's second round trip (MGET of 30 cards, two ZMSCOREs).
// Run: build/bench/redis/reel_redis_format_bench
#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>

#include "redis/protocol.h"

namespace {

std::vector<reel::redis::Command> page_commands() {
  reel::redis::Command cards("MGET"), views("ZMSCORE", "z:views:all"), ratings("ZMSCORE", "z:rating");
  for (int id = 900001; id <= 900030; ++id) {
    cards.arg("card:" + std::to_string(id));
    views.arg(id);
    ratings.arg(id);
  }
  return {cards, views, ratings};
}

void HiredisFormat(benchmark::State& state) {
  const auto commands = page_commands();
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& command : commands) {
      std::vector<const char*> argv;
      std::vector<size_t> lengths;
      for (const auto& arg : command.args()) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
      }
      char* formatted = nullptr;
      int length =
          redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(), lengths.data());
      out.append(formatted, static_cast<size_t>(length));
      redisFreeCommand(formatted);
    }
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(HiredisFormat);

void ReelAppendCommand(benchmark::State& state) {
  const auto commands = page_commands();
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& command : commands) (void)reel::redis::append_command(out, command);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(ReelAppendCommand);

}  // namespace

BENCHMARK_MAIN();
