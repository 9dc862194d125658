// run_write: runs a write function as writes::WritePath will, for `reel admin create-user` and the
// auth tests until the write path lands (then they call it instead and this goes): begin, a
// Transaction, the write, commit (rollback when the write fails), then each delta's commands
// through the BlockingClient. No outbox: a delta that fails after the commit is reported, not
// replayed. Returns the write's Result, or an Error when SQL or Redis failed around it.
// Thread-safety: one thread, as the Connection and the BlockingClient.
#pragma once

#include <functional>
#include <string>

#include "common/result.h"
#include "redis/blocking_client.h"
#include "sql/connection.h"
#include "writes/transaction.h"

namespace reel::auth {

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
    if (!replies) return Error{"applying the delta of " + delta.object + ": " + replies.error().message};
    for (const redis::Reply& reply : *replies) {
      if (reply.is_error())
        return Error{"applying the delta of " + delta.object + ": " + std::string(reply.str())};
    }
  }
  return result;
}

}  // namespace reel::auth
