#include "worker/worker.h"

#include <filesystem>
#include <stop_token>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/periodic_thread.h"
#include "common/days.h"
#include "jobs/progress.h"
#include "projection/projector.h"
#include "redis/blocking_client.h"
#include "sql/catalog_store.h"
#include "sql/connection.h"
#include "transcode/transcoder.h"

namespace reel::worker {
namespace {

namespace fs = std::filesystem;

// Upload problems retrying cannot fix: the video is marked failed at once.
bool is_bad_upload(std::string_view message) {
  for (std::string_view prefix : {"not a video", "the video", "the file is empty", "cannot read the file"}) {
    if (message.starts_with(prefix)) return true;
  }
  return false;
}

void log(const std::string& consumer, const std::string& text) {
  fmt::print(stderr, "reel worker {}: {}\n", consumer, text);
}

// Renews a lease every heartbeat interval on a client of its own while a job runs; when the lease
// is lost (or Redis cannot confirm it), requests the job's stop.
class Heartbeat {
 public:
  Heartbeat(redis::BlockingClient& client, const Clock& clock, const jobs::QueueOptions& options,
            const jobs::LeasedJob& lease, std::stop_source stop)
      : queue_(client, clock, options),
        lease_(lease),
        stop_(std::move(stop)),
        thread_(queue_.heartbeat_interval(), [this] { return beat(); }) {}
  bool lost() const { return lost_; }

 private:
  bool beat() {
    auto held = queue_.heartbeat(lease_);
    if (held && *held) return true;
    lost_ = true;
    stop_.request_stop();
    return false;
  }

  jobs::JobQueue queue_;
  const jobs::LeasedJob& lease_;
  std::stop_source stop_;
  std::atomic<bool> lost_{false};
  PeriodicThread thread_;  // last: starts once the rest is ready
};

}  // namespace

std::string video_dir(int64_t video_id) { return fmt::format("videos/{}", video_id); }

struct Worker::Slot {
  Slot(const WorkerOptions& options, std::string consumer, const std::atomic<bool>& stopping)
      : options(options), consumer(std::move(consumer)), stopping(stopping) {}

  Status open() {
    redis::ConnectionOptions redis_options = options.redis;
    // A claim blocks in Redis for claim_block: the command timeout must outlast it.
    redis_options.command_timeout = std::max(redis_options.command_timeout, options.claim_block * 3);
    auto client = redis::BlockingClient::connect(redis_options);
    if (!client) return client.error();
    queue_client = std::make_unique<redis::BlockingClient>(std::move(*client));
    auto beat = redis::BlockingClient::connect(redis_options);
    if (!beat) return beat.error();
    heartbeat_client = std::make_unique<redis::BlockingClient>(std::move(*beat));
    auto db = sql::open({options.sql_url});
    if (!db) return db.error();
    sql = std::move(*db);
    store = std::make_unique<sql::CatalogStore>(*sql);
    queue = std::make_unique<jobs::JobQueue>(*queue_client, clock, options.queue);
    progress = std::make_unique<jobs::JobProgress>(*queue_client, clock);
    return queue->ensure_group();
  }

  void run() {
    while (!stopping) {
      auto lease = queue->claim_next(consumer, options.claim_block);
      if (!lease) {
        log(consumer, "claiming a job failed: " + lease.error().message);
        std::this_thread::sleep_for(options.claim_block);  // Redis is away: try again later
        continue;
      }
      if (*lease) handle(**lease);
    }
  }

  void handle(const jobs::LeasedJob& lease) {
    const int64_t id = lease.job.video_id;
    if (lease.poisoned()) return give_up(lease, lease.poison_reason);
    if (lease.job.kind == jobs::JobKind::remove) return remove(lease);

    auto found = store->find_video(id);
    if (!found) return retry(lease, "the database is unavailable: " + found.error().message);
    if (!*found) return finish(lease);  // deleted meanwhile
    if ((*found)->status == catalog::VideoStatus::failed) return finish(lease);
    if ((*found)->status == catalog::VideoStatus::ready) {
      if (auto published = publish(**found); !published) return retry(lease, published.error().message);
      return finish(lease);
    }

    (void)progress->set(id, jobs::JobState::processing, 0);
    std::stop_source stop;
    Result<transcode::TranscodeResult> result = Error{"not run"};
    bool lease_lost = false;
    {
      Heartbeat heartbeat(*heartbeat_client, clock, options.queue, lease, stop);
      int32_t shown = 0;
      result = transcode::process_video({lease.job.payload, options.media_root, video_dir(id)}, options.transcode,
                                        [&](double fraction) {
                                          auto percent = static_cast<int32_t>(fraction * 100);
                                          if (percent < shown + 5 && percent < 100) return;
                                          shown = percent;
                                          (void)progress->set(id, jobs::JobState::processing, percent);
                                        },
                                        stop.get_token());
      lease_lost = heartbeat.lost();
    }
    if (lease_lost) return log(consumer, fmt::format("video {}: lost the job to another worker", id));
    if (!result) {
      if (is_bad_upload(result.error().message)) return give_up(lease, result.error().message);
      return retry(lease, result.error().message);
    }

    Status saved = sql->begin();
    if (saved) saved = store->mark_ready(id, static_cast<int32_t>(result->source.duration_s), result->source.width,
                                        result->source.height, result->files, clock.unix_seconds());
    if (saved) saved = sql->commit();
    if (!saved) {
      (void)store->rollback();
      return retry(lease, "saving the processed video failed: " + saved.error().message);
    }
    auto ready = store->find_video(id);
    if (!ready || !*ready) return retry(lease, "reading the processed video back failed");
    if (auto published = publish(**ready); !published) return retry(lease, published.error().message);
    (void)progress->set(id, jobs::JobState::ready, 100);
    std::error_code ignored;
    fs::remove(lease.job.payload, ignored);
    finish(lease);
    log(consumer, fmt::format("video {} is ready ({} files)", id, result->files.size()));
  }

