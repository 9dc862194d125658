// WorkPool: a few threads that run blocking work (files, SQL, hashing) off the event loops. A
// coroutine awaits `pool.run<T>(job)`: the job runs on a pool thread, given that thread's index
// (0 .. threads()-1, so a caller can keep one resource per thread, as sql::Pool keeps a
// connection), and the coroutine resumes on its own executor with the job's Result.
//
//   std::function<Result<size_t>(size_t)> size_job = [path](size_t) { return file_size(path); };
//   Result<size_t> size = co_await pool.run<size_t>(std::move(size_job));
//
// Pass the job as a named local, not a temporary built inside the co_await: g++ 12 can destroy
// such a temporary twice when it captures values with destructors (a double free, seen here).
//
// Jobs start in submission order, one per thread at a time; a job must not await anything. Each
// kind of work has its own pool, so slow file copies never queue behind SQL or the reverse. Stop
// the pool before destroying an event loop that still has a coroutine awaiting it.
// Thread-safety: run() and stop() may be called from any thread (stop() not from a job).
// Failure: run() returns the job's Result, or an Error if the pool was stopped before the job
// started.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/asio.h"
#include "common/result.h"

namespace reel {

class WorkPool {
 public:
  // Starts `threads` (at least 1) threads; `name` appears in the stopped pool's error.
  WorkPool(std::string name, size_t threads);
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;
  ~WorkPool();  // stop()

  template <class T>
  Task<Result<T>> run(std::function<Result<T>(size_t thread)> job);

  size_t threads() const { return threads_.size(); }

  // Lets running jobs finish, fails jobs not yet started, and joins the threads. Idempotent.
  void stop();

 private:
  // A submitted job; run() is called exactly once: with the thread's index, or with no index
  // when the pool has stopped.
  class Job {
   public:
    virtual ~Job() = default;
    virtual void run(const size_t* thread) = 0;
  };
  template <class T, class Handler>
  class JobFor;

  void submit(std::unique_ptr<Job> job);
  void serve(size_t thread);

  std::string name_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Job>> queue_;  // guarded by mutex_
  bool stopping_ = false;                   // guarded by mutex_
  std::mutex stop_mutex_;                   // serializes stop()
  std::vector<std::thread> threads_;
};

// Runs the job, then posts its Result to the awaiting coroutine's executor, holding that
// executor's work count meanwhile so its event loop does not run out of work and return.
template <class T, class Handler>
class WorkPool::JobFor final : public WorkPool::Job {
 public:
  JobFor(std::function<Result<T>(size_t)> job, Handler handler, const std::string& pool)
      : job_(std::move(job)),
        handler_(std::move(handler)),
        executor_(
            asio::prefer(asio::get_associated_executor(handler_), asio::execution::outstanding_work.tracked)),
        pool_(pool) {}

  void run(const size_t* thread) override {
    Result<T> result = thread != nullptr ? job_(*thread) : Error{"the " + pool_ + " pool is stopped"};
    asio::post(executor_, [handler = std::move(handler_), result = std::move(result)]() mutable {
      std::move(handler)(std::move(result));
    });
  }

 private:
  std::function<Result<T>(size_t)> job_;
  Handler handler_;
  decltype(asio::prefer(asio::get_associated_executor(std::declval<Handler&>()),
                        asio::execution::outstanding_work.tracked)) executor_;
  const std::string& pool_;
};

template <class T>
Task<Result<T>> WorkPool::run(std::function<Result<T>(size_t)> job) {
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<T>)>(
      [this, &job](auto handler) {
        submit(std::make_unique<JobFor<T, decltype(handler)>>(std::move(job), std::move(handler), name_));
      },
      asio::use_awaitable);
}

}  // namespace reel
