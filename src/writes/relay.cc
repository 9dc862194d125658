#include "writes/relay.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <optional>
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
  std::vector<redis::BlockingClient*> all() const {
    if (sessions == nullptr) return {&main};
    return {&main, sessions};
  }
};

// Sends deltas that all go to `redis` (EVAL again when Redis lost the script); one reply per delta.
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
  Result<std::vector<redis::Reply>> replies = send(nodes.of(object), deltas, force);
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
  // A node that could not be reached: its rows stay pending, the other node's land meanwhile.
  std::optional<Error> unreachable;
  for (;;) {
    Result<std::vector<sql::OutboxRow>> rows = outbox.pending(options_.batch);
    if (!rows.ok()) return rows.error();
    std::vector<std::pair<int64_t, Delta>> batch = decode_rows(*rows, stats);

    std::vector<int64_t> landed;
    std::set<std::string> changed;        // objects whose rows this run applied
    std::map<std::string, int64_t> gaps;  // object -> its watermark
    for (redis::BlockingClient* node : nodes.all()) {
      std::vector<size_t> mine;  // positions in `batch` of the rows this node applies
      std::vector<Delta> deltas;
      for (size_t i = 0; i < batch.size(); ++i) {
        if (&nodes.of(batch[i].second.object) != node) continue;
        mine.push_back(i);
        deltas.push_back(batch[i].second);
      }
      if (deltas.empty()) continue;
      Result<std::vector<redis::Reply>> replies =
          send(*node, deltas, std::vector<bool>(deltas.size(), false));
      if (!replies.ok()) {
        unreachable = replies.error();
        continue;
      }
      for (size_t k = 0; k < mine.size(); ++k) {
        const ApplyReply reply = parse_apply_reply((*replies)[k]);
        const auto& [id, delta] = batch[mine[k]];
        if (reply.landing == Landing::applied || reply.landing == Landing::already) {
          landed.push_back(id);
          if (reply.landing == Landing::applied) changed.insert(delta.object);
        } else if (reply.landing == Landing::gap) {
          gaps.emplace(delta.object, reply.watermark);
        } else {
          spdlog::error("outbox row {} ({} #{}): Redis refused it: {}", id, delta.object, delta.seq,
                        reply.error);
          ++stats.failed;
        }
      }
    }
    for (const auto& [object, watermark] : gaps) {
      Result<std::vector<int64_t>> replayed = replay_object(outbox, nodes, object, watermark, stats);
      if (!replayed.ok()) {
        unreachable = replayed.error();
        continue;
      }
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
  if (unreachable) return *unreachable;
  return stats;
}

}  // namespace reel::writes
