// The worker against real redis-server, SQLite and ffmpeg: a queued upload becomes a ready video
// with its files on disk and in every Redis list; a file that is not a video fails at once with
// the reason the uploader sees; a delete job removes the video everywhere, also when the video
// was deleted while its transcode ran; an upload whose job was lost is queued again at start.
#include "worker/worker.h"

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/days.h"
#include "jobs/progress.h"
#include "jobs/queue.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "redis/blocking_client.h"
#include "sql/catalog_store.h"
#include "support/http_client.h"
#include "support/redis_sqlite_test.h"
#include "transcode/test_clip.h"
#include "transcode/transcoder.h"

namespace reel::worker {
namespace {

namespace fs = std::filesystem;
using reel::testing::eventually;

class WorkerTest : public reel::testing::RedisSqliteTest {
 protected:
  void SetUp() override {
    RedisSqliteTest::SetUp();
    if (HasFatalFailure()) return;
    channel_ = store_->ensure_channel("uploader", "The Uploader").value();
    ASSERT_TRUE(store_->ensure_category("music", "Music", 1));
    fs::create_directories(dir_.path() / "uploads");
    fs::create_directories(dir_.path() / "media");

    options_.consumer = "test";
    options_.media_root = (dir_.path() / "media").string();
    options_.sql_url = sql_url_;
    options_.redis = connection_options();
    options_.claim_block = std::chrono::milliseconds(100);
    options_.transcode.ladder = {240};
    start_worker();
  }

  void TearDown() override { stop_worker(); }

  void start_worker() {
    worker_ = std::make_unique<Worker>(options_);
    thread_ = std::thread([this] { run_status_ = worker_->run(); });
  }

  void stop_worker() {
    if (!worker_) return;  // SetUp failed before starting it
    worker_->stop();
    thread_.join();
    worker_.reset();
    EXPECT_TRUE(run_status_.ok()) << run_status_.error().message;
  }

  // A processing video with its upload at `upload`, and its transcode job queued.
  int64_t queue_upload(const fs::path& upload) {
    catalog::Video video;
    video.channel_id = channel_;
    video.title = "An upload";
    video.slug = "an-upload";
    video.status = catalog::VideoStatus::processing;
    video.created_at = SystemClock().unix_seconds();
    video.tags = {"fresh"};
    video.categories = {"music"};
    const int64_t id = store_->insert_video(video).value();
    jobs::JobQueue queue(*redis_, clock_);
    EXPECT_TRUE(queue.enqueue({.video_id = id, .kind = jobs::JobKind::transcode, .payload = upload.string()}));
    return id;
  }

  catalog::VideoStatus status_of(int64_t id) {
    auto video = store_->find_video(id);
    return video && *video ? (*video)->status : catalog::VideoStatus::processing;
  }

  // Whether the worker is done with the video: failed, or ready with its upload removed (its last
  // step, after the SQL row and Redis).
  bool done_with(int64_t id, const fs::path& upload) {
    const auto status = status_of(id);
    return status == catalog::VideoStatus::failed || (status == catalog::VideoStatus::ready && !fs::exists(upload));
  }

  bool exists(const std::string& key) {
    auto reply = redis_->execute(redis::Command("EXISTS", key));
    return reply && reply->integer() == 1;
  }

