#include "jobs/queue.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <optional>

#include "jobs/replies.h"
#include "projection/keys.h"
#include "redis/script.h"

namespace reel::jobs {
namespace {

namespace keys = projection::keys;
using redis::Command;
using redis::Reply;

// Due retries moved into the stream per claim_next() call (the rest wait for the next call).
constexpr int64_t promote_batch = 16;

// KEYS[1] stream. ARGV[1] group, ARGV[2] consumer, ARGV[3] min idle (ms).
// Claims the first entry idle at least ARGV[3] ms for ARGV[2] and returns {delivery count,
// [id, fields]}, or nil. XAUTOCLAIM ... COUNT 1 looks at no more than 10 pending entries per
// call, so the loop follows its cursor through the whole pending list (one entry per running
// job: short).
const redis::Script& reclaim_script() {
  static const redis::Script script(R"lua(
local cursor = '0-0'
repeat
  local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], cursor, 'COUNT', 1)
  cursor = claimed[1]
  local entry = claimed[2][1]
  if entry then
    local pending = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
    return {pending[1][4], entry}
  end
until cursor == '0-0'
return false
)lua");
  return script;
}

// The start of the scripts that act on a lease: KEYS[1] stream, ARGV[1] group, ARGV[2] consumer,
// ARGV[3] entry id. Answers 0 unless the entry is pending under that consumer.
constexpr std::string_view lease_check_lua = R"lua(
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then return 0 end
)lua";

// Resets the entry's idle time (JUSTID: without counting a delivery). Answers 1.
const redis::Script& heartbeat_script() {
  static const redis::Script script(std::string(lease_check_lua) + R"lua(
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
)lua");
  return script;
}

// KEYS[2] delayed set. ARGV[4] due (Unix ms; '0': at once), ARGV[5] the delayed record,
// ARGV[6..] the new entry's fields (when at once). Replaces the entry by its retry. Answers 1.
const redis::Script& retry_script() {
  static const redis::Script script(std::string(lease_check_lua) + R"lua(
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if ARGV[4] == '0' then
  redis.call('XADD', KEYS[1], '*', unpack(ARGV, 6))
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
end
return 1
)lua");
  return script;
}

// KEYS[1] stream, KEYS[2] delayed set. ARGV[1] a delayed record, ARGV[2..] its fields. Moves the
// record into the stream unless another worker already did (nil then).
const redis::Script& promote_script() {
  static const redis::Script script(R"lua(
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return false end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
)lua");
  return script;
}

// One command of a batch; a script call carries its EVAL for when Redis answers NOSCRIPT.
struct Call {
  Command command;
  std::optional<Command> eval{};
};

Call script_call(const redis::Script& script, const std::vector<std::string>& keys,
                 const std::vector<std::string>& args) {
  return Call{script.evalsha_command(keys, args), script.eval_command(keys, args)};
}

// Sends the batch in one round trip; script calls Redis did not have cached (after a restart or
// SCRIPT FLUSH) are sent again with EVAL in a second one.
Result<std::vector<Reply>> execute(redis::BlockingClient& client, std::vector<Call> calls) {
  std::vector<Command> commands;
  commands.reserve(calls.size());
  for (const Call& call : calls) commands.push_back(call.command);
  auto replies = client.execute(std::move(commands));
  if (!replies) return replies.error();
  std::vector<size_t> again;
  std::vector<Command> evals;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].eval && redis::Script::is_noscript((*replies)[i])) {
      again.push_back(i);
      evals.push_back(std::move(*calls[i].eval));
    }
  }
  if (again.empty()) return replies;
  auto second = client.execute(std::move(evals));
  if (!second) return second.error();
  for (size_t i = 0; i < again.size(); ++i) (*replies)[again[i]] = std::move((*second)[i]);
  return replies;
}

Result<Reply> execute_one(redis::BlockingClient& client, Call call) {
  std::vector<Call> calls;
  calls.push_back(std::move(call));
  auto replies = execute(client, std::move(calls));
  if (!replies) return replies.error();
  return std::move(replies->front());
}

Error redis_error(std::string_view what, const Reply& reply) {
  return Error{fmt::format("job queue: {} failed: {}", what, reply.str())};
}

