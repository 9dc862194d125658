// The worker against real redis-server, SQLite and ffmpeg: a queued upload becomes a ready video
// with its files on disk and in every Redis list; a file that is not a video fails at once with
// the reason the uploader sees; a delete job removes the video everywhere, also when the video
// was deleted while its transcode ran; an upload whose job was lost is queued again at start.
#include "worker/worker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/days.h"
#include "jobs/progress.h"
#include "jobs/queue.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "redis/blocking_client.h"
#include "search/analyzer.h"
#include "sql/catalog_store.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/redis_sqlite_test.h"
#include "transcode/test_clip.h"
#include "transcode/transcoder.h"

namespace reel::worker {
namespace {

namespace fs = std::filesystem;
using reel::testing::eventually;

// A TCP relay to a local port that holds back the first write from a client containing `marker`
// (and everything after it on that connection) until release(): how a test puts a DELETE between
// a worker's read of a video and its publish. Every other byte flows freely.
class HoldingRelay {
 public:
  HoldingRelay(uint16_t target_port, std::string marker)
      : target_port_(target_port), marker_(std::move(marker)) {
    listener_ = testing::listen_on_loopback(port_);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~HoldingRelay() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      released_ = true;
      for (int fd : sockets_) ::shutdown(fd, SHUT_RDWR);
    }
    changed_.notify_all();
    acceptor_.join();  // then no pump is added any more
    for (auto& pump : pumps_) pump.join();
    for (int fd : sockets_) ::close(fd);
    ::close(listener_);
  }

  uint16_t port() const { return port_; }

