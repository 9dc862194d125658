#include "sql/pool.h"

#include <algorithm>

namespace reel::sql {

Result<std::unique_ptr<Pool>> Pool::open(const Options& options, size_t threads) {
  std::vector<std::unique_ptr<Connection>> connections;
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
    Result<std::unique_ptr<Connection>> connection = sql::open(options);
    if (!connection.ok()) return connection.error();
    connections.push_back(std::move(*connection));
  }
  return std::unique_ptr<Pool>(new Pool(std::move(connections)));
}

Pool::Pool(std::vector<std::unique_ptr<Connection>> connections) : connections_(std::move(connections)) {
  for (const std::unique_ptr<Connection>& connection : connections_) {
    threads_.emplace_back([this, &db = *connection] { serve(db); });
  }
}

Pool::~Pool() {
  stop();
}

void Pool::stop() {
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

void Pool::submit(std::unique_ptr<Job> job) {
  bool queued = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      queued = true;
    }
  }
  if (!queued) {
    job->run(nullptr);
    return;
  }
  wake_.notify_one();
}

void Pool::serve(Connection& connection) {
  while (true) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job->run(&connection);
  }
}

}  // namespace reel::sql
