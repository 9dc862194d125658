// OutboxStore: the write path's SQL side (writes/): per-object sequence numbers and the outbox rows
// that carry each write's Redis delta until it has landed. The only code that knows the outbox's
// table names.
//
// Thread-safety: as the Connection it wraps (one thread at a time).
// Failure: every call returns an Error with the engine's message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql {

struct OutboxRow {
  int64_t id = 0;
  std::string object;
  int64_t seq = 0;
  std::string delta;  // the encoded commands (writes/delta_codec.h)
};

class OutboxStore {
 public:
  explicit OutboxStore(Connection& connection) : db_(connection) {}

  // Inside a transaction: increments the object's sequence number (creating it at 1) and returns
  // it. On MariaDB the row stays locked until the transaction ends, which orders writes of one
  // object; SQLite has one writer at a time anyway.
  Result<int64_t> next_seq(std::string_view object);
  // Inside the same transaction: records the delta; returns the row's id.
  Result<int64_t> insert(std::string_view object, int64_t seq, std::string_view delta, int64_t now);

  // Up to `limit` rows not yet marked applied, oldest first.
  Result<std::vector<OutboxRow>> pending(int64_t limit);
  // The object's rows with a sequence number above `seq` (applied or not, while kept), in order.
  Result<std::vector<OutboxRow>> rows_after(std::string_view object, int64_t seq);
  // Marks rows applied at `now` (ids need not be sorted; empty is a no-op).
  Status mark_applied(const std::vector<int64_t>& ids, int64_t now);
  // Deletes rows applied before `before`; returns how many.
  Result<int64_t> purge_applied(int64_t before);
  // Marks every row with an id above `id` pending again (a rebuild replays what it may have
  // overwritten); returns how many.
  Result<int64_t> repend_after(int64_t id);
  // The highest row id so far (0 when empty).
  Result<int64_t> last_id();
  // Every object's sequence number, in object order, in batches for `row_fn` (the rebuild's
  // watermarks); `row_fn` returns false to stop.
  Status for_each_seq(const std::function<bool(std::string_view object, int64_t seq)>& row_fn);
  // Rows not yet applied (for /metrics and tests).
  Result<int64_t> count_pending();

 private:
  Connection& db_;
};

}  // namespace reel::sql
