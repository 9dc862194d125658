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

}  // namespace reel::testing
