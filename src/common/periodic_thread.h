// PeriodicThread: calls `tick` on a thread of its own every `interval` until stopped. stop() wakes
// the thread at once; with `tick_on_stop` it runs one last tick before the thread ends (a final
// flush). A tick that returns false ends the thread early.
//
// Thread-safety: stop() may be called from any thread, more than once; the destructor calls it.
// Ownership: whatever `tick` uses must outlive the PeriodicThread (declare it last).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace reel {

class PeriodicThread {
 public:
  PeriodicThread(std::chrono::milliseconds interval, std::function<bool()> tick, bool tick_on_stop = false);
  ~PeriodicThread();
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Wakes the thread, lets it finish (its last tick included), and joins it.
  void stop();

 private:
  void run();

  std::chrono::milliseconds interval_;
  std::function<bool()> tick_;
  bool tick_on_stop_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace reel
