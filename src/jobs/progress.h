// JobProgress: what the uploader's page and the API show about a video's media job while it is
// queued and processed, in the hash job:{video_id}: `state` (queued | processing | ready |
// failed), `progress` (0..100), `error` (the reason when failed, else empty) and `updated_at`
// (Unix ms). Every write replaces all four fields and renews the key's expiry (ttl after the last
// write) in one MULTI/EXEC, so a reader sees a whole record or none, and the key never lives
// without its expiry. SQL stays the record of a video's status; this hash is the live view of a
// running job (the SQL status outlives it).
//
// Writers: the upload handler (queued, from its async Connection with
// enqueue_with_progress_commands), `reel worker` (processing with progress, then ready or failed;
// its sweeper: queued again, or failed) and the DELETE route and delete job (removed). Readers: the page and
// the API, on their own Connection with progress_read_command and parse_progress.
//
// Thread-safety: the free functions are pure; a JobProgress is not thread-safe (like the
// BlockingClient it borrows, which must outlive it).
// Failure: writes return an Error when Redis is unreachable or answers with an error; reads
// return nullopt for a missing (or expired) key and an Error for a malformed one.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "jobs/job.h"
#include "redis/blocking_client.h"
#include "redis/command.h"
#include "redis/reply.h"

namespace reel::jobs {

enum class JobState { queued, processing, ready, failed };

std::string_view to_string(JobState state);
std::optional<JobState> parse_job_state(std::string_view text);

struct ProgressRecord {
  JobState state = JobState::queued;
  int32_t progress = 0;  // percent, 0..100
  std::string error{};   // shown to the uploader when failed
  int64_t updated_at_ms = 0;

  bool operator==(const ProgressRecord&) const = default;
};

// MULTI, HSET job:{id} (all four fields), PEXPIRE job:{id} ttl, EXEC. Progress is clamped to
// 0..100.
std::vector<redis::Command> progress_write_commands(int64_t video_id, const ProgressRecord& record,
                                                    std::chrono::milliseconds ttl);
// HGETALL job:{id}
redis::Command progress_read_command(int64_t video_id);
// DEL job:{id}: the video is deleted, so there is nothing to report.
redis::Command progress_delete_command(int64_t video_id);
// MULTI, the job's XADD (enqueue_command), the progress record `queued` (as
// progress_write_commands), EXEC: the job and the uploader's view of it appear together or not at
// all. The job is written as given: stamp enqueued_at_ms first (it is the record's updated_at).
std::vector<redis::Command> enqueue_with_progress_commands(const Job& job, std::chrono::milliseconds ttl);
// The record in an HGETALL reply; nullopt for an empty one (no such key).
Result<std::optional<ProgressRecord>> parse_progress(const redis::Reply& hgetall);

class JobProgress {
 public:
  // `client` and `clock` are borrowed and must outlive this.
  JobProgress(redis::BlockingClient& client, const Clock& clock,
              std::chrono::milliseconds ttl = std::chrono::hours(24));

  // Writes the record, stamped with the clock's time.
  Status set(int64_t video_id, JobState state, int32_t progress = 0, std::string_view error = {});
  Result<std::optional<ProgressRecord>> get(int64_t video_id);
  // Deletes the record (progress_delete_command); a missing one is fine.
  Status remove(int64_t video_id);

 private:
  redis::BlockingClient& client_;
  const Clock& clock_;
  std::chrono::milliseconds ttl_;
};

}  // namespace reel::jobs
