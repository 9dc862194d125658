// run_write: runs a write function the way writes::WritePath will (one SQL transaction, then the
// deltas applied to Redis), for tests until the write path lands: begin, Transaction, the write,
// commit (rollback when it fails), then each delta's commands through the BlockingClient. Returns
// the write's Result, or an Error when SQL or Redis failed around it.
// Thread-safety: none needed (a test's thread).
#pragma once

#include <functional>
#include <string>

#include "common/result.h"
#include "redis/blocking_client.h"
#include "sql/connection.h"
#include "writes/transaction.h"

namespace reel::auth::testing {

template <class T>
Result<T> run_write(sql::Connection& db, redis::BlockingClient& redis,
                    const std::function<Result<T>(writes::Transaction&)>& write) {
  if (Status begun = db.begin(); !begun) return begun.error();
  writes::Transaction tx(db);
  Result<T> result = write(tx);
  if (!result) {
    if (Status rolled_back = db.rollback(); !rolled_back) return rolled_back.error();
    return result;
  }
  if (Status committed = db.commit(); !committed) return committed.error();
  for (const writes::Delta& delta : tx.deltas()) {
    if (delta.commands.empty()) continue;
    Result<std::vector<redis::Reply>> replies = redis.execute(delta.commands);
    if (!replies) return replies.error();
    for (const redis::Reply& reply : *replies) {
      if (reply.is_error()) return Error{delta.object + ": " + std::string(reply.str())};
    }
  }
  return result;
}

}  // namespace reel::auth::testing