  SystemClock clock_;
  int64_t channel_ = 0;
  WorkerOptions options_;
  std::unique_ptr<Worker> worker_;
  std::thread thread_;
  Status run_status_;
};

TEST_F(WorkerTest, AQueuedUploadBecomesAReadyListedVideo) {
  const fs::path upload = dir_.path() / "uploads" / "clip one.mp4";
  ASSERT_TRUE(transcode::make_test_clip(upload.string(), {.seconds = 2}).ok());
  const int64_t id = queue_upload(upload);
  ASSERT_TRUE(eventually([&] { return done_with(id, upload); }, std::chrono::seconds(120)));
  auto video = store_->find_video(id).value();
  ASSERT_TRUE(video);
  ASSERT_EQ(video->status, catalog::VideoStatus::ready) << video->error;
  EXPECT_EQ(video->duration_s, 2);
  EXPECT_GT(video->published_at, 0);
  bool has_mp4 = false;
  for (const auto& file : video->files) {
    EXPECT_TRUE(fs::exists(dir_.path() / "media" / file.path)) << file.path;
    has_mp4 = has_mp4 || (file.kind == "mp4" && file.height == 240);
  }
  EXPECT_TRUE(has_mp4);
  EXPECT_FALSE(fs::exists(upload)) << "the upload is deleted once processed";

  EXPECT_TRUE(exists(projection::keys::card(id)));
  EXPECT_TRUE(exists(projection::keys::video(id)));
  for (const char* field : {"hls", "sprite_vtt", "preview", "poster"}) {
    auto url = redis_->execute(redis::Command("HGET", projection::keys::video(id), field));
    ASSERT_TRUE(url);
    EXPECT_TRUE(std::string(url->str()).starts_with("/media/" + video_dir(id) + "/")) << field << ": " << url->str();
  }
  auto newest = redis_->execute(redis::Command("ZSCORE", "z:new", id));
  ASSERT_TRUE(newest);
  EXPECT_FALSE(newest->is_nil()) << "listed as newest";
  auto tagged = redis_->execute(
      redis::Command("ZSCORE", projection::keys::list({projection::ListKind::tag, "fresh"}, projection::Sort::newest), id));
  ASSERT_TRUE(tagged);
  EXPECT_FALSE(tagged->is_nil());
  jobs::JobProgress progress(*redis_, clock_);
  auto record = progress.get(id);
  ASSERT_TRUE(record && *record);
  EXPECT_EQ((*record)->state, jobs::JobState::ready);
  EXPECT_EQ((*record)->progress, 100);

  // Deleting: gone from Redis, disk and SQL.
  jobs::JobQueue queue(*redis_, clock_);
  ASSERT_TRUE(queue.enqueue({.video_id = id, .kind = jobs::JobKind::remove}));
  ASSERT_TRUE(eventually([&] {
    auto found = store_->find_video(id);
    return found && !*found;
  }));
  EXPECT_FALSE(exists(projection::keys::card(id)));
  EXPECT_FALSE(fs::exists(dir_.path() / "media" / video_dir(id)));
  auto still_listed = redis_->execute(redis::Command("ZSCORE", "z:new", id));
  ASSERT_TRUE(still_listed);
  EXPECT_TRUE(still_listed->is_nil());
}

// What DELETE /api/v1/videos/{id} does (ingest::Ingest::remove): the row goes failed, the video
// leaves Redis with its status record, and the delete job is queued.
void delete_like_the_api(sql::CatalogStore& store, redis::BlockingClient& redis, const Clock& clock, int64_t id,
                         const std::string& upload) {
  auto video = store.find_video(id).value();
  ASSERT_TRUE(video);
  ASSERT_TRUE(store.mark_failed(id, "the video is being deleted"));
  auto commands = projection::withdraw_video_commands(*video, utc_day(clock.unix_seconds()));
  const jobs::Job job{.video_id = id, .kind = jobs::JobKind::remove, .enqueued_at_ms = clock.unix_seconds() * 1000,
                      .payload = upload};
  commands.insert(commands.end() - 1, {jobs::progress_delete_command(id), jobs::enqueue_command(job)});
  auto replies = redis.execute(std::move(commands));
  ASSERT_TRUE(replies && redis::check_exec(*replies, "delete"));
}

// Deleted while its transcode runs: the finished job does not make it ready or list it, and the
// delete job leaves nothing behind.
TEST_F(WorkerTest, AVideoDeletedWhileItIsTranscodedStaysGone) {
  const fs::path upload = dir_.path() / "uploads" / "long.mp4";
  ASSERT_TRUE(transcode::make_test_clip(upload.string(), {.seconds = 8}).ok());
  const int64_t id = queue_upload(upload);
  jobs::JobProgress progress(*redis_, clock_);
  ASSERT_TRUE(eventually([&] {
    auto record = progress.get(id);
    return record && *record && (*record)->state == jobs::JobState::processing;
  }, std::chrono::seconds(60)));
  delete_like_the_api(*store_, *redis_, clock_, id, upload.string());
  ASSERT_TRUE(eventually([&] {
    auto found = store_->find_video(id);
    return found && !*found;
  }, std::chrono::seconds(120)));
  EXPECT_FALSE(exists(projection::keys::card(id)));
  EXPECT_FALSE(exists(projection::keys::video(id)));
  EXPECT_FALSE(exists(projection::keys::job_progress(id)));
  auto listed = redis_->execute(redis::Command("ZSCORE", "z:new", id));
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->is_nil());
  EXPECT_FALSE(fs::exists(dir_.path() / "media" / video_dir(id)));
  EXPECT_FALSE(transcode::has_staging((dir_.path() / "media" / video_dir(id)).string()));
  EXPECT_FALSE(fs::exists(upload));
  jobs::JobQueue queue(*redis_, clock_);
  auto stats = queue.stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->length, 0) << "both jobs are acked";
}

