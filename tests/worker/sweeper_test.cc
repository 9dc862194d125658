// The sweeper against a real redis-server and SQLite: processing videos old enough and without a
// job record get their job queued again (upload still there) or fail with the reason (upload
// gone); young videos, videos with a record and videos no longer processing are left alone; a
// second sweep (or a second sweeper) queues nothing twice.
#include "worker/sweeper.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "jobs/job.h"
#include "jobs/progress.h"
#include "jobs/queue.h"
#include "support/job_stream.h"
#include "support/redis_sqlite_test.h"

namespace reel::worker {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t now_s = 1'800'000'000;

class SweeperTest : public reel::testing::RedisSqliteTest {
 protected:
  void SetUp() override {
    RedisSqliteTest::SetUp();
    if (HasFatalFailure()) return;
    channel_ = store_->ensure_channel("uploader", "The Uploader").value();
    fs::create_directories(uploads_dir());
  }

  std::string uploads_dir() const { return (dir_.path() / "uploads").string(); }

  Sweeper sweeper(redis::BlockingClient& client) {
    return Sweeper(*store_, client, clock_, {.uploads_dir = uploads_dir(), .min_age = 10min});
  }

  // A video created `age` ago with this status, and its upload file when `with_upload`.
  int64_t video(std::chrono::seconds age, catalog::VideoStatus status, bool with_upload) {
    catalog::Video video;
    video.channel_id = channel_;
    video.title = "An upload";
    video.slug = "an-upload";
    video.status = status;
    video.created_at = now_s - age.count();
    const int64_t id = store_->insert_video(video).value();
    if (with_upload) std::ofstream(jobs::upload_path(uploads_dir(), id)) << "bytes";
    return id;
  }

  std::optional<jobs::ProgressRecord> record(int64_t id) {
    jobs::JobProgress progress(*redis_, clock_);
    auto read = progress.get(id);
    EXPECT_TRUE(read) << read.error().message;
    return read ? *read : std::nullopt;
  }

  catalog::Video row(int64_t id) {
    auto found = store_->find_video(id).value();
    EXPECT_TRUE(found);
    return found.value_or(catalog::Video{});
  }

  ManualClock clock_{now_s};
  int64_t channel_ = 0;
};

TEST_F(SweeperTest, QueuesALostJobAgainWhileItsUploadIsThereAndFailsItOtherwise) {
  const int64_t lost = video(1h, catalog::VideoStatus::processing, true);
  const int64_t gone = video(1h, catalog::VideoStatus::processing, false);
  const int64_t young = video(5min, catalog::VideoStatus::processing, false);
  const int64_t running = video(1h, catalog::VideoStatus::processing, true);
  const int64_t ready = video(1h, catalog::VideoStatus::ready, false);
  jobs::JobProgress progress(*redis_, clock_);
  ASSERT_TRUE(progress.set(running, jobs::JobState::processing, 40));

  auto swept = sweeper(*redis_).sweep();
  ASSERT_TRUE(swept) << swept.error().message;
  EXPECT_EQ(swept->stuck, 2);
  EXPECT_EQ(swept->requeued, 1);
  EXPECT_EQ(swept->failed, 1);

  auto jobs = reel::testing::queued_jobs(*redis_);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].video_id, lost);
  EXPECT_EQ(jobs[0].kind, jobs::JobKind::transcode);
  EXPECT_EQ(jobs[0].payload, jobs::upload_path(uploads_dir(), lost));
  EXPECT_EQ(jobs[0].enqueued_at_ms, now_s * 1000);
  auto queued = record(lost);
  ASSERT_TRUE(queued);
  EXPECT_EQ(queued->state, jobs::JobState::queued);
  EXPECT_EQ(row(lost).status, catalog::VideoStatus::processing);

  EXPECT_EQ(row(gone).status, catalog::VideoStatus::failed);
  EXPECT_EQ(row(gone).error, lost_upload_reason);
  auto failed = record(gone);
  ASSERT_TRUE(failed) << "the API reports why";
  EXPECT_EQ(failed->state, jobs::JobState::failed);
  EXPECT_EQ(failed->error, lost_upload_reason);

  EXPECT_EQ(row(young).status, catalog::VideoStatus::processing) << "may still be being queued";
  EXPECT_FALSE(record(young));
  EXPECT_EQ(record(running)->progress, 40) << "a job with a record is left to its worker";
  EXPECT_EQ(row(ready).status, catalog::VideoStatus::ready);

  // Once more, and from a second sweeper on its own connection: nothing is stuck any more.
  auto other = redis::BlockingClient::connect(connection_options());
  ASSERT_TRUE(other);
  for (redis::BlockingClient* client : {&*redis_, &*other}) {
    auto again = sweeper(*client).sweep();
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->stuck, 0);
  }
  EXPECT_EQ(reel::testing::queued_jobs(*redis_).size(), 1u);
}

TEST_F(SweeperTest, AQueuedJobCanBeClaimedByAWorker) {
  const int64_t lost = video(1h, catalog::VideoStatus::processing, true);
  ASSERT_TRUE(sweeper(*redis_).sweep());
  jobs::JobQueue queue(*redis_, clock_);
  auto lease = queue.claim_next("test-1", 0ms);
  ASSERT_TRUE(lease) << lease.error().message;
  ASSERT_TRUE(*lease);
  EXPECT_EQ((*lease)->job.video_id, lost);
  EXPECT_EQ((*lease)->job.payload, jobs::upload_path(uploads_dir(), lost));
}

TEST_F(SweeperTest, NothingProcessingMeansNothingToDo) {
  video(1h, catalog::VideoStatus::ready, false);
  auto swept = sweeper(*redis_).sweep();
  ASSERT_TRUE(swept);
  EXPECT_EQ(swept->stuck, 0);
  EXPECT_TRUE(reel::testing::queued_jobs(*redis_).empty());
}

}  // namespace
}  // namespace reel::worker
