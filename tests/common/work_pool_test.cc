// WorkPool: jobs run on pool threads with their thread's index, the awaiting coroutine resumes on
// its own executor, and a stopped pool fails the jobs it did not start.
#include "common/work_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>
#include <utility>

#include "support/event_loop.h"

namespace reel::testing {
namespace {

using Ran = std::pair<size_t, std::thread::id>;  // the job's thread index and thread

TEST(WorkPool, RunsJobsOffTheEventLoopWithTheirThreadIndex) {
  asio::io_context context;
  WorkPool pool("test", 3);
  const std::thread::id caller = std::this_thread::get_id();
  auto run_jobs = [&]() -> Task<std::vector<Ran>> {
    std::vector<Ran> ran;
    for (int i = 0; i < 20; ++i) {
      std::function<Result<Ran>(size_t)> job = [](size_t thread) {
        return Result<Ran>(Ran(thread, std::this_thread::get_id()));
      };
      Result<Ran> one = co_await pool.run<Ran>(std::move(job));
      EXPECT_TRUE(one.ok());
      EXPECT_EQ(std::this_thread::get_id(), caller);  // resumed on the loop's thread
      if (one.ok()) ran.push_back(*one);
    }
    co_return ran;
  };
  std::optional<std::vector<Ran>> ran = run_task(context, run_jobs(), 60s);
  ASSERT_TRUE(ran);
  EXPECT_EQ(ran->size(), 20u);
  for (const Ran& one : *ran) {
    EXPECT_LT(one.first, 3u);
    EXPECT_NE(one.second, caller);
  }
  EXPECT_EQ(pool.threads(), 3u);
}

TEST(WorkPool, AStoppedPoolFailsNewJobsWithItsName) {
  asio::io_context context;
  WorkPool pool("file", 1);
  pool.stop();
  pool.stop();  // idempotent
  bool ran = false;
  auto run_job = [&]() -> Task<Result<int>> {
    std::function<Result<int>(size_t)> job = [&](size_t) {
      ran = true;
      return Result<int>(1);
    };
    co_return co_await pool.run<int>(std::move(job));
  };
  std::optional<Result<int>> result = run_task(context, run_job(), 60s);
  ASSERT_TRUE(result);
  EXPECT_FALSE(ran);
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().message, "the file pool is stopped");
}

}  // namespace
}  // namespace reel::testing
