#include "jobs/progress.h"

#include <fmt/format.h>

#include <algorithm>

#include "jobs/replies.h"
#include "projection/keys.h"

namespace reel::jobs {
std::string_view to_string(JobState state) {
  switch (state) {
    case JobState::queued:
      return "queued";
    case JobState::processing:
      return "processing";
    case JobState::ready:
      return "ready";
    case JobState::failed:
      return "failed";
  }
  return "queued";
}

std::optional<JobState> parse_job_state(std::string_view text) {
  for (JobState state : {JobState::queued, JobState::processing, JobState::ready, JobState::failed}) {
    if (text == to_string(state)) return state;
  }
  return std::nullopt;
}

std::vector<redis::Command> progress_write_commands(int64_t video_id, const ProgressRecord& record,
                                                    std::chrono::milliseconds ttl) {
  const std::string key = projection::keys::job_progress(video_id);
  std::vector<redis::Command> commands;
  commands.emplace_back("MULTI");
  commands.emplace_back("HSET", key, "state", to_string(record.state), "progress",
                        std::clamp<int32_t>(record.progress, 0, 100), "error", record.error, "updated_at",
                        record.updated_at_ms);
  commands.emplace_back("PEXPIRE", key, ttl.count());
  commands.emplace_back("EXEC");
  return commands;
}

redis::Command progress_read_command(int64_t video_id) {
  return redis::Command("HGETALL", projection::keys::job_progress(video_id));
}

redis::Command progress_delete_command(int64_t video_id) {
  return redis::Command("DEL", projection::keys::job_progress(video_id));
}

std::vector<redis::Command> enqueue_with_progress_commands(const Job& job, std::chrono::milliseconds ttl) {
  auto commands = progress_write_commands(
      job.video_id, {.state = JobState::queued, .updated_at_ms = job.enqueued_at_ms}, ttl);
  commands.insert(commands.begin() + 1, enqueue_command(job));  // after MULTI
  return commands;
}

Result<std::optional<ProgressRecord>> parse_progress(const redis::Reply& hgetall) {
  if (hgetall.is_error()) return Error{fmt::format("job progress: {}", hgetall.str())};
  if (!hgetall.is_array()) return Error{"job progress: expected a hash from HGETALL"};
  const auto& items = hgetall.elements();
  if (items.empty()) return std::optional<ProgressRecord>();
  ProgressRecord record;
  bool has_state = false;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    const std::string_view field = items[i].str();
    const std::string_view value = items[i + 1].str();
    if (field == "state") {
      auto state = parse_job_state(value);
      if (!state) return Error{fmt::format("job progress: unknown state '{}'", value)};
      record.state = *state;
      has_state = true;
    } else if (field == "progress" || field == "updated_at") {
      auto number = detail::parse_int<int64_t>(value);
      if (!number)
        return Error{fmt::format("job progress: the field '{}' is '{}', not a number", field, value)};
      if (field == "progress") {
        record.progress = static_cast<int32_t>(std::clamp<int64_t>(*number, 0, 100));
      } else {
        record.updated_at_ms = *number;
      }
    } else if (field == "error") {
      record.error = std::string(value);
    }
  }
  if (!has_state) return Error{"job progress: the field 'state' is missing"};
  return std::optional<ProgressRecord>(std::move(record));
}

JobProgress::JobProgress(redis::BlockingClient& client, const Clock& clock, std::chrono::milliseconds ttl)
    : client_(client), clock_(clock), ttl_(ttl) {}

Status JobProgress::set(int64_t video_id, JobState state, int32_t progress, std::string_view error) {
  const ProgressRecord record{
      .state = state,
      .progress = progress,
      .error = std::string(error),
      .updated_at_ms = clock_.unix_ms(),
  };
  auto replies = client_.execute(progress_write_commands(video_id, record, ttl_));
  if (!replies) return replies.error();
  return redis::check_exec(*replies, "job progress: the write");
}

Result<std::optional<ProgressRecord>> JobProgress::get(int64_t video_id) {
  auto reply = client_.execute(progress_read_command(video_id));
  if (!reply) return reply.error();
  return parse_progress(*reply);
}

Status JobProgress::remove(int64_t video_id) {
  auto reply = client_.execute(progress_delete_command(video_id));
  if (!reply) return reply.error();
  if (reply->is_error()) return Error{fmt::format("job progress: the delete failed: {}", reply->str())};
  return {};
}

}  // namespace reel::jobs
