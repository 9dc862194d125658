// Pool over SQLite: jobs run on pool threads, awaiting coroutines resume on their own executor.
#include "sql/pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "common/asio.h"
#include "support/fixtures.h"

namespace reel::sql::testing {
namespace {

constexpr auto deadline = std::chrono::seconds(60);  // generous for a loaded machine

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Pool>> opened = Pool::open(options(), 2);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    pool_ = std::move(*opened);
  }

  Options options() const { return Options{"sqlite:" + (dir_.path() / "pool.db").string()}; }

  // Runs `body` as a coroutine on context_ (this thread) until it finishes or the deadline passes.
  void run_on_context(std::function<Task<void>()> body) {
    bool finished = false;
    asio::co_spawn(
        context_,
        [&]() -> Task<void> {
          co_await body();
          finished = true;
        },
        asio::detached);
    context_.run_for(deadline);
    EXPECT_TRUE(finished) << "the coroutine did not finish before the deadline";
  }

  reel::testing::TempDir dir_;
  asio::io_context context_;
  std::unique_ptr<Pool> pool_;
};

TEST_F(PoolTest, RunsJobsOffTheCallerThreadAndResumesOnTheCallersExecutor) {
  const std::thread::id caller = std::this_thread::get_id();
  run_on_context([&]() -> Task<void> {
    Result<std::thread::id> job_thread = co_await pool_->run<std::thread::id>(
        [](Connection&) -> Result<std::thread::id> { return std::this_thread::get_id(); });
    EXPECT_TRUE(job_thread.ok());
    EXPECT_NE(*job_thread, caller);
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_TRUE((co_await asio::this_coro::executor) == context_.get_executor());
  });
}

TEST_F(PoolTest, ConcurrentJobsAllCompleteOnEveryThread) {
  constexpr int jobs = 40;
  run_on_context([&]() -> Task<void> {
    Result<int64_t> created = co_await pool_->run<int64_t>(
        [](Connection& db) { return db.execute("CREATE TABLE hits (thread TEXT NOT NULL)"); });
    EXPECT_TRUE(created.ok()) << created.error().message;
  });

  int completed = 0;
  const std::thread::id caller = std::this_thread::get_id();
  for (int i = 0; i < jobs; ++i) {
    asio::co_spawn(
        context_,
        [&]() -> Task<void> {
          Result<int64_t> inserted = co_await pool_->run<int64_t>([](Connection& db) {
            std::ostringstream thread;
            thread << std::this_thread::get_id();
            return db.execute("INSERT INTO hits (thread) VALUES (?)", {thread.str()});
          });
          EXPECT_TRUE(inserted.ok()) << inserted.error().message;
          EXPECT_EQ(std::this_thread::get_id(), caller);
          ++completed;
        },
        asio::detached);
  }
  context_.restart();
  context_.run_for(deadline);
  EXPECT_EQ(completed, jobs);

  Result<std::unique_ptr<Connection>> db = open(options());
  ASSERT_TRUE(db.ok()) << db.error().message;
  Result<std::vector<Row>> rows = (*db)->query_all("SELECT COUNT(*), COUNT(DISTINCT thread) FROM hits");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->front().integer(0), jobs);
  EXPECT_GE(rows->front().integer(1), 1);
}

TEST_F(PoolTest, JobErrorsComeBackAsValues) {
  run_on_context([&]() -> Task<void> {
    Result<int64_t> failed = co_await pool_->run<int64_t>(
        [](Connection& db) { return db.execute("SELECT * FROM missing_table"); });
    EXPECT_FALSE(failed.ok());
    if (!failed.ok()) {
      EXPECT_NE(failed.error().message.find("missing_table"), std::string::npos);
    }
    Status status = co_await pool_->run<void>([](Connection&) -> Status { return Error{"job says no"}; });
    EXPECT_FALSE(status.ok());
    if (!status.ok()) {
      EXPECT_EQ(status.error().message, "job says no");
    }
  });
}

TEST_F(PoolTest, RunAfterStopFails) {
  pool_->stop();
  pool_->stop();
  run_on_context([&]() -> Task<void> {
    bool ran = false;
    Status status = co_await pool_->run<void>([&](Connection&) -> Status {
      ran = true;
      return {};
    });
    EXPECT_FALSE(ran);
    EXPECT_FALSE(status.ok());
    if (!status.ok()) {
      EXPECT_NE(status.error().message.find("stopped"), std::string::npos);
    }
  });
}

TEST(PoolOpenTest, BadUrlIsAnError) {
  Result<std::unique_ptr<Pool>> pool = Pool::open(Options{"nosuch:db"}, 2);
  ASSERT_FALSE(pool.ok());
  EXPECT_NE(pool.error().message.find("unsupported SQL URL"), std::string::npos) << pool.error().message;
}

}  // namespace
}  // namespace reel::sql::testing
