#include "jobs/job.h"

#include <fmt/format.h>

#include <filesystem>

#include "jobs/replies.h"
#include "projection/keys.h"

namespace reel::jobs {
namespace {

constexpr std::string_view field_video = "video";
constexpr std::string_view field_kind = "kind";
constexpr std::string_view field_attempt = "attempt";
constexpr std::string_view field_enqueued_at = "enqueued_at";
constexpr std::string_view field_payload = "payload";
constexpr std::string_view field_error = "error";
constexpr std::string_view field_retry_of = "retry_of";

using detail::parse_int;

const std::string* find_field(const StreamEntry& entry, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [field, value] : entry.fields) {
    if (field == name) found = &value;  // the last one wins, as HSET would have it
  }
  return found;
}

// A required integer field no smaller than `min`.
template <class Int>
Result<Int> int_field(const StreamEntry& entry, std::string_view name, Int min) {
  const std::string* text = find_field(entry, name);
  if (!text) return Error{fmt::format("job entry {}: the field '{}' is missing", entry.id, name)};
  auto value = parse_int<Int>(*text);
  if (!value || *value < min) {
    return Error{fmt::format("job entry {}: the field '{}' is '{}', not a whole number of at least {}",
                             entry.id, name, *text, min)};
  }
  return *value;
}

}  // namespace

std::string_view to_string(JobKind kind) {
  switch (kind) {
    case JobKind::transcode:
      return "transcode";
    case JobKind::remove:
      return "delete";
  }
  return "transcode";
}

std::optional<JobKind> parse_job_kind(std::string_view text) {
  if (text == "transcode") return JobKind::transcode;
  if (text == "delete") return JobKind::remove;
  return std::nullopt;
}

std::vector<std::string> encode_fields(const Job& job, std::string_view retry_of) {
  std::vector<std::string> fields{
      std::string(field_video),       std::to_string(job.video_id),
      std::string(field_kind),        std::string(to_string(job.kind)),
      std::string(field_attempt),     std::to_string(job.attempt),
      std::string(field_enqueued_at), std::to_string(job.enqueued_at_ms),
      std::string(field_payload),     job.payload,
  };
  if (!job.last_error.empty()) {
    fields.emplace_back(field_error);
    fields.push_back(job.last_error);
  }
  if (!retry_of.empty()) {
    fields.emplace_back(field_retry_of);
    fields.emplace_back(retry_of);
  }
  return fields;
}

redis::Command enqueue_command(const Job& job) {
  redis::Command command("XADD", projection::keys::media_jobs(), "*");
  for (auto& field : encode_fields(job)) command.arg(std::move(field));
  return command;
}

Result<Job> parse_job(const StreamEntry& entry) {
  Job job;
  auto video = int_field<int64_t>(entry, field_video, 1);
  if (!video) return video.error();
  job.video_id = *video;

  const std::string* kind_text = find_field(entry, field_kind);
  if (!kind_text) return Error{fmt::format("job entry {}: the field 'kind' is missing", entry.id)};
  auto kind = parse_job_kind(*kind_text);
  if (!kind) return Error{fmt::format("job entry {}: unknown job kind '{}'", entry.id, *kind_text)};
  job.kind = *kind;

  auto attempt = int_field<int32_t>(entry, field_attempt, 1);
  if (!attempt) return attempt.error();
  job.attempt = *attempt;
  auto enqueued_at = int_field<int64_t>(entry, field_enqueued_at, 0);
  if (!enqueued_at) return enqueued_at.error();
  job.enqueued_at_ms = *enqueued_at;

  if (const std::string* payload = find_field(entry, field_payload)) job.payload = *payload;
  if (const std::string* error = find_field(entry, field_error)) job.last_error = *error;
  return job;
}

std::string encode_record(const std::vector<std::string>& items) {
  std::string record;
  for (const auto& item : items) {
    record += std::to_string(item.size());
    record += ':';
    record += item;
  }
  return record;
}

Result<std::vector<std::string>> decode_record(std::string_view record) {
  std::vector<std::string> items;
  while (!record.empty()) {
    const size_t colon = record.find(':');
    auto length = colon == std::string_view::npos ? std::nullopt : parse_int<size_t>(record.substr(0, colon));
    if (!length || *length > record.size() - colon - 1) {
      return Error{fmt::format("delayed job record: item {} has no valid length prefix", items.size() + 1)};
    }
    items.emplace_back(record.substr(colon + 1, *length));
    record.remove_prefix(colon + 1 + *length);
  }
  return items;
}

std::string upload_path(std::string_view uploads_dir, int64_t video_id) {
  return (std::filesystem::path(uploads_dir) / fmt::format("{}.upload", video_id)).string();
}

Result<int64_t> entry_id_ms(std::string_view id) {
  const size_t dash = id.find('-');
  auto ms = parse_int<int64_t>(id.substr(0, dash));
  if (dash == std::string_view::npos || !ms || !parse_int<uint64_t>(id.substr(dash + 1))) {
    return Error{fmt::format("'{}' is not a stream entry id", id)};
  }
  return *ms;
}

}  // namespace reel::jobs
