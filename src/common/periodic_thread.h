// PeriodicThread: calls `tick` on a thread of its own every `interval` until stopped. stop() wakes
// the thread at once; with `tick_on_stop` it runs one last tick before the thread ends (a final
// flush). A tick that returns false ends the thread early. wake() runs a tick now instead of at
// the end of the interval. With `idle_priority` the thread runs under SCHED_IDLE: it gets a CPU
// only when nothing else wants it, so background work (a snapshot rebuilt every minute) never
// delays the event loops' requests; on a saturated machine its ticks wait.
//
// Thread-safety: stop() and wake() may be called from any thread, more than once; the destructor
// calls stop().
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
  struct Options {
    bool tick_on_stop = false;   // one last tick when stopped
    bool idle_priority = false;  // SCHED_IDLE (where the kernel refuses it: normal priority)
  };

  PeriodicThread(std::chrono::milliseconds interval, std::function<bool()> tick, Options options);
  PeriodicThread(std::chrono::milliseconds interval, std::function<bool()> tick)
      : PeriodicThread(interval, std::move(tick), Options{}) {}
  ~PeriodicThread();
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Wakes the thread, lets it finish (its last tick included), and joins it.
  void stop();
  // Runs a tick as soon as the thread is free (once, however often it is called meanwhile).
  void wake();

 private:
  void run();

  std::chrono::milliseconds interval_;
  std::function<bool()> tick_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace reel
