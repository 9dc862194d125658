#include "auth/rate_limit.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

#include "auth/redis_status.h"
#include "projection/account_keys.h"
#include "redis/script.h"

namespace reel::auth {
namespace {

namespace account_keys = projection::account_keys;
using std::chrono::milliseconds;

// The scope of the per-account failure cap's windows.
constexpr std::string_view account_failures_scope = "signin-failures";

// The weighted two-window estimate, shared by both scripts. estimate(): events in the window W
// ending now, and the two counters. wait_for(): ms until the estimate is at most `room`, if no
// event is added meanwhile (the previous window's share shrinks linearly; once the current
// window ends its count becomes the previous one's).
constexpr std::string_view window_lua = R"lua(
local function estimate(cur_key, prev_key, elapsed, window)
  local cur = tonumber(redis.call('GET', cur_key) or '0')
  local prev = tonumber(redis.call('GET', prev_key) or '0')
  return cur + prev * (1 - elapsed / window), cur, prev
end
local function wait_for(cur, prev, elapsed, window, room)
  if room < 0 then return window * 2 end
  if cur <= room then
    if prev <= 0 then return 0 end
    return math.max(0, math.ceil(window * (1 - (room - cur) / prev) - elapsed))
  end
  return math.ceil((window - elapsed) + window * (1 - room / cur))
end
)lua";

// KEYS: (current, previous) window per limit. ARGV: (elapsed, window, limit) per limit.
// Returns {allowed (0|1), retry after (ms)}.
const redis::Script& check_script() {
  static const redis::Script script(std::string(window_lua) + R"lua(
local allowed, worst = 1, 0
for i = 1, #KEYS / 2 do
  local elapsed, window, limit = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local est, cur, prev = estimate(KEYS[2 * i - 1], KEYS[2 * i], elapsed, window)
  if est + 1 > limit then
    allowed = 0
    worst = math.max(worst, wait_for(cur, prev, elapsed, window, limit - 1))
  end
end
if allowed == 1 then
  for i = 1, #KEYS / 2 do
    redis.call('INCR', KEYS[2 * i - 1])
    redis.call('PEXPIRE', KEYS[2 * i - 1], 2 * tonumber(ARGV[3 * i - 1]))
  end
end
return {allowed, worst}
)lua");
  return script;
}

// KEYS: the pair's failures, the account's known clients, the account cap's current and previous
// window. ARGV: now (ms), client, elapsed, window, cap. Returns the wait (ms); 0: allowed.
const redis::Script& guard_check_script() {
  static const redis::Script script(std::string(window_lua) + R"lua(
local now = tonumber(ARGV[1])
local wait = math.max(0, tonumber(redis.call('HGET', KEYS[1], 'until') or '0') - now)
local elapsed, window, cap = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local est, cur, prev = estimate(KEYS[3], KEYS[4], elapsed, window)
if est >= cap and redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 0 then
  wait = math.max(wait, wait_for(cur, prev, elapsed, window, cap - 1))
end
return wait
)lua");
  return script;
}

// KEYS: the pair's failures, the account cap's current window. ARGV: now (ms), free failures,
// first lockout, max lockout, forget after, window (all ms). Returns the pair's failure count.
const redis::Script& guard_failed_script() {
  static const redis::Script script(R"lua(
local now, free = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local keep = tonumber(ARGV[5])
if n >= free then
  local lockout = math.min(tonumber(ARGV[3]) * 2 ^ (n - free), tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'until', string.format('%.0f', now + lockout))
  keep = math.max(keep, lockout)
end
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', keep))
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[6]))
return n
)lua");
  return script;
}

// The current and previous window of a limit at `now_ms`, and how far into the current one.
struct Windows {
  std::string current;
  std::string previous;
  int64_t elapsed_ms = 0;
};

Windows windows_of(std::string_view scope, std::string_view subject, milliseconds window, int64_t now_ms) {
  const int64_t index = now_ms / window.count();
  return {account_keys::rate_window(scope, subject, index),
          account_keys::rate_window(scope, subject, index - 1), now_ms % window.count()};
}

}  // namespace

