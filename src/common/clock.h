// Clock: the source of wall time for code whose behaviour depends on time (expiry, day keys, ages),
// so tests can set it. Thread-safety: implementations are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace reel {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  int64_t unix_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
  int64_t unix_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count();
  }
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

// A clock that stands still until a test moves it. Safe to read from other threads while the test
// moves it (a sweeper's or a worker's thread reads it).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unix_seconds)
      : ticks_(std::chrono::system_clock::duration(std::chrono::seconds(unix_seconds)).count()) {}
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::system_clock::duration(ticks_.load()));
  }
  void advance(std::chrono::system_clock::duration by) { ticks_ += by.count(); }

 private:
  std::atomic<std::chrono::system_clock::rep> ticks_;
};

}  // namespace reel
