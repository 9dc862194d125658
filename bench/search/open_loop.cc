// Open-loop load for issue 12's "cold query at half of peak": requests go out at a fixed rate,
// evenly spaced, whatever the answers do, and each latency counts from the moment its request was
// due, so a stall delays every request behind it and shows in the percentiles (no coordinated
// omission, unlike paced wrk connections, which fire in lockstep bursts). Written in C++ because
// the Python client it replaces added ~1 ms of its own to every latency at these rates.
//
// Queries are bench/wrk/search.lua's cold mode (its word list is read from that file, one list for
// both clients): every combination of TERMS distinct seed title words, shuffled by SEED, none
// repeated within a run (drop the q:* result keys between runs).
//
// --warmup S sends S seconds of the same load first and leaves it out of the figures, as wrk2
// leaves out its calibration: a run that starts from an idle server otherwise counts the first
// burst of wake-ups and cache misses (tens of ms for the first few requests), which steady traffic
// never sees (docs/benchmarks.md §25).
//
//   reel_open_loop --port 8092 --rate 300 --seconds 8 --terms 2 --sort relevance [--seed 1]
//                  [--warmup 1] [--path /api/v1/search]
// Prints "RESULT rps=... p50=... p99=... bytes_per_req=... errors=N" (milliseconds), wrk's format in
// bench/lib.sh. Errors: a failed connection or read, or a status other than 200.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "common/asio.h"  // before any other Asio header
#include "result_line.h"

namespace reel::bench {
namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 8092;
  std::string path = "/api/v1/search";
  double rate = 100;
  double seconds = 10;
  double warmup_seconds = 0;  // sent first at the same rate, not counted
  int terms = 2;
  std::string sort = "relevance";
  unsigned seed = 42;
  std::string words_file = "bench/wrk/search.lua";
  std::string trace_file;  // non-empty: one line per request, "due_ms latency_ms" (when the tail is)
};

// The quoted words of search.lua's `local words = {...}`.
std::vector<std::string> read_words(const std::string& path) {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  const size_t begin = text.find("local words = {");
  const size_t end = text.find('}', begin);
  std::vector<std::string> words;
  if (begin == std::string::npos || end == std::string::npos) return words;
  const std::string list = text.substr(begin, end - begin);
  const std::regex quoted("\"([^\"]+)\"");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), quoted); it != std::sregex_iterator(); ++it)
    words.push_back((*it)[1]);
  return words;
}

// Every combination of n distinct words from index `from` on, joined with '+'.
void combinations(const std::vector<std::string>& words, int n, size_t from, std::string picked,
                  std::vector<std::string>& out) {
  if (n == 0) {
    out.push_back(std::move(picked));
    return;
  }
  for (size_t i = from; i + n <= words.size(); ++i)
    combinations(words, n - 1, i + 1, picked.empty() ? words[i] : picked + "+" + words[i], out);
}

struct Run {
  std::vector<tcp::socket> idle;    // kept-alive connections, reused by the next request due
  Clock::time_point start;          // the first request due
  Clock::time_point measured_from;  // requests due before this are the warm-up's: not counted
  std::vector<double> latencies_ms;
  std::vector<std::pair<double, double>> trace;  // (due, latency) in ms, in completion order
  double bytes = 0;
  int64_t errors = 0;
  Clock::time_point last_done;
};

