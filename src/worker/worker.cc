#include "worker/worker.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/days.h"
#include "common/log_failure.h"
#include "common/periodic_thread.h"
#include "jobs/progress.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "redis/blocking_client.h"
#include "sql/catalog_store.h"
#include "sql/connection.h"
#include "transcode/transcoder.h"
#include "worker/sweeper.h"
#include "writes/relay.h"

namespace reel::worker {
namespace {

namespace fs = std::filesystem;

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

// A periodic task of the worker with a Redis client and SQL connection of its own (the sweeper,
// the relay): one run when started, then one every `interval` on a thread of its own until
// destroyed. `make_run` builds the run over the thread's client and connection, which outlive it.
class ConnectedThread {
 public:
  using MakeRun = std::function<std::function<void()>(redis::BlockingClient&, sql::Connection&)>;

  static Result<std::unique_ptr<ConnectedThread>> start(const WorkerOptions& options,
                                                        std::chrono::milliseconds interval,
                                                        const MakeRun& make_run) {
    auto client = redis::BlockingClient::connect(options.redis);
    if (!client) return client.error();
    auto db = sql::open({options.sql_url});
    if (!db) return db.error();
    auto started = std::unique_ptr<ConnectedThread>(
        new ConnectedThread(std::move(*client), std::move(*db), options.sql_url, make_run));
    started->run_ = make_run(started->client_, *started->db_);
    started->run_();
    started->thread_.emplace(interval, [raw = started.get()] {
      raw->run_();
      raw->reopen_if_broken();
      return true;
    });
    return started;
  }

 private:
  ConnectedThread(redis::BlockingClient client, std::unique_ptr<sql::Connection> db, std::string sql_url,
                  MakeRun make_run)
      : client_(std::move(client)),
        db_(std::move(db)),
        sql_url_(std::move(sql_url)),
        make_run_(std::move(make_run)) {}

  // A run that found the SQL connection gone (a failover) leaves a new one, and a run over it, for
  // the next; when the server cannot be reached yet, the next run fails at once and tries again.
  void reopen_if_broken() {
    if (!db_->broken()) return;
    auto fresh = sql::open({sql_url_});
    if (!fresh) {
      spdlog::warn("the worker's SQL connection is gone and cannot be opened again yet: {}",
                   fresh.error().message);
      return;
    }
    run_ = nullptr;  // its state refers to the old connection
    db_ = std::move(*fresh);
    run_ = make_run_(client_, *db_);
  }

