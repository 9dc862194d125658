#include "writes/relay.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>

#include "sql/outbox_store.h"
#include "writes/apply.h"
#include "writes/delta_codec.h"

namespace reel::writes {
namespace {

// Rows as deltas; rows that cannot be decoded are logged and left out (`failed` counts them).
std::vector<std::pair<int64_t, Delta>> decode_rows(const std::vector<sql::OutboxRow>& rows,
                                                   RelayStats& stats) {
  std::vector<std::pair<int64_t, Delta>> deltas;
  for (const sql::OutboxRow& row : rows) {
    Result<std::vector<redis::Command>> commands = decode(row.delta);
    if (!commands.ok()) {
      spdlog::error("outbox row {} ({} #{}): {}", row.id, row.object, row.seq, commands.error().message);
      ++stats.failed;
      continue;
    }
    deltas.push_back({row.id, Delta{row.object, row.seq, std::move(*commands)}});
  }
  return deltas;
}

// Sends the batch (EVAL again when Redis lost the script); one reply per command.
Result<std::vector<redis::Reply>> send(redis::BlockingClient& redis, const std::vector<Delta>& deltas,
                                       const std::vector<bool>& force) {
  auto build = [&](bool eval) {
    std::vector<redis::Command> commands;
    for (size_t i = 0; i < deltas.size(); ++i) commands.push_back(apply_command(deltas[i], force[i], eval));
    return commands;
  };
  Result<std::vector<redis::Reply>> replies = redis.execute(build(false));
  if (replies.ok() && needs_eval(*replies)) replies = redis.execute(build(true));
  if (replies.ok() && replies->size() != deltas.size())
    return Error{"Redis answered a batch of the wrong size"};
  return replies;
}

}  // namespace

Result<RelayStats> Relay::run_once() {
  RelayStats stats;
  sql::OutboxStore outbox(db_);
  for (;;) {
    Result<std::vector<sql::OutboxRow>> rows = outbox.pending(options_.batch);
    if (!rows.ok()) return rows.error();
    std::vector<std::pair<int64_t, Delta>> batch = decode_rows(*rows, stats);
    std::vector<Delta> deltas;
    for (const auto& [id, delta] : batch) deltas.push_back(delta);
    Result<std::vector<redis::Reply>> replies = send(redis_, deltas, std::vector<bool>(deltas.size(), false));
    if (!replies.ok()) return replies.error();

    std::vector<int64_t> landed;
    std::map<std::string, int64_t> gaps;  // object -> its watermark
    for (size_t i = 0; i < batch.size(); ++i) {
      const ApplyReply reply = parse_apply_reply((*replies)[i]);
      const Delta& delta = batch[i].second;
      if (reply.landing == Landing::applied || reply.landing == Landing::already) {
        landed.push_back(batch[i].first);
      } else if (reply.landing == Landing::gap) {
        gaps.emplace(delta.object, reply.watermark);
      } else {
        spdlog::error("outbox row {} ({} #{}): Redis refused it: {}", batch[i].first, delta.object, delta.seq,
                      reply.error);
        ++stats.failed;
      }
    }
    for (const auto& [object, watermark] : gaps) {
      Result<std::vector<sql::OutboxRow>> after = outbox.rows_after(object, watermark);
      if (!after.ok()) return after.error();
      std::vector<std::pair<int64_t, Delta>> replay = decode_rows(*after, stats);
      if (replay.empty()) continue;
      std::vector<Delta> replay_deltas;
      std::vector<bool> force;
      for (const auto& [id, delta] : replay) {
        // The first row present after the watermark goes in even when rows in between are gone.
        force.push_back(replay_deltas.empty() && delta.seq != watermark + 1);
        replay_deltas.push_back(delta);
      }
      if (force.front()) {
        spdlog::warn("outbox: {} rows of {} after #{} are gone; applying #{} over the gap", object,
                     replay_deltas.front().seq - watermark - 1, watermark, replay_deltas.front().seq);
      }
      Result<std::vector<redis::Reply>> replayed = send(redis_, replay_deltas, force);
      if (!replayed.ok()) return replayed.error();
      for (size_t i = 0; i < replay.size(); ++i) {
        const Landing landing = parse_apply_reply((*replayed)[i]).landing;
        if (landing != Landing::applied && landing != Landing::already) break;
        landed.push_back(replay[i].first);
        if (landing == Landing::applied) ++stats.replayed;
      }
    }
    if (Status marked = outbox.mark_applied(landed, clock_.unix_seconds()); !marked.ok())
      return marked.error();
    stats.landed += static_cast<int64_t>(landed.size());
    // A short batch was the last; a batch where nothing landed would only come back the same.
    if (static_cast<int64_t>(rows->size()) < options_.batch || landed.empty()) break;
  }
  const int64_t cutoff = clock_.unix_seconds() - options_.retention.count();
  if (Result<int64_t> purged = outbox.purge_applied(cutoff); !purged.ok()) return purged.error();
  return stats;
}

}  // namespace reel::writes
