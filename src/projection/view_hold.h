// ViewHold: the side of a tool that needs SQL's daily view counts and Redis' view counts to agree
// (`reel rebuild` of views or videos, `reel backup`) in the cut-over with the view aggregators
// (views/flush.h, "Rebuild cut-over"). begin() sets views:hold to a fresh id (only when no other
// tool holds it), from which moment no aggregator applies view increments (they keep them), and
// returns once every live aggregator has confirmed that the views it applied before are in SQL.
// The hold expires after `ttl` unless renewed (renewal(), sent with the holder's round trips), so
// a holder that dies stops holding; end() removes it if it is still this holder's.
//
// Thread-safety: not thread-safe; the BlockingClient must outlive it.
// Failure: begin() returns an Error when another holder holds view counting, when Redis fails, or
// when an aggregator does not confirm within `confirm_timeout` (call end() then: a hold set before
// the wait failed is removed again); end() an Error when the hold had expired meanwhile. Messages
// start with the holder's name.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"
#include "redis/blocking_client.h"

namespace reel::projection {

struct ViewHoldOptions {
  std::string holder;  // "rebuild", "backup": what an operator reads in errors
  std::chrono::milliseconds ttl{120000};
  std::chrono::milliseconds confirm_timeout{60000};
};

class ViewHold {
 public:
  ViewHold(redis::BlockingClient& redis, ViewHoldOptions options);

  Status begin();
  // PEXPIRE of the hold: renews it when sent (alone or in a batch).
  redis::Command renewal() const;
  // An Error when the hold had expired (views were counted while the holder thought them held).
  Status end();

 private:
  // Polls the aggregators' confirmations; forgets aggregators whose presence expired.
  Status wait_for_confirmations();

  redis::BlockingClient& redis_;
  ViewHoldOptions options_;
  std::string id_;
  bool held_ = false;
};

}  // namespace reel::projection
