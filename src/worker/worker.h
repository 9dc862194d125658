// Worker: what `reel worker` runs. `slots` threads each take media jobs from the Redis Stream
// queue (jobs/queue.h) one at a time and carry them out:
//   transcode: the video must still be `processing` in SQL (else the job is already done: the
//     worker re-publishes a ready video to Redis, in case that step was what failed, and acks).
//     transcode::process_video() writes {media_root}/videos/{id}/; then one SQL transaction marks
//     the video ready with its files, the projector publishes it to Redis (MULTI/EXEC), the
//     upload is deleted and the job acked. Progress goes to job:{id} for the uploader's page.
//     A failure is retried (with backoff) up to the queue's max_attempts, then the video is
//     marked failed with the reason the uploader sees; a bad upload (not a video, truncated, too
//     long) fails at once, since retrying cannot help.
//   delete: the video leaves Redis, its directory is removed, its SQL rows are deleted.
// A heartbeat thread per slot keeps the job's lease while ffmpeg runs, and cancels the job when
// the lease is lost (another worker took it over). A job left by a crashed worker is taken over
// by another after the queue's visibility timeout, so no upload is stuck.
//
// Thread-safety: run() blocks; stop() may be called from any thread (a signal handler's flag).
// Ownership: each slot owns its Redis clients and SQL connection.
// Failure: run() returns an Error only when it cannot start (SQL or Redis unreachable at start);
// job failures are recorded on the video and logged.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

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
  transcode::Options transcode;
  jobs::QueueOptions queue;
  std::chrono::milliseconds claim_block{1000};  // how long one claim waits for a job
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
};

// The directory of a video's processed files, relative to the media root.
std::string video_dir(int64_t video_id);

}  // namespace reel::worker