bool is_missing_group(const Reply& reply) {
  return reply.is_error() && reply.str().find("NOGROUP") != std::string_view::npos;
}

std::string describe_fields(const Reply& entry) {
  std::string text;
  if (entry.is_array() && entry.elements().size() == 2) {
    const auto& fields = entry.elements()[1].elements();
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      text += fmt::format("{}{}={:?}", text.empty() ? "" : " ", fields[i].str(), fields[i + 1].str());
    }
  }
  return text.empty() ? "(none)" : text;
}

// Redis's clock from a TIME reply ([seconds, microseconds]) in Unix ms; nullopt for another shape.
std::optional<int64_t> redis_time_ms(const Reply& time) {
  if (!time.is_array() || time.elements().size() != 2) return std::nullopt;
  int64_t parts[2] = {0, 0};
  for (size_t i = 0; i < 2; ++i) {
    const std::string_view text = time.elements()[i].str();
    if (std::from_chars(text.data(), text.data() + text.size(), parts[i]).ec != std::errc())
      return std::nullopt;
  }
  return parts[0] * 1000 + parts[1] / 1000;
}

// How long ago (by `now_ms`, Redis's clock) the entry `id` was added; 0 for no id.
std::chrono::milliseconds age_of(const Reply& id, int64_t now_ms) {
  auto ms = entry_id_ms(id.str());
  return std::chrono::milliseconds(ms ? std::max<int64_t>(0, now_ms - *ms) : 0);
}

}  // namespace

std::chrono::milliseconds retry_delay(const QueueOptions& options, int32_t attempt) {
  if (options.retry_backoff.count() <= 0) return std::chrono::milliseconds(0);
  std::chrono::milliseconds delay = options.retry_backoff;
  for (int32_t i = 1; i < attempt && delay < options.retry_backoff_max; ++i) delay *= 2;
  return std::min(delay, std::max(options.retry_backoff_max, options.retry_backoff));
}

JobQueue::JobQueue(redis::BlockingClient& client, const Clock& clock, QueueOptions options)
    : client_(client), clock_(clock), options_(options) {
  assert(options_.visibility_timeout.count() > 0 && options_.max_attempts >= 1 &&
         options_.max_deliveries >= 1);
}

int64_t JobQueue::now_ms() const {
  return clock_.unix_ms();
}

Status JobQueue::ensure_group() {
  auto reply = client_.execute(
      Command("XGROUP", "CREATE", keys::media_jobs(), keys::media_jobs_group(), "0", "MKSTREAM"));
  if (!reply) return reply.error();
  if (reply->is_error() && !reply->str().starts_with("BUSYGROUP")) {
    return redis_error("XGROUP CREATE", *reply);
  }
  return {};
}

Result<std::string> JobQueue::enqueue(Job job) {
  if (job.enqueued_at_ms == 0) job.enqueued_at_ms = now_ms();
  auto reply = client_.execute(enqueue_command(job));
  if (!reply) return reply.error();
  if (reply->is_error()) return redis_error("XADD", *reply);
  return std::string(reply->str());
}

Result<std::optional<LeasedJob>> JobQueue::claim_next(std::string_view consumer,
                                                      std::chrono::milliseconds block) {
  const std::string stream(keys::media_jobs());
  const std::string group(keys::media_jobs_group());
  // A second round only after creating a missing group.
  for (int round = 0;; ++round) {
    std::vector<Call> calls;
    calls.push_back(Call{
        Command("ZRANGEBYSCORE", keys::media_jobs_delayed(), "-inf", now_ms(), "LIMIT", 0, promote_batch)});
    calls.push_back(
        script_call(reclaim_script(), {stream},
                    {group, std::string(consumer), std::to_string(options_.visibility_timeout.count())}));
    auto first = execute(client_, std::move(calls));
    if (!first) return first.error();
    const Reply& due = (*first)[0];
    const Reply& reclaim = (*first)[1];
    if (due.is_error()) return redis_error("reading due retries", due);
    if (!due.elements().empty()) {
      std::vector<std::string> records;
      for (const Reply& record : due.elements()) records.emplace_back(record.str());
      if (auto promoted = promote_due(records); !promoted) return promoted.error();
    }
    if (is_missing_group(reclaim) && round == 0) {
      if (auto created = ensure_group(); !created) return created.error();
      continue;
    }
    if (reclaim.is_error()) return redis_error("reclaiming timed-out jobs", reclaim);
    if (reclaim.is_array() && reclaim.elements().size() == 2) {
      return lease_from(reclaim.elements()[1], consumer, reclaim.elements()[0].integer(), true);
    }

    Command read("XREADGROUP", "GROUP", group, consumer, "COUNT", 1);
    if (block.count() > 0) read.arg("BLOCK").arg(block.count());
    read.arg("STREAMS").arg(stream).arg(">");
    auto reply = client_.execute(std::move(read));
    if (!reply) return reply.error();
    if (is_missing_group(*reply) && round == 0) {
      if (auto created = ensure_group(); !created) return created.error();
      continue;
    }
    if (reply->is_error()) return redis_error("XREADGROUP", *reply);
    if (reply->is_nil()) return std::optional<LeasedJob>();
    // [[stream, [[id, fields]]]]
    const auto& streams = reply->elements();
    if (streams.size() != 1 || streams[0].elements().size() != 2 ||
        streams[0].elements()[1].elements().size() != 1) {
      return Error{"job queue: XREADGROUP answered with an unexpected shape"};
    }
    return lease_from(streams[0].elements()[1].elements()[0], consumer, 1, false);
  }
}