int64_t Verdict::retry_after_seconds() const {
  if (allowed) return 0;
  return std::max<int64_t>(1, (retry_after.count() + 999) / 1000);
}

std::string client_subject(std::string_view address) {
  const std::string text(address);
  std::array<unsigned char, 16> bytes{};
  if (text.find(':') == std::string::npos || inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1)
    return text;
  std::memset(bytes.data() + 8, 0, 8);
  std::array<char, INET6_ADDRSTRLEN> out{};
  inet_ntop(AF_INET6, bytes.data(), out.data(), out.size());
  return std::string(out.data()) + "/64";
}

Task<Result<Verdict>> RateLimiter::check(redis::Connection& redis, std::vector<LimitCheck> checks) const {
  const int64_t now_ms = clock_.unix_ms();
  std::vector<std::string> keys;
  std::vector<std::string> args;
  for (const LimitCheck& check : checks) {
    Windows windows = windows_of(check.scope, check.subject, check.limit.window, now_ms);
    keys.push_back(std::move(windows.current));
    keys.push_back(std::move(windows.previous));
    args.push_back(std::to_string(windows.elapsed_ms));
    args.push_back(std::to_string(check.limit.window.count()));
    args.push_back(std::to_string(check.limit.events));
  }
  Result<redis::Reply> reply = co_await check_script().run(redis, std::move(keys), std::move(args));
  if (Status checked = redis_status(reply, "checking a rate limit"); !checked) co_return checked.error();
  const std::vector<redis::Reply>& values = reply->elements();
  if (values.size() != 2) co_return Error{"checking a rate limit failed: unexpected reply"};
  co_return Verdict{values[0].integer() == 1, milliseconds(values[1].integer())};
}

Task<Result<Verdict>> SignInGuard::check(redis::Connection& redis, std::string_view account,
                                         std::string_view client) const {
  const int64_t now_ms = clock_.unix_ms();
  Windows cap = windows_of(account_failures_scope, account, policy_.account_failures.window, now_ms);
  std::vector<std::string> keys{account_keys::sign_in_failures(account, client),
                                account_keys::sign_in_known(account), std::move(cap.current),
                                std::move(cap.previous)};
  std::vector<std::string> args{std::to_string(now_ms), std::string(client), std::to_string(cap.elapsed_ms),
                                std::to_string(policy_.account_failures.window.count()),
                                std::to_string(policy_.account_failures.events)};
  Result<redis::Reply> reply = co_await guard_check_script().run(redis, std::move(keys), std::move(args));
  if (Status checked = redis_status(reply, "checking the sign-in lockout"); !checked)
    co_return checked.error();
  const milliseconds wait(reply->integer());
  co_return Verdict{wait.count() <= 0, wait};
}

Task<Status> SignInGuard::failed(redis::Connection& redis, std::string_view account,
                                 std::string_view client) const {
  const int64_t now_ms = clock_.unix_ms();
  Windows cap = windows_of(account_failures_scope, account, policy_.account_failures.window, now_ms);
  std::vector<std::string> keys{account_keys::sign_in_failures(account, client), std::move(cap.current)};
  std::vector<std::string> args{std::to_string(now_ms),
                                std::to_string(policy_.free_failures),
                                std::to_string(policy_.first_lockout.count()),
                                std::to_string(policy_.max_lockout.count()),
                                std::to_string(policy_.forget_after.count()),
                                std::to_string(policy_.account_failures.window.count())};
  Result<redis::Reply> reply = co_await guard_failed_script().run(redis, std::move(keys), std::move(args));
  co_return redis_status(reply, "recording a failed sign-in");
}

Task<Status> SignInGuard::succeeded(redis::Connection& redis, std::string_view account,
                                    std::string_view client) const {
  const std::string known = account_keys::sign_in_known(account);
  std::vector<redis::Command> commands;
  commands.emplace_back("DEL", account_keys::sign_in_failures(account, client));
  commands.emplace_back("SADD", known, client);
  commands.emplace_back("PEXPIRE", known, policy_.known_for.count());
  Result<std::vector<redis::Reply>> replies = co_await redis.execute(std::move(commands));
  co_return redis_status(replies, "recording a sign-in");
}

}  // namespace reel::auth