// One GET on `socket`: the status and the body's size, or nullopt when the connection failed.
Task<std::optional<std::pair<int, size_t>>> get(tcp::socket& socket, const std::string& request) {
  boost::system::error_code ec;
  co_await asio::async_write(socket, asio::buffer(request), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return std::nullopt;
  std::string received;
  std::array<char, 16384> chunk{};
  size_t header_end = std::string::npos;
  size_t length = 0;
  for (;;) {
    const size_t n =
        co_await socket.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    received.append(chunk.data(), n);
    if (header_end == std::string::npos) {
      header_end = received.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
      std::string head = received.substr(0, header_end);
      std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
      if (const size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
        const char* digits = head.c_str() + at + 17;
        while (*digits == ' ') ++digits;
        std::from_chars(digits, head.c_str() + head.size(), length);  // stays 0 when malformed
      }
    }
    if (received.size() >= header_end + 4 + length) break;
  }
  const int status = std::atoi(received.c_str() + received.find(' ') + 1);
  co_return std::pair{status, length};
}

Task<void> request(Run& run, const Options& options, const tcp::endpoint& endpoint, std::string target,
                   Clock::time_point due) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, due);
  co_await timer.async_wait(asio::use_awaitable);
  std::optional<tcp::socket> socket;
  if (!run.idle.empty()) {
    socket.emplace(std::move(run.idle.back()));
    run.idle.pop_back();
  } else {
    socket.emplace(executor);
    boost::system::error_code ec;
    co_await socket->async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      ++run.errors;
      co_return;
    }
  }
  const std::string text =
      fmt::format("GET {} HTTP/1.1\r\nHost: {}:{}\r\n\r\n", target, options.host, options.port);
  auto answer = co_await get(*socket, text);
  const auto done = Clock::now();
  if (!answer || answer->first != 200) ++run.errors;
  if (due >= run.measured_from) {
    run.latencies_ms.push_back(std::chrono::duration<double, std::milli>(done - due).count());
    run.trace.emplace_back(std::chrono::duration<double, std::milli>(due - run.start).count(),
                           run.latencies_ms.back());
    run.last_done = std::max(run.last_done, done);
    if (answer) run.bytes += static_cast<double>(answer->second);
  }
  if (answer) run.idle.push_back(std::move(*socket));
}

int run_bench(const Options& options) {
  const std::vector<std::string> words = read_words(options.words_file);
  if (words.empty()) {
    std::fprintf(stderr, "no words in %s (run from the repository root)\n", options.words_file.c_str());
    return 1;
  }
  std::vector<std::string> queries;
  combinations(words, options.terms, 0, "", queries);
  std::shuffle(queries.begin(), queries.end(), std::mt19937_64(options.seed));
  const auto total = static_cast<size_t>(options.rate * (options.warmup_seconds + options.seconds));
  if (total > queries.size()) {
    std::fprintf(stderr, "%zu requests but only %zu distinct queries: lower --rate or --seconds\n", total,
                 queries.size());
    return 1;
  }
  asio::io_context io;
  const tcp::endpoint endpoint(asio::ip::make_address(options.host), static_cast<uint16_t>(options.port));
  Run run;
  run.latencies_ms.reserve(total);
  const auto start = run.start = Clock::now() + std::chrono::milliseconds(100);
  run.measured_from = start + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(options.warmup_seconds));
  for (size_t i = 0; i < total; ++i) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(i) / options.rate));
    std::string target = fmt::format("{}?q={}&sort={}", options.path, queries[i], options.sort);
    asio::co_spawn(io, request(run, options, endpoint, std::move(target), due), asio::detached);
  }
  io.run();
  if (run.latencies_ms.empty()) {
    std::fprintf(stderr, "no request completed\n");
    return 1;
  }
  if (!options.trace_file.empty()) {
    std::ofstream trace(options.trace_file);
    for (const auto& [due, latency] : run.trace) trace << fmt::format("{:.3f} {:.3f}\n", due, latency);
  }
  const double elapsed = std::chrono::duration<double>(run.last_done - run.measured_from).count();
  const double bytes_per_request = run.bytes / static_cast<double>(run.latencies_ms.size());
  print_result(run.latencies_ms, static_cast<double>(run.latencies_ms.size()) / elapsed, bytes_per_request,
               run.errors);
  return 0;
}

}  // namespace
}  // namespace reel::bench

int main(int argc, char** argv) {
  reel::bench::Options options;
  CLI::App app{"Open-loop search load: a fixed request rate, latency from each request's due time"};
  app.add_option("--host", options.host, "server address");
  app.add_option("--port", options.port, "server port");
  app.add_option("--path", options.path, "the route asked, with ?q=QUERY&sort=SORT");
  app.add_option("--rate", options.rate, "requests per second")->required();
  app.add_option("--seconds", options.seconds, "how long to send, counted");
  app.add_option("--warmup", options.warmup_seconds, "seconds sent first at the same rate, not counted");
  app.add_option("--terms", options.terms, "words per query");
  app.add_option("--sort", options.sort, "the sort asked");
  app.add_option("--seed", options.seed, "the shuffle's seed");
  app.add_option("--words", options.words_file, "the wrk script holding the word list");
  app.add_option("--trace", options.trace_file, "write each request's due time and latency (ms) here");
  CLI11_PARSE(app, argc, argv);
  return reel::bench::run_bench(options);
}