  // Whether a write with the marker arrived (and is being held) within `timeout`.
  bool wait_held(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return held_; });
  }

  void release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    changed_.notify_all();
  }

 private:
  void accept_loop() {
    while (true) {
      pollfd waiting{listener_, POLLIN, 0};
      if (::poll(&waiting, 1, 50) <= 0) {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        continue;
      }
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in target{};
      target.sin_family = AF_INET;
      target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      target.sin_port = htons(target_port_);
      ::connect(server, reinterpret_cast<sockaddr*>(&target), sizeof target);
      std::lock_guard lock(mutex_);
      if (stopping_) {
        ::close(client);
        ::close(server);
        return;
      }
      sockets_.insert(sockets_.end(), {client, server});
      pumps_.emplace_back([this, client, server] { pump(client, server, /*may_hold=*/true); });
      pumps_.emplace_back([this, client, server] { pump(server, client, /*may_hold=*/false); });
    }
  }

  void pump(int from, int to, bool may_hold) {
    char buffer[65536];
    while (true) {
      const ssize_t n = ::recv(from, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      if (may_hold &&
          std::string_view(buffer, static_cast<size_t>(n)).find(marker_) != std::string_view::npos) {
        std::unique_lock lock(mutex_);
        if (!held_) {
          held_ = true;
          changed_.notify_all();
          changed_.wait(lock, [this] { return released_; });
        }
      }
      if (::send(to, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(to, SHUT_WR);
  }

  uint16_t target_port_;
  std::string marker_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  bool released_ = false;
  bool stopping_ = false;
  std::vector<int> sockets_;
  std::thread acceptor_;
  std::vector<std::thread> pumps_;  // added to under mutex_ by the acceptor; joined after it
};

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

  // A processing video of the test's channel, tagged "fresh", in "music"; its id.
  int64_t insert_processing(const std::string& title, int64_t created_at) {
    catalog::Video video;
    video.channel_id = channel_;
    video.title = title;
    video.slug = search::thread_analyzer().slug(title);
    video.status = catalog::VideoStatus::processing;
    video.created_at = created_at;
    video.tags = {"fresh"};
    video.categories = {"music"};
    return store_->insert_video(video).value();
  }

  // A processing video with its upload at `upload`, and its transcode job queued.
  int64_t queue_upload(const fs::path& upload) {
    const int64_t id = insert_processing("An upload", SystemClock().unix_seconds());
    jobs::JobQueue queue(*redis_, clock_);
    EXPECT_TRUE(
        queue.enqueue({.video_id = id, .kind = jobs::JobKind::transcode, .payload = upload.string()}));
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
    return status == catalog::VideoStatus::failed ||
           (status == catalog::VideoStatus::ready && !fs::exists(upload));
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
  // The upload goes after the video is published and its record says ready, just before the ack.
  EXPECT_TRUE(eventually([&] { return !fs::exists(upload); })) << "the upload is deleted once processed";

  EXPECT_TRUE(exists(projection::keys::card(id)));
  EXPECT_TRUE(exists(projection::keys::video(id)));
  for (const char* field : {"hls", "sprite_vtt", "preview", "poster"}) {
    auto url = redis_->execute(redis::Command("HGET", projection::keys::video(id), field));
    ASSERT_TRUE(url);
    EXPECT_TRUE(std::string(url->str()).starts_with("/media/" + video_dir(id) + "/"))
        << field << ": " << url->str();
  }
  auto newest = redis_->execute(redis::Command("ZSCORE", "z:new", id));
  ASSERT_TRUE(newest);
  EXPECT_FALSE(newest->is_nil()) << "listed as newest";
  auto tagged = redis_->execute(redis::Command(
      "ZSCORE", projection::keys::list({projection::ListKind::tag, "fresh"}, projection::Sort::newest), id));
  ASSERT_TRUE(tagged);
  EXPECT_FALSE(tagged->is_nil());
  auto searchable = redis_->execute(redis::Command("ZSCORE", projection::keys::search_term("fresh"), id));
  ASSERT_TRUE(searchable);
  EXPECT_FALSE(searchable->is_nil()) << "found by a search for its tag";
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
  EXPECT_FALSE(exists(projection::keys::search_record(id)));
  auto still_searchable =
      redis_->execute(redis::Command("ZSCORE", projection::keys::search_term("fresh"), id));
  ASSERT_TRUE(still_searchable);
  EXPECT_TRUE(still_searchable->is_nil());
}

// What DELETE /api/v1/videos/{id} does (ingest::Ingest::remove): the row goes failed, the video
// leaves Redis with its status record, and the delete job is queued.
void delete_like_the_api(sql::CatalogStore& store, redis::BlockingClient& redis, const Clock& clock,
                         int64_t id, const std::string& upload) {
  auto video = store.find_video(id).value();
  ASSERT_TRUE(video);
  ASSERT_TRUE(store.mark_failed(id, "the video is being deleted"));
  auto commands = projection::withdraw_video_commands(*video, utc_day(clock.unix_seconds()));
  const jobs::Job job{.video_id = id,
                      .kind = jobs::JobKind::remove,
                      .enqueued_at_ms = clock.unix_seconds() * 1000,
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
  ASSERT_TRUE(eventually(
      [&] {
        auto record = progress.get(id);
        return record && *record && (*record)->state == jobs::JobState::processing;
      },
      std::chrono::seconds(60)));
  delete_like_the_api(*store_, *redis_, clock_, id, upload.string());
  ASSERT_TRUE(eventually(
      [&] {
        auto found = store_->find_video(id);
        return found && !*found;
      },
      std::chrono::seconds(120)));
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

// A DELETE that lands while the worker publishes the same video (after the worker read it as
// ready, before its MULTI/EXEC reached Redis) and whose delete job another slot finishes first:
// the publish must not list the deleted video again. The relay holds the publish's write.
TEST_F(WorkerTest, ADeleteRacingAPublishNeverLeavesTheVideoListed) {
  stop_worker();
  HoldingRelay relay(connection_options().endpoint.port, "ZADD");  // only a publish adds to lists
  options_.slots = 2;  // one slot's publish is held while the other runs the delete job
  options_.redis.endpoint.port = relay.port();
  options_.redis.command_timeout = std::chrono::seconds(120);  // the held publish waits, no timeout
  start_worker();

  // Ready in SQL but not yet listed, its transcode job pending: the state a worker that died after
  // saving the video leaves, whose job the next worker finishes by publishing it.
  const int64_t now = SystemClock().unix_seconds();
  const int64_t id = insert_processing("Ready, not yet listed", now);
  ASSERT_TRUE(store_->mark_ready(id, 2, 320, 240, {}, now).value());
  jobs::JobQueue queue(*redis_, clock_);
  ASSERT_TRUE(queue.enqueue({.video_id = id, .kind = jobs::JobKind::transcode}));

  ASSERT_TRUE(relay.wait_held(std::chrono::seconds(60))) << "the worker never published";
  delete_like_the_api(*store_, *redis_, clock_, id, "");
  ASSERT_TRUE(eventually(
      [&] {
        auto found = store_->find_video(id);
        return found && !*found;
      },
      std::chrono::seconds(60)))
      << "the other slot ran the delete job";
  relay.release();
  ASSERT_TRUE(eventually(
      [&] {
        auto stats = queue.stats();
        return stats && stats->length == 0;
      },
      std::chrono::seconds(60)))
      << "both jobs are acked";
  stop_worker();

  auto listed = redis_->execute(redis::Command("ZSCORE", "z:new", id));
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->is_nil()) << "a deleted video is listed";
  EXPECT_FALSE(exists(projection::keys::card(id)));
  EXPECT_FALSE(exists(projection::keys::video(id)));
}

// An upload whose job Redis lost (the video is processing, its file waits, no job:{id}) is found
// by the sweep a worker runs at start, queued again and processed.
TEST_F(WorkerTest, AtStartTheSweeperQueuesALostJobAgain) {
  stop_worker();
  const int64_t id = insert_processing("Lost in Redis", SystemClock().unix_seconds() - 3600);
  const std::string upload = jobs::upload_path((dir_.path() / "uploads").string(), id);
  const fs::path clip = dir_.path() / "clip.mp4";  // the container comes from the extension
  ASSERT_TRUE(transcode::make_test_clip(clip.string(), {.seconds = 2}).ok());
  fs::rename(clip, upload);

  options_.uploads_dir = (dir_.path() / "uploads").string();
  start_worker();
  ASSERT_TRUE(eventually([&] { return done_with(id, upload); }, std::chrono::seconds(120)));
  EXPECT_EQ(status_of(id), catalog::VideoStatus::ready);
  EXPECT_TRUE(eventually([&] { return !fs::exists(upload); })) << "deleted after the publish";
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
