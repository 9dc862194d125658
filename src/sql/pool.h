// Pool: a few threads, each owning its own Connection, that run blocking SQL off the HTTP event
// loops (a WorkPool whose thread i uses connection i). A coroutine awaits `pool.run<T>(job)`: the
// job runs on a pool thread with that thread's Connection, and the coroutine resumes on its own
// executor with the job's Result.
//
//   std::function<Result<int64_t>(sql::Connection&)> count_job =
//       [](sql::Connection& db) { return sql::CatalogStore(db).count_videos(); };
//   Result<int64_t> count = co_await pool.run<int64_t>(std::move(count_job));
//
// Pass the job as a named local, not a temporary built inside the co_await (common/work_pool.h).
// Only SQL runs here: file work has a WorkPool of its own, so neither queues behind the other.
// Jobs run in submission order, one per thread at a time; a job must not await anything. Stop
// the pool before destroying an event loop that still has a coroutine awaiting it.
// Thread-safety: run() and stop() may be called from any thread (stop() not from a job).
// Failure: open() returns an Error if any connection cannot be opened; run() returns the job's
// Result, or an Error if the pool was stopped before the job started. A job that finds its
// connection gone (Connection::broken: a server restart or failover) fails, and its thread opens
// a new connection for the next one; the job is not run again (a COMMIT that lost its connection
// may or may not have committed, which only the caller can find out).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "common/asio.h"
#include "common/result.h"
#include "common/work_pool.h"
#include "sql/connection.h"

namespace reel::sql {

class Pool {
 public:
  // Opens `threads` (at least 1) connections from `options` and starts a thread for each.
  static Result<std::unique_ptr<Pool>> open(const Options& options, size_t threads);

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  template <class T>
  Task<Result<T>> run(std::function<Result<T>(Connection&)> job) {
    std::function<Result<T>(size_t)> on_thread = [this, job = std::move(job)](size_t thread) {
      Result<T> result = job(*connections_[thread]);
      if (connections_[thread]->broken()) reopen(thread);
      return result;
    };
    co_return co_await work_.run<T>(std::move(on_thread));
  }

  // Lets running jobs finish, fails jobs not yet started, and joins the threads. Idempotent.
  void stop() { work_.stop(); }

 private:
  Pool(Options options, std::vector<std::unique_ptr<Connection>> connections)
      : options_(std::move(options)),
        connections_(std::move(connections)),
        work_("SQL", connections_.size()) {}

  // Replaces thread `thread`'s broken connection with a new one (on that thread). When the server
  // cannot be reached yet, the broken one stays, each job on it fails at once, and the next one
  // tries again: the pool heals as soon as the server (or the one HAProxy fails over to) answers.
  void reopen(size_t thread);

  const Options options_;
  std::vector<std::unique_ptr<Connection>> connections_;  // one per thread of work_
  WorkPool work_;  // declared last: its threads stop before the connections close
};

}  // namespace reel::sql
