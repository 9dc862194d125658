#include "common/periodic_thread.h"

namespace reel {

PeriodicThread::PeriodicThread(std::chrono::milliseconds interval, std::function<bool()> tick,
                               bool tick_on_stop)
    : interval_(interval), tick_(std::move(tick)), tick_on_stop_(tick_on_stop), thread_([this] { run(); }) {}

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
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, interval_, [this] { return stopping_ || woken_; });
    const bool stopped = stopping_;
    woken_ = false;
    if (stopped && !tick_on_stop_) return;
    lock.unlock();
    const bool more = tick_();
    lock.lock();
    if (stopped || !more) return;
  }
}

}  // namespace reel
