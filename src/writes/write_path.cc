#include "writes/write_path.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <thread>

#include "common/log_failure.h"
#include "sql/outbox_store.h"
#include "writes/apply.h"
#include "writes/delta_codec.h"

namespace reel::writes {

namespace {

// One attempt: begin, write, outbox rows, commit; rolled back when any step fails.
Result<std::vector<Delta>> commit_once(sql::Connection& db, const std::function<Status(Transaction&)>& write,
                                       int64_t now) {
  if (Status begun = db.begin(); !begun.ok()) return begun.error();
  auto fail = [&db](const Error& error) -> Error {
    log_failure(db.rollback(), "rolling back a write");
    return error;
  };
  Transaction tx(db);
  if (Status written = write(tx); !written.ok()) return fail(written.error());
  sql::OutboxStore outbox(db);
  for (const Delta& delta : tx.deltas()) {
    Result<int64_t> row = outbox.insert(delta.object, delta.seq, encode(delta.commands), now);
    if (!row.ok()) return fail(row.error());
  }
  if (Status committed = db.commit(); !committed.ok()) return fail(committed.error());
  return tx.deltas();
}

// The pause before attempt `attempt` + 1 (RetryPolicy says how it is drawn).
std::chrono::microseconds backoff(const RetryPolicy& retry, int attempt) {
  const auto first = std::chrono::duration_cast<std::chrono::microseconds>(retry.first_backoff);
  const auto most = std::chrono::duration_cast<std::chrono::microseconds>(retry.max_backoff);
  auto ceiling = first;
  for (int i = 1; i < attempt && ceiling < most; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, most);
  thread_local std::minstd_rand random{std::random_device{}()};
  std::uniform_int_distribution<int64_t> draw(ceiling.count() / 2, ceiling.count());
  return std::chrono::microseconds(draw(random));
}

}  // namespace

Result<std::vector<Delta>> commit_write(sql::Connection& db, const std::function<Status(Transaction&)>& write,
                                        int64_t now, const RetryPolicy& retry,
                                        std::atomic<uint64_t>* retried) {
  for (int attempt = 1;; ++attempt) {
    Result<std::vector<Delta>> deltas = commit_once(db, write, now);
    if (deltas.ok() || !deltas.error().conflict) return deltas;
    if (attempt >= retry.attempts) {
      Error gave_up{
          fmt::format("a concurrent write stopped this one {} time(s): {}", attempt, deltas.error().message)};
      gave_up.conflict = true;
      return gave_up;
    }
    if (retried != nullptr) retried->fetch_add(1, std::memory_order_relaxed);
    // On a pool thread, holding no transaction: the pause keeps only this write waiting.
    std::this_thread::sleep_for(backoff(retry, attempt));
  }
}

Task<Result<std::vector<Delta>>> WritePath::commit(std::function<Status(Transaction&)> write) {
  const int64_t now = clock_.unix_seconds();
  std::function<Result<std::vector<Delta>>(sql::Connection&)> job = [this, write = std::move(write),
                                                                     now](sql::Connection& db) {
    return commit_write(db, write, now, retry_, &retried_);
  };
  Result<std::vector<Delta>> deltas = co_await pool_.run<std::vector<Delta>>(std::move(job));
  if (deltas.ok()) writes_.fetch_add(1, std::memory_order_relaxed);
  co_return deltas;
}

Task<bool> WritePath::apply(std::vector<Delta> deltas) {
  if (deltas.empty()) co_return true;
  std::vector<std::string> objects = objects_of(deltas);
  std::vector<Delta> on_sessions;
  if (&sessions_ != &redis_) {
    auto moved = std::stable_partition(deltas.begin(), deltas.end(),
                                       [](const Delta& delta) { return !on_sessions_node(delta.object); });
    on_sessions.assign(std::make_move_iterator(moved), std::make_move_iterator(deltas.end()));
    deltas.erase(moved, deltas.end());
  }
  bool landed = true;
  if (!deltas.empty()) landed = co_await apply_on(redis_, std::move(deltas));
  if (!on_sessions.empty()) {
    const bool sessions_landed = co_await apply_on(sessions_, std::move(on_sessions));
    landed = landed && sessions_landed;
  }
  if (!landed) not_landed_.fetch_add(1, std::memory_order_relaxed);
  if (landed && changes_ != nullptr) changes_->changed(objects);
  co_return landed;
}

Task<bool> WritePath::apply_on(redis::Connection& redis, std::vector<Delta> deltas) {
  std::vector<redis::Command> commands = apply_commands(deltas, /*force=*/false, /*eval=*/false);
  Result<std::vector<redis::Reply>> replies = co_await redis.execute(std::move(commands));
  if (replies.ok() && needs_eval(*replies)) {
    std::vector<redis::Command> evals = apply_commands(deltas, /*force=*/false, /*eval=*/true);
    replies = co_await redis.execute(std::move(evals));
  }
  co_return replies.ok() && all_landed(*replies);
}

Result<bool> run_blocking(sql::Connection& db, redis::BlockingClient& redis,
                          const std::function<Status(Transaction&)>& write, int64_t now,
                          const RetryPolicy& retry) {
  Result<std::vector<Delta>> deltas = commit_write(db, write, now, retry);
  if (!deltas.ok()) return deltas.error();
  if (deltas->empty()) return true;
  Result<std::vector<redis::Reply>> replies = redis.execute(apply_commands(*deltas, false, false));
  if (replies.ok() && needs_eval(*replies)) replies = redis.execute(apply_commands(*deltas, false, true));
  return replies.ok() && all_landed(*replies);
}

}  // namespace reel::writes
