#include "sql/outbox_store.h"

#include <fmt/format.h>

namespace reel::sql {
namespace {

constexpr std::string_view bump_seq_sqlite =
    "INSERT INTO outbox_seq (object, seq) VALUES (?, 1) ON CONFLICT (object) DO UPDATE SET seq = seq + 1";
constexpr std::string_view bump_seq_mariadb =
    "INSERT INTO outbox_seq (object, seq) VALUES (?, 1) ON DUPLICATE KEY UPDATE seq = seq + 1";
constexpr std::string_view select_seq = "SELECT seq FROM outbox_seq WHERE object = ?";
constexpr std::string_view insert_row =
    "INSERT INTO outbox (object, seq, delta, created_at) VALUES (?, ?, ?, ?)";
constexpr std::string_view select_pending =
    "SELECT id, object, seq, delta FROM outbox WHERE applied_at IS NULL ORDER BY id LIMIT ?";
constexpr std::string_view select_after =
    "SELECT id, object, seq, delta FROM outbox WHERE object = ? AND seq > ? ORDER BY seq";
constexpr std::string_view delete_applied =
    "DELETE FROM outbox WHERE applied_at IS NOT NULL AND applied_at < ?";
constexpr std::string_view repend = "UPDATE outbox SET applied_at = NULL WHERE id > ?";
constexpr std::string_view select_last_id = "SELECT COALESCE(MAX(id), 0) FROM outbox";
constexpr std::string_view select_seq_batch =
    "SELECT object, seq FROM outbox_seq WHERE object > ? ORDER BY object LIMIT 5000";
constexpr std::string_view count_pending_rows = "SELECT COUNT(*) FROM outbox WHERE applied_at IS NULL";

Result<std::vector<OutboxRow>> read_rows(Connection& db, std::string_view sql, const Params& params) {
  std::vector<OutboxRow> rows;
  Status read = db.query(sql, params, [&](const Row& row) {
    rows.push_back({row.integer(0), row.text(1), row.integer(2), row.text(3)});
    return true;
  });
  if (!read.ok()) return read.error();
  return rows;
}

Result<int64_t> single_integer(Connection& db, std::string_view sql, const Params& params = {}) {
  Result<std::vector<Row>> rows = db.query_all(sql, params);
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return Error{fmt::format("no row from: {}", sql)};
  return rows->front().integer(0);
}

}  // namespace

Result<int64_t> OutboxStore::next_seq(std::string_view object) {
  const std::string name(object);
  Result<int64_t> bumped =
      db_.execute(db_.dialect() == Dialect::sqlite ? bump_seq_sqlite : bump_seq_mariadb, {name});
  if (!bumped.ok()) return bumped.error();
  return single_integer(db_, select_seq, {name});
}

Result<int64_t> OutboxStore::insert(std::string_view object, int64_t seq, std::string_view delta,
                                    int64_t now) {
  Result<int64_t> inserted = db_.execute(insert_row, {std::string(object), seq, std::string(delta), now});
  if (!inserted.ok()) return inserted.error();
  return db_.last_insert_id();
}

Result<std::vector<OutboxRow>> OutboxStore::pending(int64_t limit) {
  return read_rows(db_, select_pending, {limit});
}

Result<std::vector<OutboxRow>> OutboxStore::rows_after(std::string_view object, int64_t seq) {
  return read_rows(db_, select_after, {std::string(object), seq});
}

Status OutboxStore::mark_applied(const std::vector<int64_t>& ids, int64_t now) {
  if (ids.empty()) return {};
  // One statement per call: the ids are numbers the store itself handed out, bound as parameters.
  std::string sql = "UPDATE outbox SET applied_at = ? WHERE id IN (";
  Params params{now};
  for (size_t i = 0; i < ids.size(); ++i) {
    sql += i == 0 ? "?" : ", ?";
    params.emplace_back(ids[i]);
  }
  sql += ")";
  Result<int64_t> marked = db_.execute(sql, params);
  if (!marked.ok()) return marked.error();
  return {};
}

Result<int64_t> OutboxStore::purge_applied(int64_t before) {
  return db_.execute(delete_applied, {before});
}

Result<int64_t> OutboxStore::repend_after(int64_t id) {
  return db_.execute(repend, {id});
}

Result<int64_t> OutboxStore::last_id() {
  return single_integer(db_, select_last_id);
}

Status OutboxStore::for_each_seq(const std::function<bool(std::string_view object, int64_t seq)>& row_fn) {
  std::string after;
  for (;;) {
    std::vector<std::pair<std::string, int64_t>> batch;
    Status read = db_.query(select_seq_batch, {after}, [&](const Row& row) {
      batch.emplace_back(row.text(0), row.integer(1));
      return true;
    });
    if (!read.ok()) return read;
    for (const auto& [object, seq] : batch) {
      if (!row_fn(object, seq)) return {};
    }
    if (batch.size() < 5000) return {};
    after = batch.back().first;
  }
}

Result<int64_t> OutboxStore::count_pending() {
  return single_integer(db_, count_pending_rows);
}

}  // namespace reel::sql