// An upload whose job Redis lost (the video is processing, its file waits, no job:{id}) is found
// by the sweep a worker runs at start, queued again and processed.
TEST_F(WorkerTest, AtStartTheSweeperQueuesALostJobAgain) {
  stop_worker();
  catalog::Video video;
  video.channel_id = channel_;
  video.title = "Lost in Redis";
  video.slug = "lost-in-redis";
  video.status = catalog::VideoStatus::processing;
  video.created_at = SystemClock().unix_seconds() - 3600;
  const int64_t id = store_->insert_video(video).value();
  const std::string upload = jobs::upload_path((dir_.path() / "uploads").string(), id);
  const fs::path clip = dir_.path() / "clip.mp4";  // the container comes from the extension
  ASSERT_TRUE(transcode::make_test_clip(clip.string(), {.seconds = 2}).ok());
  fs::rename(clip, upload);

  options_.uploads_dir = (dir_.path() / "uploads").string();
  start_worker();
  ASSERT_TRUE(eventually([&] { return done_with(id, upload); }, std::chrono::seconds(120)));
  EXPECT_EQ(status_of(id), catalog::VideoStatus::ready);
  EXPECT_FALSE(fs::exists(upload));
}

TEST_F(WorkerTest, AFileThatIsNotAVideoFailsAtOnceWithTheReason) {
  const fs::path upload = dir_.path() / "uploads" / "notes.mp4";
  std::ofstream(upload) << "this is a text file, not a video\n";
  const int64_t id = queue_upload(upload);
  // Done when the job is acked (its last step), not left to retry.
  jobs::JobQueue queue(*redis_, clock_);
  const auto acked = [&] {
    auto stats = queue.stats();
    return stats && stats->pending == 0;
  };
  ASSERT_TRUE(eventually([&] { return status_of(id) == catalog::VideoStatus::failed && acked(); },
                         std::chrono::seconds(60)));
  auto video = store_->find_video(id).value();
  ASSERT_TRUE(video);
  // A text file named .mp4: ffprobe takes it for an MP4 without its index.
  EXPECT_EQ(video->error, "the video file is truncated or corrupt (its index is missing)");
  EXPECT_FALSE(exists(projection::keys::card(id))) << "never listed";
  jobs::JobProgress progress(*redis_, clock_);
  auto record = progress.get(id);
  ASSERT_TRUE(record && *record);
  EXPECT_EQ((*record)->state, jobs::JobState::failed);
  EXPECT_EQ((*record)->error, video->error);
}

}  // namespace
}  // namespace reel::worker