Result<std::optional<LeasedJob>> JobQueue::lease_from(const Reply& entry_reply, std::string_view consumer,
                                                      int64_t deliveries, bool reclaimed) {
  auto entry = redis::parse_stream_entry(entry_reply);
  if (!entry) return entry.error();
  auto job = parse_job(*entry);
  if (!job) {
    // Nothing can run it, and left pending it would come back after every visibility timeout.
    LeasedJob malformed{.id = entry->id};
    const Status removed = ack(malformed);
    return Error{fmt::format("{}; {} (fields: {})", job.error().message,
                             removed ? "removed it from the queue" : removed.error().message,
                             describe_fields(entry_reply))};
  }
  LeasedJob lease{.id = entry->id,
                  .consumer = std::string(consumer),
                  .job = std::move(*job),
                  .deliveries = deliveries,
                  .reclaimed = reclaimed};
  if (deliveries > options_.max_deliveries) {
    lease.poison_reason = fmt::format(
        "processing stopped unexpectedly {} times (the worker crashed, was killed or lost Redis); giving up",
        deliveries - 1);
  }
  return std::optional<LeasedJob>(std::move(lease));
}

Status JobQueue::promote_due(const std::vector<std::string>& records) {
  const std::vector<std::string> keys{std::string(keys::media_jobs()),
                                      std::string(keys::media_jobs_delayed())};
  std::vector<Call> calls;
  std::optional<Error> bad;
  for (const std::string& record : records) {
    auto fields = decode_record(record);
    if (!fields) {
      // Only a foreign writer makes one; dropped so it does not block the set.
      calls.push_back(Call{Command("ZREM", keys[1], record)});
      bad = Error{fmt::format("job queue: removed an unreadable delayed retry ({}): {:?}",
                              fields.error().message, record)};
      continue;
    }
    std::vector<std::string> args{record};
    args.insert(args.end(), std::make_move_iterator(fields->begin()), std::make_move_iterator(fields->end()));
    calls.push_back(script_call(promote_script(), keys, args));
  }
  auto replies = execute(client_, std::move(calls));
  if (!replies) return replies.error();
  for (const Reply& reply : *replies) {
    if (reply.is_error()) return redis_error("moving a due retry into the stream", reply);
  }
  if (bad) return *bad;
  return {};
}

Result<bool> JobQueue::heartbeat(const LeasedJob& lease) {
  auto reply =
      execute_one(client_, script_call(heartbeat_script(), {std::string(keys::media_jobs())},
                                       {std::string(keys::media_jobs_group()), lease.consumer, lease.id}));
  if (!reply) return reply.error();
  if (reply->is_error()) return redis_error("heartbeat", *reply);
  return reply->integer() == 1;
}

Status JobQueue::ack(const LeasedJob& lease) {
  auto replies = client_.execute({Command("MULTI"),
                                  Command("XACK", keys::media_jobs(), keys::media_jobs_group(), lease.id),
                                  Command("XDEL", keys::media_jobs(), lease.id), Command("EXEC")});
  if (!replies) return replies.error();
  return redis::check_exec(*replies, "job queue: XACK + XDEL");
}

