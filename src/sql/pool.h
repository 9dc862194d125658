// Pool: a few threads, each owning its own Connection, that run blocking SQL off the HTTP event
// loops. A coroutine awaits `pool.run<T>(job)`: the job runs on a pool thread with that thread's
// Connection, and the coroutine resumes on its own executor with the job's Result.
//
//   std::function<Result<int64_t>(sql::Connection&)> count_job =
//       [](sql::Connection& db) { return sql::CatalogStore(db).count_videos(); };
//   Result<int64_t> count = co_await pool.run<int64_t>(std::move(count_job));
//
// Pass the job as a named local, not a temporary built inside the co_await: g++ 12 can destroy
// such a temporary twice when it captures values with destructors (a double free, seen here).
//
// Jobs run in submission order, one per thread at a time; a job must not await anything. Stop
// the pool before destroying an event loop that still has a coroutine awaiting it.
// Thread-safety: run() and stop() may be called from any thread (stop() not from a job).
// Failure: open() returns an Error if any connection cannot be opened; run() returns the job's
// Result, or an Error if the pool was stopped before the job started.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/asio.h"
#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql {

class Pool {
 public:
  // Opens `threads` (at least 1) connections from `options` and starts a thread for each.
  static Result<std::unique_ptr<Pool>> open(const Options& options, size_t threads);

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool();  // stop()

  template <class T>
  Task<Result<T>> run(std::function<Result<T>(Connection&)> job);

  // Lets running jobs finish, fails jobs not yet started, and joins the threads. Idempotent.
  void stop();

 private:
  // A submitted job; run() is called exactly once, with nullptr when the pool has stopped.
  class Job {
   public:
    virtual ~Job() = default;
    virtual void run(Connection* connection) = 0;
  };
  template <class T, class Handler>
  class JobFor;

  explicit Pool(std::vector<std::unique_ptr<Connection>> connections);
  void submit(std::unique_ptr<Job> job);
  void serve(Connection& connection);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Job>> queue_;  // guarded by mutex_
  bool stopping_ = false;                   // guarded by mutex_
  std::mutex stop_mutex_;                   // serializes stop()
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::thread> threads_;
};

// Runs the job, then posts its Result to the awaiting coroutine's executor, holding that
// executor's work count meanwhile so its event loop does not run out of work and return.
template <class T, class Handler>
class Pool::JobFor final : public Pool::Job {
 public:
  JobFor(std::function<Result<T>(Connection&)> job, Handler handler)
      : job_(std::move(job)),
        handler_(std::move(handler)),
        executor_(asio::prefer(asio::get_associated_executor(handler_),
                               asio::execution::outstanding_work.tracked)) {}

  void run(Connection* connection) override {
    Result<T> result = connection != nullptr ? job_(*connection) : Error{"the SQL pool is stopped"};
    asio::post(executor_, [handler = std::move(handler_), result = std::move(result)]() mutable {
      std::move(handler)(std::move(result));
    });
  }

 private:
  std::function<Result<T>(Connection&)> job_;
  Handler handler_;
  decltype(asio::prefer(asio::get_associated_executor(std::declval<Handler&>()),
                        asio::execution::outstanding_work.tracked)) executor_;
};

template <class T>
Task<Result<T>> Pool::run(std::function<Result<T>(Connection&)> job) {
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<T>)>(
      [this, &job](auto handler) {
        submit(std::make_unique<JobFor<T, decltype(handler)>>(std::move(job), std::move(handler)));
      },
      asio::use_awaitable);
}

}  // namespace reel::sql
