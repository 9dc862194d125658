// Progress: a one-line progress bar on a terminal (stderr), or a line per stage when stderr is
// not a terminal, so logs of CI runs stay readable. Thread-safety: not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace reel::cli {

class Progress {
 public:
  Progress();
  ~Progress();
  // Shows `done` of `total` for `stage` (total 0: unknown). Redraws at most 10 times a second.
  void update(std::string_view stage, uint64_t done, uint64_t total);
  // Ends the current line.
  void finish();

 private:
  bool terminal_;
  std::string stage_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool open_line_ = false;
};

}  // namespace reel::cli
