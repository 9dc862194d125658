// AccessLog: one event loop's share of the server's access log (ServerOptions::access_log). Lines
// are formatted into a buffer and handed to the shared logger in chunks of 64 KiB, and by the loop
// at least once every access_log_flush_interval, so a request costs neither a write(2) nor a lock.
// Line: "<UTC time> <remote> <method> <target> <status> <body bytes> <latency us>".
// Thread-safety: an AccessLog belongs to one loop and is used on its thread (or after the loops
// have stopped); the logger it shares with the other loops is thread-safe.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace reel::http::detail {

constexpr std::chrono::seconds access_log_flush_interval{1};

class AccessLog {
 public:
  explicit AccessLog(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

  // `time`: the current second in ISO 8601 (TimeCache::iso).
  void append(std::string_view time, std::string_view remote, std::string_view method,
              std::string_view target, int status, uint64_t bytes,
              std::chrono::steady_clock::duration latency);
  // Hands the buffered lines to the logger and flushes it.
  void flush();

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::string buffer_;
};

// The logger shared by every loop's AccessLog: `destination` is a file path (appended to) or "-"
// for stdout. An Error naming the destination when the file cannot be opened.
Result<std::shared_ptr<spdlog::logger>> open_access_log(const std::string& destination);

}  // namespace reel::http::detail
