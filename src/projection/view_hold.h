// ViewHold: the side of a tool that needs SQL's daily view counts and Redis' view counts to agree
// (`reel rebuild` of views or videos, `reel backup`) in the cut-over with the view aggregators
// (views/flush.h, "Rebuild cut-over"). begin() sets views:hold to a fresh id (only when no other
// tool holds it), from which moment no aggregator applies view increments (they keep them), and
// returns once every live aggregator has confirmed that the views it applied before are in SQL.
// end() removes the hold if it is still this holder's.
//
// Renewal: the hold expires `ttl` after its last renewal, so only a holder that died (or was
// stopped) stops holding. From begin() to end() a thread of the ViewHold renews it every
// min(1 s, ttl / 4), over a Redis connection of its own (same options as the holder's client,
// command timeout at most `ttl`), whatever the holder does meanwhile: one stage of a rebuild may
// read SQL or compute for minutes without a round trip to Redis. A renewal extends the hold only
// while it is still this holder's (one that expired and was taken by another tool stays theirs,
// and renewals stop); a failed one (Redis unreachable) is tried again at the next tick.
//
// Thread-safety: begin() and end() are called from one thread, the holder's, which may go on
// using its BlockingClient meanwhile: the renewing thread uses only its own client, and what it
// reports is read by end() after it has been joined. The BlockingClient must outlive the ViewHold.
// Destroying a ViewHold stops its renewals without removing the hold (end() does that), which
// then expires after `ttl`.
// Failure: begin() returns an Error when the renewals' connection cannot be opened, when another
// holder holds view counting, when Redis fails, or when an aggregator does not confirm within
// `confirm_timeout` (call end() then: a hold set before the wait failed is removed again); end()
// an Error when Redis fails or the hold had expired meanwhile (views may have been counted while
// the holder thought them held; the message then names the last renewal failure, if any), never
// waiting longer than one renewal in flight. Messages start with the holder's name.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

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
  ViewHold(const ViewHold&) = delete;
  ViewHold& operator=(const ViewHold&) = delete;

  // Holds view counting and starts renewing the hold.
  Status begin();
  // Stops the renewals and removes the hold. An Error when the hold had expired (views were
  // counted while the holder thought them held).
  Status end();
  // True once a renewal found the hold gone (it expired while Redis was out of reach, or another
  // tool removed it): views may have been counted meanwhile, so what was built under the hold must
  // not be published; end() reports it. Any thread may ask.
  bool lapsed() const { return lapsed_.load(std::memory_order_acquire); }

 private:
  // Polls the aggregators' confirmations; forgets aggregators whose presence expired.
  Status wait_for_confirmations();
  // The renewing thread: renews the hold over `client` until `stop` is requested or the hold is
  // no longer this holder's.
  void renew(std::stop_token stop, redis::BlockingClient& client);

  redis::BlockingClient& redis_;
  ViewHoldOptions options_;
  std::string id_;
  bool held_ = false;
  std::mutex mutex_;  // for renewal_wait_ only
  std::condition_variable_any renewal_wait_;
  // The last renewal that failed: written by the renewing thread, read by end() once it joined it.
  Status renewal_failure_;
  std::atomic<bool> lapsed_{false};  // set by the renewing thread (lapsed())
  std::jthread renewer_;             // last: stopped and joined before the members it uses are destroyed
};

}  // namespace reel::projection
