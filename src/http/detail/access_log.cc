#include "http/detail/access_log.h"

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <exception>
#include <iterator>

namespace reel::http::detail {

namespace {

// A loop hands its lines to the logger once they reach this size, without waiting for its timer.
constexpr size_t access_log_flush_bytes = 64 * 1024;

}  // namespace

void AccessLog::append(std::string_view time, std::string_view remote, std::string_view method,
                       std::string_view target, int status, uint64_t bytes,
                       std::chrono::steady_clock::duration latency) {
  fmt::format_to(std::back_inserter(buffer_), "{} {} {} {} {} {} {}\n", time, remote, method, target, status,
                 bytes, std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
  if (buffer_.size() >= access_log_flush_bytes) flush();
}

void AccessLog::flush() {
  if (buffer_.empty()) return;
  logger_->info(std::string_view(buffer_));
  logger_->flush();
  buffer_.clear();
}

Result<std::shared_ptr<spdlog::logger>> open_access_log(const std::string& destination) {
  try {
    spdlog::sink_ptr sink;
    if (destination == "-") {
      sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(destination);
    }
    auto logger = std::make_shared<spdlog::logger>("reel.access", std::move(sink));
    // Lines arrive pre-formatted, newline included, in chunks.
    logger->set_formatter(
        std::make_unique<spdlog::pattern_formatter>("%v", spdlog::pattern_time_type::utc, ""));
    logger->set_level(spdlog::level::info);
    return logger;
  } catch (const std::exception& e) {
    return Error{fmt::format("http server: cannot open the access log {}: {}", destination, e.what())};
  }
}

}  // namespace reel::http::detail
