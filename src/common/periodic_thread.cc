#include "common/periodic_thread.h"

#include <pthread.h>
#include <sched.h>

namespace reel {

PeriodicThread::PeriodicThread(std::chrono::milliseconds interval, std::function<bool()> tick,
                               Options options)
    : interval_(interval), tick_(std::move(tick)), options_(options), thread_([this] { run(); }) {}

PeriodicThread::~PeriodicThread() {
  stop();
}

void PeriodicThread::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void PeriodicThread::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

void PeriodicThread::run() {
  if (options_.idle_priority) {
    // Lowering one's own priority needs no privilege; if refused, the ticks run at normal
    // priority: requests may be slower while one runs, nothing is wrong.
    sched_param param{};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
  }
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, interval_, [this] { return stopping_ || woken_; });
    const bool stopped = stopping_;
    woken_ = false;
    if (stopped && !options_.tick_on_stop) return;
    lock.unlock();
    const bool more = tick_();
    lock.lock();
    if (stopped || !more) return;
  }
}

}  // namespace reel
