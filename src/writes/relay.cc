#include "writes/relay.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <set>

#include "projection/keys.h"
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

// Where a row's delta goes: the sessions node for the sessions class when there is one.
struct Nodes {
  redis::BlockingClient& main;
  redis::BlockingClient* sessions = nullptr;

  redis::BlockingClient& of(std::string_view object) const {
    return sessions != nullptr && on_sessions_node(object) ? *sessions : main;
  }
};

// Sends deltas that all go to `redis` (EVAL again when Redis lost the script); one reply per delta.
Result<std::vector<redis::Reply>> send_to(redis::BlockingClient& redis, const std::vector<Delta>& deltas,
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

// Sends the batch, each delta to its node (one pipelined round trip per node); one reply per
// delta, in the batch's order.
Result<std::vector<redis::Reply>> send(const Nodes& nodes, const std::vector<Delta>& deltas,
                                       const std::vector<bool>& force) {
  if (nodes.sessions == nullptr) return send_to(nodes.main, deltas, force);
  std::vector<redis::Reply> replies(deltas.size());
  for (redis::BlockingClient* node : {&nodes.main, nodes.sessions}) {
    std::vector<size_t> positions;
    std::vector<Delta> part;
    std::vector<bool> part_force;
    for (size_t i = 0; i < deltas.size(); ++i) {
      if (&nodes.of(deltas[i].object) != node) continue;
      positions.push_back(i);
      part.push_back(deltas[i]);
      part_force.push_back(force[i]);
    }
    if (part.empty()) continue;
    Result<std::vector<redis::Reply>> answered = send_to(*node, part, part_force);
    if (!answered.ok()) return answered.error();
    for (size_t k = 0; k < positions.size(); ++k) replies[positions[k]] = std::move((*answered)[k]);
  }
  return replies;
}

// Applies the object's kept rows above `watermark`, in order; the first one present goes in even
// when rows in between are gone (purged, or numbers whose write rolled back). Returns the ids of
// the rows that landed (up to the first that did not); counts those it applied in `replayed`.
Result<std::vector<int64_t>> replay_object(sql::OutboxStore& outbox, const Nodes& nodes,
                                           const std::string& object, int64_t watermark, RelayStats& stats) {
  Result<std::vector<sql::OutboxRow>> after = outbox.rows_after(object, watermark);
  if (!after.ok()) return after.error();
  std::vector<std::pair<int64_t, Delta>> replay = decode_rows(*after, stats);
  std::vector<int64_t> landed;
  if (replay.empty()) return landed;
  std::vector<Delta> deltas;
  std::vector<bool> force;
  for (const auto& [id, delta] : replay) {
    force.push_back(deltas.empty() && delta.seq != watermark + 1);
    deltas.push_back(delta);
  }
  if (force.front()) {
    spdlog::warn("outbox: {} rows of {} after #{} are gone; applying #{} over the gap", object,
                 deltas.front().seq - watermark - 1, watermark, deltas.front().seq);
  }
  Result<std::vector<redis::Reply>> replies = send(nodes, deltas, force);
  if (!replies.ok()) return replies.error();
  for (size_t i = 0; i < replay.size(); ++i) {
    const Landing landing = parse_apply_reply((*replies)[i]).landing;
    if (landing != Landing::applied && landing != Landing::already) break;
    landed.push_back(replay[i].first);
    if (landing == Landing::applied) ++stats.replayed;
  }
  return landed;
}

}  // namespace

Result<int64_t> rebase_watermarks(sql::Connection& db, redis::BlockingClient& redis,
                                  const std::vector<std::pair<std::string, int64_t>>& objects) {
  if (objects.empty()) return int64_t{0};
  std::vector<redis::Command> resets;
  for (const auto& [object, seq] : objects) {
    const projection::keys::HashField watermark = projection::keys::write_seq(object);
    resets.push_back(seq == 0 ? redis::Command("HDEL", watermark.key, watermark.field)
                              : redis::Command("HSET", watermark.key, watermark.field, seq));
  }
  Result<std::vector<redis::Reply>> reset = redis.execute(std::move(resets));
  if (!reset.ok()) return reset.error();
  for (const redis::Reply& reply : *reset) {
    if (reply.is_error()) return Error{fmt::format("resetting a watermark: {}", reply.str())};
  }
  sql::OutboxStore outbox(db);
  RelayStats stats;
  for (const auto& [object, seq] : objects) {
    Result<std::vector<int64_t>> replayed = replay_object(outbox, Nodes{redis}, object, seq, stats);
    if (!replayed.ok()) return replayed.error();
  }
  return stats.replayed;
}

Result<RelayStats> Relay::run_once() {
  RelayStats stats;
  sql::OutboxStore outbox(db_);
  const Nodes nodes{redis_, options_.sessions};
  for (;;) {
    Result<std::vector<sql::OutboxRow>> rows = outbox.pending(options_.batch);
    if (!rows.ok()) return rows.error();
    std::vector<std::pair<int64_t, Delta>> batch = decode_rows(*rows, stats);
    std::vector<Delta> deltas;
    for (const auto& [id, delta] : batch) deltas.push_back(delta);
    Result<std::vector<redis::Reply>> replies = send(nodes, deltas, std::vector<bool>(deltas.size(), false));
    if (!replies.ok()) return replies.error();

    std::vector<int64_t> landed;
    std::set<std::string> changed;        // objects whose rows this run applied
    std::map<std::string, int64_t> gaps;  // object -> its watermark
    for (size_t i = 0; i < batch.size(); ++i) {
      const ApplyReply reply = parse_apply_reply((*replies)[i]);
      const Delta& delta = batch[i].second;
      if (reply.landing == Landing::applied || reply.landing == Landing::already) {
        landed.push_back(batch[i].first);
        if (reply.landing == Landing::applied) changed.insert(delta.object);
      } else if (reply.landing == Landing::gap) {
        gaps.emplace(delta.object, reply.watermark);
      } else {
        spdlog::error("outbox row {} ({} #{}): Redis refused it: {}", batch[i].first, delta.object, delta.seq,
                      reply.error);
        ++stats.failed;
      }
    }
    for (const auto& [object, watermark] : gaps) {
      Result<std::vector<int64_t>> replayed = replay_object(outbox, nodes, object, watermark, stats);
      if (!replayed.ok()) return replayed.error();
      landed.insert(landed.end(), replayed->begin(), replayed->end());
      if (!replayed->empty()) changed.insert(object);
    }
    if (options_.changes != nullptr && !changed.empty()) {
      const std::vector<std::string> objects(changed.begin(), changed.end());
      options_.changes->changed(objects);
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