  // Puts a ready video into every list it belongs to (idempotent).
  Status publish(const catalog::Video& video) {
    auto channel = store->find_channel(video.channel_name);
    if (!channel) return channel.error();
    std::string display = *channel ? (*channel)->display_name : video.channel_name;
    auto replies = queue_client->execute(projection::publish_video_commands(video, display));
    if (!replies) return Error{"publishing to Redis failed: " + replies.error().message};
    for (const auto& reply : *replies) {
      if (reply.is_error()) return Error{"publishing to Redis failed: " + std::string(reply.str())};
    }
    return {};
  }

  void remove(const jobs::LeasedJob& lease) {
    const int64_t id = lease.job.video_id;
    auto found = store->find_video(id);
    if (!found) return retry(lease, "the database is unavailable: " + found.error().message);
    if (*found) {
      auto replies = queue_client->execute(projection::withdraw_video_commands(**found, utc_day(clock.unix_seconds())));
      if (!replies) return retry(lease, "removing from Redis failed: " + replies.error().message);
    }
    std::error_code ec;
    fs::remove_all(fs::path(options.media_root) / video_dir(id), ec);
    if (ec) return retry(lease, "removing the files failed: " + ec.message());
    if (auto deleted = store->delete_video(id); !deleted) return retry(lease, deleted.error().message);
    finish(lease);
  }

  void retry(const jobs::LeasedJob& lease, const std::string& reason) {
    log(consumer, fmt::format("video {}: {}", lease.job.video_id, reason));
    auto outcome = queue->retry_or_fail(lease, reason);
    if (!outcome) return log(consumer, "recording the retry failed: " + outcome.error().message);
    if (*outcome == jobs::RetryOutcome::gave_up) return give_up(lease, reason);
    if (*outcome == jobs::RetryOutcome::retried) (void)progress->set(lease.job.video_id, jobs::JobState::queued, 0);
  }

  // The video goes failed with `reason`, then the job is acked (a crash in between leaves the job
  // pending, so the failure is recorded by whoever takes it over).
  void give_up(const jobs::LeasedJob& lease, const std::string& reason) {
    const int64_t id = lease.job.video_id;
    log(consumer, fmt::format("video {} failed: {}", id, reason));
    if (auto marked = store->mark_failed(id, reason); !marked) {
      return log(consumer, fmt::format("video {}: recording the failure failed: {}", id, marked.error().message));
    }
    (void)progress->set(id, jobs::JobState::failed, 0, reason);
    if (lease.job.kind == jobs::JobKind::transcode) {
      std::error_code ignored;
      fs::remove(lease.job.payload, ignored);
    }
    finish(lease);
  }

  void finish(const jobs::LeasedJob& lease) {
    if (auto acked = queue->ack(lease); !acked) log(consumer, "acking a job failed: " + acked.error().message);
  }

  const WorkerOptions& options;
  std::string consumer;
  const std::atomic<bool>& stopping;
  SystemClock clock;
  std::unique_ptr<redis::BlockingClient> queue_client;
  std::unique_ptr<redis::BlockingClient> heartbeat_client;
  std::unique_ptr<sql::Connection> sql;
  std::unique_ptr<sql::CatalogStore> store;
  std::unique_ptr<jobs::JobQueue> queue;
  std::unique_ptr<jobs::JobProgress> progress;
};

Worker::Worker(WorkerOptions options) : options_(std::move(options)) {}
Worker::~Worker() = default;

Status Worker::run() {
  std::vector<std::unique_ptr<Slot>> slots;
  for (int i = 0; i < std::max(1, options_.slots); ++i) {
    auto slot = std::make_unique<Slot>(options_, fmt::format("{}-{}", options_.consumer, i + 1), stopping_);
    if (auto opened = slot->open(); !opened) return opened;
    slots.push_back(std::move(slot));
  }
  std::vector<std::thread> threads;
  for (auto& slot : slots) threads.emplace_back([&slot] { slot->run(); });
  // stop() flips the flag; a running ffmpeg is left to finish unless the process is killed,
  // since finishing is cheaper than redoing the job elsewhere.
  for (auto& thread : threads) thread.join();
  return {};
}

void Worker::stop() { stopping_ = true; }

}  // namespace reel::worker
