// Abuse limits kept in Redis, shared by every app server: sliding-window rate limits (per client
// address and per account) and the sign-in lockout.
//
// Rate limits. A limit is N events per window W, counted with the weighted two-window
// approximation: counters for the current fixed window and the previous one, and the estimate
// cur + prev × (1 − elapsed/W) of the events in the W that ends now (one key per window,
// rl:{scope}:{subject}:{index}, expiring after 2 W). An event is allowed when the estimate stays
// within every limit checked with it; only allowed events are counted (a refused client is not
// pushed further back). A refusal says how long until the event would fit (Retry-After). check()
// of several limits (the same action per address and per account) is one script, one round
// trip, and counts the event in all of them or none.
//
// Sign-in lockout, which must stop password guessing without handing an attacker a way to lock
// the owner out:
// - Failures are counted per account and client (address): after `free_failures` the pair is
//   locked out for `first_lockout`, doubling with each further failure up to `max_lockout`;
//   the count is forgotten `forget_after` after the last failure. Only the owner's own address
//   (or one shared with the attacker, e.g. a NAT) is ever locked out this way, briefly.
// - Failures per account from all clients are capped too (`account_failures`), against guessing
//   spread over many addresses. Over the cap, the account refuses sign-ins from clients that have
//   not signed in to it successfully lately (`known_for`): the owner's usual addresses keep
//   working while a botnet is refused, and the cap is a sliding window, so it lifts within one
//   window of the attack stopping.
// - An account that does not exist is counted like one that does, so the lockout reveals nothing.
// The caller checks before verifying a password (a locked attempt never costs a hash) and
// records the outcome after.
// Times come from the Clock (windows, lockout ends); TTLs are relative (PEXPIRE).
//
// Thread-safety: immutable after construction; share one among event loops; the Clock must
// outlive it. Failure: Redis failures are Errors; the caller decides whether to fail open (votes)
// or closed (sign-in).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "common/clock.h"
#include "common/result.h"
#include "redis/connection.h"

namespace reel::auth {

struct Limit {
  int64_t events = 0;  // at least 1
  std::chrono::milliseconds window{};
};

// One limit to check: the action (scope) and who does it (subject: client_subject(address), or
// the account's id or name).
struct LimitCheck {
  std::string_view scope;
  std::string_view subject;
  Limit limit;
};

struct Verdict {
  bool allowed = true;
  std::chrono::milliseconds retry_after{0};  // when refused: how long until it would be allowed
  // Retry-After in whole seconds, rounded up (at least 1 when refused).
  int64_t retry_after_seconds() const;
};

// The default limits, in one place. Per client address (client_subject) and per account.
namespace limits {
using namespace std::chrono_literals;
inline constexpr Limit sign_in_per_client{30, 10min};
inline constexpr Limit register_per_client{5, 60min};
inline constexpr Limit comment_per_account{10, 1min};
inline constexpr Limit comment_per_client{30, 1min};
inline constexpr Limit vote_per_account{60, 1min};
inline constexpr Limit vote_per_client{200, 1min};
inline constexpr Limit upload_per_account{20, 60min};
inline constexpr Limit upload_per_client{30, 60min};
}  // namespace limits

// The subject for a client address: an IPv4 address as is; an IPv6 address as its /64 (one
// customer's allocation, which they can fill with addresses at will); anything else as is.
std::string client_subject(std::string_view address);

class RateLimiter {
 public:
  explicit RateLimiter(const Clock& clock) : clock_(clock) {}

  // Allowed when every limit allows one more event; then it is counted in each.
  Task<Result<Verdict>> check(redis::Connection& redis, std::vector<LimitCheck> checks) const;

 private:
  const Clock& clock_;
};

struct LockoutPolicy {
  int64_t free_failures = 5;
  std::chrono::milliseconds first_lockout = std::chrono::seconds(2);
  std::chrono::milliseconds max_lockout = std::chrono::minutes(15);
  std::chrono::milliseconds forget_after = std::chrono::minutes(15);
  Limit account_failures{100, std::chrono::minutes(15)};
  std::chrono::milliseconds known_for = std::chrono::hours(24 * 30);
};

class SignInGuard {
 public:
  explicit SignInGuard(const Clock& clock, LockoutPolicy policy = {}) : clock_(clock), policy_(policy) {}

  // Whether `client` may try to sign in to `account` (the normalized username) now.
  Task<Result<Verdict>> check(redis::Connection& redis, std::string_view account,
                              std::string_view client) const;
  // The attempt failed (wrong password, or no such account).
  Task<Status> failed(redis::Connection& redis, std::string_view account, std::string_view client) const;
  // The attempt succeeded: the pair's failures are forgotten and the client becomes known.
  Task<Status> succeeded(redis::Connection& redis, std::string_view account, std::string_view client) const;

 private:
  const Clock& clock_;
  LockoutPolicy policy_;
};

}  // namespace reel::auth
