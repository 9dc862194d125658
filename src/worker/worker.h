// Worker: what `reel worker` runs (and `reel up` in-process). `slots` threads each take media jobs
// from the Redis Stream queue (jobs/queue.h) one at a time and carry them out:
//   transcode: the video must still be `processing` in SQL (else the job is already done: the
//     worker re-publishes a ready video to Redis, in case that step was what failed, and acks; a
//     failed one, which includes one being deleted, is just acked).
//     transcode::process_video() writes {media_root}/videos/{id}/; then one SQL transaction marks
//     the video ready with its files, only if it is not failed meanwhile (a DELETE marks it so),
//     the projector publishes it to Redis (MULTI/EXEC), the upload is deleted and the job acked.
//     The publish is refused once a DELETE has withdrawn the video (projection::keys::withdrawn,
//     WATCHed), so a DELETE that raced the publish never leaves it listed, in either order. A video
//     deleted while it was transcoded is cleaned up instead (its directory, upload and job:{id}).
//     Progress goes to job:{id} for the uploader's page (best effort: a failed write is logged).
//     A failure is retried (with backoff) up to the queue's max_attempts, then the video is
//     marked failed with the reason the uploader sees; a bad upload (not a video, truncated, too
//     long) fails at once, since retrying cannot help.
//   delete: the video leaves Redis (again: the DELETE route withdrew it already), its directory,
//     its upload (the job's payload, when set) and job:{id} are removed, its SQL rows deleted.
// A heartbeat thread per slot keeps the job's lease while ffmpeg runs, and cancels the job when
// the lease is lost (another worker took it over). A job left by a crashed worker is taken over
// by another after the queue's visibility timeout, so no upload is stuck.
// With `relay` (the default), the write path's relay runs at start and every relay_interval on a
// thread of its own: outbox rows that did not reach Redis when they committed are applied.
// With `uploads_dir` set, a sweeper (sweeper.h) runs at start and every sweep_interval on a thread
// of its own: processing videos whose job was lost are queued again, or failed.
//
// Thread-safety: run() blocks; stop() may be called from any thread, and from a signal handler
// when cancel_jobs_on_stop is false (it then only sets a flag).
// Ownership: each slot owns its Redis clients and SQL connection; so does the sweeper.
// Failure: run() returns an Error only when it cannot start (SQL or Redis unreachable at start);
// job failures are recorded on the video and logged.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "common/change_sink.h"
#include "common/result.h"
#include "jobs/queue.h"
#include "redis/connection.h"
#include "transcode/options.h"

namespace reel::worker {

struct WorkerOptions {
  std::string consumer = "worker";  // stable per host; slot i claims as "{consumer}-{i}"
  int slots = 1;                    // jobs at once (each runs one ffmpeg at a time)
  std::string media_root;
  std::string sql_url;
  redis::ConnectionOptions redis;
  // The sessions node's primary ([redis] sessions), where the relay applies the sessions class's
  // rows (writes/relay.h); nullopt: the site has none.
  std::optional<redis::ConnectionOptions> sessions_redis;
  transcode::Options transcode;
  jobs::QueueOptions queue;
  std::chrono::milliseconds claim_block{1000};  // how long one claim waits for a job
  // false: stop() lets each slot finish its running job (`reel worker`: finishing is cheaper than
  // redoing it elsewhere). true: stop() kills the running ffmpeg and leaves the job pending, to be
  // reclaimed after the visibility timeout (`reel up`, whose shutdown must not wait for a transcode).
  bool cancel_jobs_on_stop = false;
  // Where uploads wait ("{id}.upload", jobs::upload_path); empty: no sweeper.
  std::string uploads_dir;
  std::chrono::milliseconds sweep_interval{std::chrono::minutes(5)};
  std::chrono::milliseconds sweep_min_age{std::chrono::minutes(10)};  // younger videos are left alone
  // The write path's relay (writes/relay.h): applies outbox rows that did not land at commit.
  bool relay = true;
  std::chrono::milliseconds relay_interval{1000};
  // Told of each video published or withdrawn and of what the relay lands (Varnish purges); may be
  // null. Must outlive the Worker.
  ChangeSink* changes = nullptr;
};

class Worker {
 public:
  explicit Worker(WorkerOptions options);
  ~Worker();

  // Runs the slots until stop(); returns once every slot has finished its current job.
  Status run();
  void stop();

 private:
  struct Slot;
  WorkerOptions options_;
  std::atomic<bool> stopping_{false};
  std::stop_source cancel_;  // requested by stop() with cancel_jobs_on_stop
};

// The directory of a video's processed files, relative to the media root.
std::string video_dir(int64_t video_id);

}  // namespace reel::worker