  redis::BlockingClient client_;
  std::unique_ptr<sql::Connection> db_;
  const std::string sql_url_;
  const MakeRun make_run_;
  std::function<void()> run_;
  std::optional<PeriodicThread> thread_;  // last: stopped and joined first
};

// The sweeper's run (sweeper.h): lost jobs queued again or failed, logged when there were any.
ConnectedThread::MakeRun sweep_run(const WorkerOptions& options) {
  return [options](redis::BlockingClient& client, sql::Connection& db) {
    struct State {
      State(sql::Connection& db, redis::BlockingClient& client, const WorkerOptions& options)
          : store(db), sweeper(store, client, clock, {options.uploads_dir, options.sweep_min_age}) {}
      SystemClock clock;
      sql::CatalogStore store;
      Sweeper sweeper;
    };
    auto state = std::make_shared<State>(db, client, options);
    return [state, consumer = options.consumer] {
      auto swept = state->sweeper.sweep();
      if (!swept) {
        log(consumer, "sweeping for lost jobs failed: " + swept.error().message);
      } else if (swept->stuck > 0) {
        log(consumer,
            fmt::format("{} upload{} had lost {} job: {} queued again, {} failed (the upload was gone)",
                        swept->stuck, swept->stuck == 1 ? "" : "s", swept->stuck == 1 ? "its" : "their",
                        swept->requeued, swept->failed));
      }
    };
  };
}

// The write path's relay run (writes/relay.h): outbox rows that did not land are applied. With a
// sessions node, the relay waits until its client to that node is connected (retried each run):
// the sessions class's rows must never be applied anywhere else.
ConnectedThread::MakeRun relay_run(const WorkerOptions& options) {
  return [consumer = options.consumer, changes = options.changes, sessions = options.sessions_redis](
             redis::BlockingClient& client, sql::Connection& db) {
    struct State {
      State(sql::Connection& db, redis::BlockingClient& client, ChangeSink* changes,
            std::optional<redis::ConnectionOptions> sessions)
          : db(db), client(client), changes(changes), sessions_options(std::move(sessions)) {}
      // The relay, once every node it applies to is connected; an Error while one is not.
      Status ready() {
        if (relay) return {};
        if (sessions_options) {
          auto connected = redis::BlockingClient::connect(*sessions_options);
          if (!connected) return Error{"the sessions node: " + connected.error().message};
          sessions_client.emplace(std::move(*connected));
        }
        relay.emplace(db, client, clock,
                      writes::RelayOptions{.changes = changes,
                                           .sessions = sessions_client ? &*sessions_client : nullptr});
        return {};
      }
      sql::Connection& db;
      redis::BlockingClient& client;
      ChangeSink* changes;
      std::optional<redis::ConnectionOptions> sessions_options;
      SystemClock clock;
      std::optional<redis::BlockingClient> sessions_client;
      std::optional<writes::Relay> relay;  // last: borrows the rest
    };
    auto state = std::make_shared<State>(db, client, changes, sessions);
    return [state, consumer] {
      if (Status ready = state->ready(); !ready) {
        log(consumer, "relaying the outbox failed (retrying): " + ready.error().message);
        return;
      }
      auto relayed = state->relay->run_once();
      if (!relayed) {
        log(consumer, "relaying the outbox failed (retrying): " + relayed.error().message);
      } else if (relayed->replayed > 0 || relayed->failed > 0) {
        log(consumer, fmt::format("outbox: {} writes landed, {} replayed in order, {} refused",
                                  relayed->landed, relayed->replayed, relayed->failed));
      }
    };
  };
}

}  // namespace

std::string video_dir(int64_t video_id) {
  return fmt::format("videos/{}", video_id);
}

struct Worker::Slot {
  Slot(const WorkerOptions& options, std::string consumer, const std::atomic<bool>& stopping,
       std::stop_token cancel)
      : options(options), consumer(std::move(consumer)), stopping(stopping), cancel(std::move(cancel)) {}

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
      reopen_sql_if_broken();
    }
  }

  // After a job that found the SQL connection gone (a failover): a new one for the next job. When
  // the server cannot be reached yet, the next job is retried later and this tries again.
  void reopen_sql_if_broken() {
    if (!sql->broken()) return;
    auto db = sql::open({options.sql_url});
    if (!db) {
      log(consumer, "the SQL connection is gone and cannot be opened again yet: " + db.error().message);
      return;
    }
    store.reset();
    sql = std::move(*db);
    store = std::make_unique<sql::CatalogStore>(*sql);
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
      // Withdrawn meanwhile (a DELETE after the read above): the delete job cleans up.
      if (auto published = publish(**found); !published) return retry(lease, published.error().message);
      return finish(lease);
    }

    record(id, jobs::JobState::processing, 0);
    std::stop_source stop;
    const std::stop_callback on_cancel(cancel, [&stop] { stop.request_stop(); });
    Result<transcode::TranscodeResult> result = Error{"not run"};
    bool lease_lost = false;
    {
      Heartbeat heartbeat(*heartbeat_client, clock, options.queue, lease, stop);
      int32_t shown = 0;
      result = transcode::process_video(
          {lease.job.payload, options.media_root, video_dir(id)}, options.transcode,
          [&](double fraction) {
            auto percent = static_cast<int32_t>(fraction * 100);
            if (percent < shown + 5 && percent < 100) return;
            shown = percent;
            record(id, jobs::JobState::processing, percent);
          },
          stop.get_token());
      lease_lost = heartbeat.lost();
    }
    if (!result && cancel.stop_requested()) {
      return log(consumer, fmt::format("video {}: stopped; the job is left to be claimed again", id));
    }
    if (lease_lost) return log(consumer, fmt::format("video {}: lost the job to another worker", id));
    if (!result) {
      // A bad upload (not a video, truncated, over a limit): retrying cannot fix it.
      if (result.error().kind == ErrorKind::invalid_input) return give_up(lease, result.error().message);
      return retry(lease, result.error().message);
    }

    auto marked = save_ready(id, *result);
    if (!marked) return retry(lease, "saving the processed video failed: " + marked.error().message);
    if (!*marked) return discard(lease);  // deleted (or failed) while it was transcoded
    auto ready = store->find_video(id);
    if (!ready) return retry(lease, "reading the processed video back failed: " + ready.error().message);
    if (!*ready || (*ready)->status != catalog::VideoStatus::ready) return discard(lease);
    auto published = publish(**ready);
    if (!published) return retry(lease, published.error().message);
    if (!*published) return discard(lease);  // a DELETE after the read above withdrew it
    record(id, jobs::JobState::ready, 100);
    std::error_code ignored;
    fs::remove(lease.job.payload, ignored);
    finish(lease);
    log(consumer, fmt::format("video {} is ready ({} files)", id, result->files.size()));
  }

  // One SQL transaction: the video ready with its files; false (nothing changed) when it is gone or
  // failed meanwhile.
  Result<bool> save_ready(int64_t id, const transcode::TranscodeResult& result) {
    if (auto begun = sql->begin(); !begun) return begun.error();
    auto marked = store->mark_ready(id, static_cast<int32_t>(result.source.duration_s), result.source.width,
                                    result.source.height, result.files, clock.unix_seconds());
    if (marked) {
      if (auto committed = sql->commit(); !committed) marked = committed.error();
    }
    if (!marked) log_failure(store->rollback(), fmt::format("video {}: rolling back", id));
    return marked;
  }

  // The video was deleted (or failed) while its transcode ran: its outputs and upload go, and so
  // does job:{id} once the row is gone (while it remains, the delete job removes it later; a
  // failed video keeps it, so its uploader still sees why).
  void discard(const jobs::LeasedJob& lease) {
    const int64_t id = lease.job.video_id;
    std::error_code ignored;
    fs::remove_all(fs::path(options.media_root) / video_dir(id), ignored);
    fs::remove(lease.job.payload, ignored);
    auto found = store->find_video(id);
    if (found && !*found)
      log_failure(progress->remove(id), fmt::format("video {}: removing its job record", id));
    finish(lease);
    log(consumer, fmt::format("video {} was deleted while it was processed; its files are removed", id));
  }

  // Sends one MULTI ... EXEC batch; an Error naming `what` when it or a command in it failed.
  Status apply(std::vector<redis::Command> commands, std::string_view what) {
    auto replies = queue_client->execute(std::move(commands));
    if (!replies) return Error{fmt::format("{} Redis failed: {}", what, replies.error().message)};
    return redis::check_exec(*replies, fmt::format("{} Redis", what));
  }

  Status withdraw(const catalog::Video& video) {
    Status withdrawn =
        apply(projection::withdraw_video_commands(video, utc_day(clock.unix_seconds())), "removing from");
    if (withdrawn) tell_changed(video.id, /*lists=*/false);
    return withdrawn;
  }

  // Tells options.changes that the video's pages (and with `lists`, every public list) changed.
  void tell_changed(int64_t video_id, bool lists) {
    if (options.changes == nullptr) return;
    std::vector<std::string> objects{video_object(video_id)};
    if (lists) objects.emplace_back(all_lists_object);
    options.changes->changed(objects);
  }

  // Puts a ready video into every list it belongs to (idempotent), unless a DELETE has withdrawn
  // it (keys::withdrawn), also one that lands between this call's check and its write: false then.
  Result<bool> publish(const catalog::Video& video) {
    auto channel = store->find_channel(video.channel_name);
    if (!channel) return channel.error();
    std::string display = *channel ? (*channel)->display_name : video.channel_name;
    Result<bool> published = redis::execute_unless_exists(
        *queue_client, projection::keys::withdrawn(video.id),
        projection::publish_video_commands(video, display), "publishing to Redis");
    if (published && *published) tell_changed(video.id, /*lists=*/true);
    return published;
  }

  // job:{id} for the uploader's page: best effort (the job's outcome does not depend on it).
  void record(int64_t id, jobs::JobState state, int32_t percent, std::string_view error = {}) {
    log_failure(progress->set(id, state, percent, error),
                fmt::format("video {}: recording its progress", id));
  }

  void remove(const jobs::LeasedJob& lease) {
    const int64_t id = lease.job.video_id;
    auto found = store->find_video(id);
    if (!found) return retry(lease, "the database is unavailable: " + found.error().message);
    if (*found) {
      if (auto withdrawn = withdraw(**found); !withdrawn) return retry(lease, withdrawn.error().message);
    }
    std::error_code ec;
    fs::remove_all(fs::path(options.media_root) / video_dir(id), ec);
    if (ec) return retry(lease, "removing the files failed: " + ec.message());
    if (!lease.job.payload.empty()) fs::remove(lease.job.payload, ec);
    if (ec) return retry(lease, "removing the upload failed: " + ec.message());
    if (auto removed = progress->remove(id); !removed) return retry(lease, removed.error().message);
    if (auto deleted = store->delete_video(id); !deleted) return retry(lease, deleted.error().message);
    finish(lease);
    log(consumer, fmt::format("video {} is deleted", id));
  }

  void retry(const jobs::LeasedJob& lease, const std::string& reason) {
    log(consumer, fmt::format("video {}: {}", lease.job.video_id, reason));
    auto outcome = queue->retry_or_fail(lease, reason);
    if (!outcome) return log(consumer, "recording the retry failed: " + outcome.error().message);
    if (*outcome == jobs::RetryOutcome::gave_up) return give_up(lease, reason);
    if (*outcome == jobs::RetryOutcome::retried) record(lease.job.video_id, jobs::JobState::queued, 0);
  }

  // The video goes failed with `reason`, then the job is acked (a crash in between leaves the job
  // pending, so the failure is recorded by whoever takes it over).
  void give_up(const jobs::LeasedJob& lease, const std::string& reason) {
    const int64_t id = lease.job.video_id;
    log(consumer, fmt::format("video {} failed: {}", id, reason));
    if (auto marked = store->mark_failed(id, reason); !marked) {
      return log(consumer,
                 fmt::format("video {}: recording the failure failed: {}", id, marked.error().message));
    }
    record(id, jobs::JobState::failed, 0, reason);
    if (lease.job.kind == jobs::JobKind::transcode) {
      std::error_code ignored;
      fs::remove(lease.job.payload, ignored);
    }
    finish(lease);
  }

  void finish(const jobs::LeasedJob& lease) {
    if (auto acked = queue->ack(lease); !acked)
      log(consumer, "acking a job failed: " + acked.error().message);
  }

  const WorkerOptions& options;
  std::string consumer;
  const std::atomic<bool>& stopping;
  std::stop_token cancel;  // stop() with cancel_jobs_on_stop: abandon the running job
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
    auto slot = std::make_unique<Slot>(options_, fmt::format("{}-{}", options_.consumer, i + 1), stopping_,
                                       cancel_.get_token());
    if (auto opened = slot->open(); !opened) return opened;
    slots.push_back(std::move(slot));
  }
  std::unique_ptr<ConnectedThread> sweeping;
  if (!options_.uploads_dir.empty()) {
    auto started = ConnectedThread::start(options_, options_.sweep_interval, sweep_run(options_));
    if (!started) return started.error();
    sweeping = std::move(*started);
  }
  std::unique_ptr<ConnectedThread> relaying;
  if (options_.relay) {
    auto started = ConnectedThread::start(options_, options_.relay_interval, relay_run(options_));
    if (!started) return started.error();
    relaying = std::move(*started);
  }
  std::vector<std::thread> threads;
  for (auto& slot : slots) threads.emplace_back([&slot] { slot->run(); });
  // stop() flips the flag; a running ffmpeg is left to finish (unless cancel_jobs_on_stop), since
  // finishing is cheaper than redoing the job elsewhere.
  for (auto& thread : threads) thread.join();
  return {};
}

void Worker::stop() {
  stopping_ = true;
  if (options_.cancel_jobs_on_stop) cancel_.request_stop();
}

}  // namespace reel::worker
