#include "cli/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace reel::cli {

Progress::Progress() : terminal_(isatty(STDERR_FILENO) == 1) {}
Progress::~Progress() {
  finish();
}

void Progress::update(std::string_view stage, uint64_t done, uint64_t total) {
  const auto now = std::chrono::steady_clock::now();
  const bool new_stage = stage != stage_;
  if (new_stage) {
    finish();
    stage_ = stage;
  }
  if (!terminal_) {
    if (new_stage) fmt::print(stderr, "{}...\n", stage);
    return;
  }
  const bool complete = total > 0 && done >= total;
  if (!new_stage && !complete && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int width = 30;
  if (total > 0) {
    const int filled = static_cast<int>(
        static_cast<double>(width) * static_cast<double>(std::min(done, total)) / static_cast<double>(total));
    fmt::print(stderr, "\r{:<12} [{}{}] {}/{} ", stage, std::string(static_cast<size_t>(filled), '#'),
               std::string(static_cast<size_t>(width - filled), '.'), done, total);
  } else {
    fmt::print(stderr, "\r{:<12} {} ", stage, done);
  }
  open_line_ = true;
}

void Progress::finish() {
  if (open_line_) fmt::print(stderr, "\n");
  open_line_ = false;
}

}  // namespace reel::cli
