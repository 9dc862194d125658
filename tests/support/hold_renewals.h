// Watches the hold on view counting (views:hold, projection/view_hold.h) from a connection of the
// test's own, for suites that check it lasts while its holder is busy elsewhere.
// Thread-safety: as the BlockingClient it is given (one thread at a time).
// Failure: an Error when the hold is missing at any look, or the renewals do not come by the
// (generous) deadline.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "common/result.h"
#include "projection/keys.h"
#include "redis/blocking_client.h"
#include "support/redis_info.h"

namespace reel::testing {

// Returns once views:hold has been renewed `count` times after `lapse` (when it would have expired
// without renewals), seen as its remaining time to live going up, the hold present at every look.
inline Status await_hold_renewals(redis::BlockingClient& observer,
                                  std::chrono::steady_clock::time_point lapse, int count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int64_t last = -1;
  int renewals = 0;
  while (renewals < count) {
    if (std::chrono::steady_clock::now() > deadline)
      return Error{fmt::format("{} renewals of the hold in 60 s, not {}", renewals, count)};
    auto ttl = observer.execute(redis::Command("PTTL", projection::keys::views_hold()));
    if (!ttl) return ttl.error();
    if (ttl->integer() <= 0) {
      return Error{fmt::format("the hold is gone (PTTL {}) after {} renewals past its first time to live",
                               ttl->integer(), renewals)};
    }
    if (last >= 0 && ttl->integer() > last && std::chrono::steady_clock::now() > lapse) ++renewals;
    last = ttl->integer();
    // Polls the condition: the renewals come every ttl / 4 at most.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return {};
}

// EVALs Redis has run since its start (INFO commandstats; 0 before the first), or an Error.
inline Result<int64_t> evals_run(redis::BlockingClient& observer) {
  auto calls = info_number(observer, "commandstats", "cmdstat_eval:calls=");
  if (!calls) return calls.error();
  return calls->value_or(0);
}

// Returns once Redis has run `count` more EVALs than when called: the hold's renewals, for a test
// whose holder sends no other EVAL meanwhile (it is stopped in a progress callback).
inline Status await_renewal_attempts(redis::BlockingClient& observer, int count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto start = evals_run(observer);
  if (!start) return start.error();
  for (;;) {
    auto now_run = evals_run(observer);
    if (!now_run) return now_run.error();
    if (*now_run >= *start + count) return {};
    if (std::chrono::steady_clock::now() > deadline)
      return Error{fmt::format("{} renewal attempts in 60 s, not {}", *now_run - *start, count)};
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polls the condition
  }
}

}  // namespace reel::testing
