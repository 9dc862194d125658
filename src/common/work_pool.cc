#include "common/work_pool.h"

#include <algorithm>

namespace reel {

WorkPool::WorkPool(std::string name, size_t threads) : name_(std::move(name)) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
    threads_.emplace_back([this, i] { serve(i); });
  }
}

WorkPool::~WorkPool() {
  stop();
}

void WorkPool::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  std::deque<std::unique_ptr<Job>> unstarted;
  {
    std::lock_guard lock(mutex_);
    unstarted.swap(queue_);
  }
  for (const std::unique_ptr<Job>& job : unstarted) job->run(nullptr);
}

void WorkPool::submit(std::unique_ptr<Job> job) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      wake_.notify_one();
      return;
    }
  }
  job->run(nullptr);
}

void WorkPool::serve(size_t thread) {
  while (true) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job->run(&thread);
  }
}

}  // namespace reel
