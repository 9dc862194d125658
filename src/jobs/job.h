// Job: one unit of media work for `reel worker` (transcode a video's upload; later: delete its
// files) and its layout as an entry of the jobs:media Redis Stream. The queue itself is
// jobs/queue.h; this header holds the values and the pure encoding and parsing of entries, so a
// producer on an async Connection (the upload handler) can build the same XADD the queue sends.
//
// An entry's fields, all text: `video` (decimal id > 0), `kind` ("transcode" | "delete"),
// `attempt` (1 on the first try), `enqueued_at` (Unix ms when the first attempt was queued),
// `payload` (opaque to the queue; for a transcode, the upload's path), and on a retry `error`
// (why the previous attempt failed) and `retry_of` (the entry it replaces). Unknown fields are
// ignored, so a later version may add some.
//
// Thread-safety: value types and pure functions.
// Failure: parsing returns an Error naming the entry and what is wrong with it (a missing field,
// a field that is not a number, an unknown kind); it never crashes on what Redis sends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "redis/command.h"
#include "redis/reply.h"
#include "redis/stream.h"

namespace reel::jobs {

using redis::StreamEntry;

enum class JobKind {
  transcode,  // probe and transcode the upload in `payload`
  remove,     // delete the video's files ("delete" on the wire)
};

std::string_view to_string(JobKind kind);
std::optional<JobKind> parse_job_kind(std::string_view text);

struct Job {
  int64_t video_id = 0;
  JobKind kind = JobKind::transcode;
  int32_t attempt = 1;         // 1 on the first try; each retry adds one
  int64_t enqueued_at_ms = 0;  // Unix ms the first attempt was queued; 0: enqueue() stamps it
  std::string payload{};       // opaque to the queue, binary-safe
  std::string last_error{};    // why the previous attempt failed; empty on the first attempt

  bool operator==(const Job&) const = default;
};

// The entry's fields, flattened as XADD takes them (field, value, field, value, ...);
// `retry_of` is written when not empty.
std::vector<std::string> encode_fields(const Job& job, std::string_view retry_of = {});

// XADD jobs:media * <encode_fields(job)>: enqueueing from any client. Adds no MAXLEN (see
// queue.h for why the stream is never trimmed by length). The job is written as given: stamp
// enqueued_at_ms first.
redis::Command enqueue_command(const Job& job);

// The job in an entry's fields. An Error naming the entry id when a required field (video, kind,
// attempt, enqueued_at) is missing or malformed; a missing payload is empty.
Result<Job> parse_job(const StreamEntry& entry);

// A list of strings as one binary-safe string ("<length>:<bytes>" each, concatenated): how a
// retry's fields wait in the delayed set until its backoff has passed.
std::string encode_record(const std::vector<std::string>& items);
Result<std::vector<std::string>> decode_record(std::string_view record);

// Where an accepted upload waits for its transcode job (the job's payload):
// "{uploads_dir}/{video_id}.upload".
std::string upload_path(std::string_view uploads_dir, int64_t video_id);

// The Unix ms an entry id ("<ms>-<seq>") was created at; an Error for anything else.
Result<int64_t> entry_id_ms(std::string_view id);

}  // namespace reel::jobs
