// Sweeper: the safety net under "there is never a video without a job". A video is `processing`
// in SQL from the upload until its job ends; if the job is lost — Redis lost its stream (a
// restart without the AOF, a FLUSHALL), or queueing failed after the SQL insert and the cleanup
// failed too — the video would wait forever. sweep() finds processing videos older than
// `min_age` whose job:{id} progress record is missing (every queued, retried or running job has
// one) and either queues their transcode job again, with a fresh `queued` record, when the upload
// ("{uploads_dir}/{id}.upload") is still there, or marks them failed with a reason the uploader
// sees ("the upload was lost ...") when it is not. `reel worker` (and the in-process worker of
// `reel up`) sweeps at start and every few minutes (worker.h).
//
// Several sweepers (one per worker host) may run at once: the record is checked under WATCH and
// the job queued with it in one MULTI/EXEC, so a video is queued again once, not once per
// sweeper; failing is conditional on the video still being processing (a job that finished in
// between keeps its result). A job queued twice anyway (a record expired while its job waited
// over a day) is harmless: the worker finds the video ready and only acks.
//
// Thread-safety: not thread-safe (like the CatalogStore and BlockingClient it borrows, which
// must outlive it).
// Failure: sweep() returns an Error when SQL or Redis fail; what it did before that stays done.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "redis/blocking_client.h"
#include "sql/catalog_store.h"

namespace reel::worker {

struct SweeperOptions {
  std::string uploads_dir;                                         // where uploads wait (jobs::upload_path)
  std::chrono::milliseconds min_age{std::chrono::minutes(10)};     // younger uploads may still be queueing
  std::chrono::milliseconds progress_ttl{std::chrono::hours(24)};  // of the `queued` record written
};

struct SweepStats {
  int64_t stuck = 0;     // processing, older than min_age, without a progress record
  int64_t requeued = 0;  // their transcode job queued again
  int64_t failed = 0;    // marked failed: their upload is gone
};

// Shown to the uploader of a video failed by the sweeper.
inline constexpr std::string_view lost_upload_reason =
    "the upload was lost before it could be processed; please upload the video again";

class Sweeper {
 public:
  Sweeper(sql::CatalogStore& store, redis::BlockingClient& redis, const Clock& clock, SweeperOptions options)
      : store_(store), redis_(redis), clock_(clock), options_(std::move(options)) {}

  Result<SweepStats> sweep();

 private:
  // Queues the transcode job and its record unless a record appeared meanwhile; whether it did.
  Result<bool> requeue(int64_t video_id);

  sql::CatalogStore& store_;
  redis::BlockingClient& redis_;
  const Clock& clock_;
  SweeperOptions options_;
};

}  // namespace reel::worker