Result<RetryOutcome> JobQueue::retry_or_fail(const LeasedJob& lease, std::string_view reason) {
  if (lease.poisoned() || lease.job.attempt >= options_.max_attempts) return RetryOutcome::gave_up;
  Job next = lease.job;
  next.attempt += 1;
  next.last_error = std::string(reason);
  std::vector<std::string> fields = encode_fields(next, lease.id);
  std::vector<std::string> args{std::string(keys::media_jobs_group()), lease.consumer, lease.id};
  if (const auto delay = retry_delay(options_, lease.job.attempt); delay.count() > 0) {
    args.push_back(std::to_string(now_ms() + delay.count()));
    args.push_back(encode_record(fields));
  } else {
    args.push_back("0");
    args.emplace_back();
    args.insert(args.end(), std::make_move_iterator(fields.begin()), std::make_move_iterator(fields.end()));
  }
  auto reply = execute_one(
      client_, script_call(retry_script(),
                           {std::string(keys::media_jobs()), std::string(keys::media_jobs_delayed())}, args));
  if (!reply) return reply.error();
  if (reply->is_error()) return redis_error("re-queueing a retry", *reply);
  return reply->integer() == 1 ? RetryOutcome::retried : RetryOutcome::lease_lost;
}

Result<QueueStats> JobQueue::stats() {
  auto replies = client_.execute({Command("XLEN", keys::media_jobs()),
                                  Command("XPENDING", keys::media_jobs(), keys::media_jobs_group()),
                                  Command("ZCARD", keys::media_jobs_delayed()),
                                  Command("XINFO", "GROUPS", keys::media_jobs()), Command("TIME")});
  if (!replies) return replies.error();
  const Reply& length = (*replies)[0];
  const Reply& pending = (*replies)[1];
  const Reply& delayed = (*replies)[2];
  const Reply& groups = (*replies)[3];
  if (length.is_error()) return redis_error("XLEN", length);
  if (delayed.is_error()) return redis_error("ZCARD", delayed);
  if (pending.is_error() && !is_missing_group(pending)) return redis_error("XPENDING", pending);
  // Ages by Redis's clock, which stamped the entry ids: right whatever this host's clock says.
  const std::optional<int64_t> now = redis_time_ms((*replies)[4]);
  if (!now) return redis_error("TIME", (*replies)[4]);

  QueueStats stats;
  stats.length = length.integer();
  stats.delayed = delayed.integer();
  // XPENDING summary: [count, smallest id, greatest id, [[consumer, count], ...]].
  if (pending.is_array() && pending.elements().size() == 4) {
    stats.pending = pending.elements()[0].integer();
    stats.oldest_pending_age = age_of(pending.elements()[1], *now);
    for (const Reply& consumer : pending.elements()[3].elements()) {
      if (consumer.elements().size() == 2) {
        stats.pending_by_consumer.emplace_back(consumer.elements()[0].str(),
                                               consumer.elements()[1].integer());
      }
    }
  }
  stats.waiting = std::max<int64_t>(0, stats.length - stats.pending);
  if (stats.waiting == 0) return stats;

  // The oldest waiting entry is the first after the group's last delivered id (from the start of
  // the stream when the group does not exist yet). XINFO GROUPS: one flat [name, value, ...]
  // array per group; an error when the stream does not exist.
  std::string start = "-";
  for (const Reply& group : groups.elements()) {
    const auto& fields = group.elements();
    std::string_view name, last_delivered;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str() == "name") name = fields[i + 1].str();
      if (fields[i].str() == "last-delivered-id") last_delivered = fields[i + 1].str();
    }
    if (name == keys::media_jobs_group()) start = fmt::format("({}", last_delivered);
  }
  auto first = client_.execute(Command("XRANGE", keys::media_jobs(), start, "+", "COUNT", 1));
  if (!first) return first.error();
  if (first->is_error()) return redis_error("XRANGE", *first);
  if (!first->elements().empty() && !first->elements()[0].elements().empty()) {
    stats.oldest_waiting_age = age_of(first->elements()[0].elements()[0], *now);
  }
  return stats;
}

}  // namespace reel::jobs
