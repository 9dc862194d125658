// Transaction: what a write sees while its SQL transaction is open — the connection, and where its
// Redis deltas go. The write path (writes/write_path.h) begins the transaction, hands it to the
// write, records the deltas in the outbox inside the same transaction, commits, and then applies
// them to Redis.
//
// A delta belongs to one object ("video:12", "user:5", "playlist:7": a lower-case class, ':', a
// decimal id): the unit of ordering. Deltas of one object reach Redis in commit order, each once.
// So that ordering is enough, a delta's commands must be right whenever the object's earlier
// deltas were applied before it: they set values from the transaction's own reads (HSET of a
// counter read back from SQL, ZADD with a score computed from SQL, a whole card re-encoded),
// add or remove members named by the write (ZADD/ZREM, SADD/SREM, HSET/HDEL of one field), or
// delete keys — never INCR a counter blindly. Commands of other objects' keys are allowed only
// where they commute (a member whose identity includes the object, e.g. the user's vote on
// video 12 in a delta of "video:12").
//
// Re-running. The write path runs a write function again, with a fresh Transaction in a fresh SQL
// transaction, when the engine gave the first attempt up for a concurrent write (a deadlock, a
// lock wait timeout, SQLite busy: write_path.h). What the failed attempt emitted and the sequence
// numbers it took are dropped with its rollback. So a write function is a function of what it
// reads through the Transaction and of values it captured: it does not change what it captured
// (beyond the value it returns, overwritten by each attempt), and it does nothing outside the
// transaction (no Redis call, no file, no job queued: those go after run() returned, or in the
// delta). Every write in people/ and auth/ is of this kind.
//
// Thread-safety: used only by the thread running the write, and only during it.
// Failure: lock() returns the engine's Error (the write should return it: the transaction is
// rolled back, nothing is emitted).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "redis/command.h"
#include "sql/connection.h"

namespace reel::writes {

struct Delta {
  std::string object;
  int64_t seq = 0;  // the object's sequence number, from lock()
  std::vector<redis::Command> commands;
};

class Transaction {
 public:
  explicit Transaction(sql::Connection& db) : db_(db) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  sql::Connection& db() { return db_; }

  // Takes the object's next sequence number and (MariaDB) holds its row lock until the
  // transaction ends, so two writes of one object commit one after the other. Call it before
  // reading the state the object's delta is computed from. Locking an object twice in one
  // transaction returns the same number.
  Status lock(std::string_view object);

  // Adds commands to the object's delta (the object must have been locked; asserts otherwise).
  // A write's deltas are applied in the order their objects were locked.
  void emit(std::string_view object, std::vector<redis::Command> commands);

  const std::vector<Delta>& deltas() const { return deltas_; }

  // A well-formed object name: [a-z]{1,16} ':' 1..18 digits.
  static bool valid_object(std::string_view object);

 private:
  sql::Connection& db_;
  // Locked objects, in lock order. Every one is recorded, even with no commands: its sequence
  // number was taken, and the next delta of the object waits for this one.
  std::vector<Delta> deltas_;
};

}  // namespace reel::writes
