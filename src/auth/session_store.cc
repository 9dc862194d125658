#include "auth/session_store.h"

#include <algorithm>
#include <vector>

#include "auth/redis_status.h"
#include "auth/token.h"
#include "projection/account_keys.h"
#include "redis/script.h"
#include "sql/token_store.h"

namespace reel::auth {
namespace {

namespace account_keys = projection::account_keys;
using std::chrono::milliseconds;

// KEYS: the new session, the user's session set[, the presented session].
// ARGV: user id, csrf, created (ms), ttl (ms), the new hash, session prefix, session-set prefix
// [, the presented hash]. Dead members of the set (expired sessions) are pruned here, at sign-in,
// so the set stays as small as the user's live sessions.
const redis::Script& create_script() {
  static const redis::Script script(R"lua(
if KEYS[3] then
  local owner = redis.call('HGET', KEYS[3], 'user')
  if owner then
    redis.call('SREM', ARGV[7] .. owner, ARGV[8])
    redis.call('UNLINK', KEYS[3])
  end
end
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'csrf', ARGV[2], 'created', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
for _, hash in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[6] .. hash) == 0 then redis.call('SREM', KEYS[2], hash) end
end
redis.call('SADD', KEYS[2], ARGV[5])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return 1
)lua");
  return script;
}

// The lookup, in parts: find_script() puts them together for a site whose sessions share the
// main Redis (one round trip), session_script() leaves the user's hash out for a sessions node of
// its own (the hash is read from the main primary afterwards).
// KEYS: the session. ARGV: now (ms), idle (ms), absolute (ms), renew_after (ms), the hash, user
// prefix, session-set prefix, mode ("primary", or "replica": write nothing, answer 'primary' when
// the primary must decide), then the user hash's fields (name, display_name, role).
// A session past its cap is deleted; one whose user hash is missing is refused but kept: a deleted
// account's sessions go with it (its deletion's delta), and a user hash missing for another reason
// (a rebuild under way) must not sign everyone out for good. On a replica a missing session may be
// one not replicated yet: the primary is asked.
constexpr std::string_view lookup_session_lua = R"lua(
local replica = ARGV[8] == 'replica'
local s = redis.call('HMGET', KEYS[1], 'user', 'csrf', 'created')
if not s[1] then
  if replica then return 'primary' end
  return false
end
local left = tonumber(s[3]) + tonumber(ARGV[3]) - tonumber(ARGV[1])
if left <= 0 then
  if replica then return 'primary' end
  redis.call('UNLINK', KEYS[1])
  redis.call('SREM', ARGV[7] .. s[1], ARGV[5])
  return false
end
)lua";
constexpr std::string_view lookup_user_lua = R"lua(
local u = redis.call('HMGET', ARGV[6] .. s[1], ARGV[9], ARGV[10], ARGV[11])
if not u[1] then return false end
)lua";
constexpr std::string_view renew_session_lua = R"lua(
local want = math.min(tonumber(ARGV[2]), left)
local ttl = redis.call('PTTL', KEYS[1])
if ttl > want or ttl <= want - tonumber(ARGV[4]) then
  if replica then return 'primary' end
  redis.call('PEXPIRE', KEYS[1], want)
  local set = ARGV[7] .. s[1]
  if redis.call('PTTL', set) < want then redis.call('PEXPIRE', set, want) end
end
)lua";

// Returns false, or {user, csrf, created, name, display_name, role}.
const redis::Script& find_script() {
  static const redis::Script script(std::string(lookup_session_lua) + std::string(lookup_user_lua) +
                                    std::string(renew_session_lua) +
                                    "return {s[1], s[2], s[3], u[1], u[2] or '', u[3] or ''}\n");
  return script;
}

// Returns false, 'primary' (mode replica only), or {user, csrf, created}.
const redis::Script& session_script() {
  static const redis::Script script(std::string(lookup_session_lua) + std::string(renew_session_lua) +
                                    "return {s[1], s[2], s[3]}\n");
  return script;
}

// KEYS: the session. ARGV: the hash, session-set prefix.
const redis::Script& revoke_script() {
  static const redis::Script script(R"lua(
local owner = redis.call('HGET', KEYS[1], 'user')
if not owner then return 0 end
redis.call('SREM', ARGV[2] .. owner, ARGV[1])
return redis.call('UNLINK', KEYS[1])
)lua");
  return script;
}

// A Session from the lookup's replies: the session's user, csrf and created, the user's name,
// display name and role (nil reads as empty).
Session session_of(const redis::Reply& user, const redis::Reply& csrf, const redis::Reply& created,
                   const redis::Reply& name, const redis::Reply& display_name, const redis::Reply& role) {
  Session session;
  session.user_id = user.integer();
  session.csrf = std::string(csrf.str());
  session.created_at_ms = created.integer();
  session.name = std::string(name.str());
  session.display_name = std::string(display_name.str());
  session.role = catalog::parse_role(role.str()).value_or(catalog::Role::user);
  return session;
}

}  // namespace

SessionStore::SessionStore(const Clock& clock, SessionOptions options) : clock_(clock), options_(options) {}

Task<Result<NewSession>> SessionStore::create(redis::Connection& redis, int64_t user_id,
                                              std::string_view presented) const {
  NewSession session{random_token(), random_token()};
  const std::string hash = sql::hash_token(session.id);
  const milliseconds ttl = std::min(options_.idle_timeout, options_.absolute_timeout);
  std::vector<std::string> keys{account_keys::session(hash), account_keys::user_sessions(user_id)};
  std::vector<std::string> args{std::to_string(user_id),
                                session.csrf,
                                std::to_string(clock_.unix_ms()),
                                std::to_string(ttl.count()),
                                hash,
                                std::string(account_keys::session_prefix()),
                                std::string(account_keys::user_sessions_prefix())};
  if (well_formed_token(presented)) {
    std::string presented_hash = sql::hash_token(presented);
    keys.push_back(account_keys::session(presented_hash));
    args.push_back(std::move(presented_hash));
  }
  Result<redis::Reply> reply = co_await create_script().run(redis, std::move(keys), std::move(args));
  if (Status created = redis_status(reply, "creating a session"); !created) co_return created.error();
  co_return session;
}

std::vector<std::string> SessionStore::lookup_args(const std::string& hash, std::string_view mode) const {
  return {std::to_string(clock_.unix_ms()),
          std::to_string(options_.idle_timeout.count()),
          std::to_string(options_.absolute_timeout.count()),
          std::to_string(options_.renew_after.count()),
          hash,
          std::string(account_keys::user_prefix()),
          std::string(account_keys::user_sessions_prefix()),
          std::string(mode),
          std::string(account_keys::user_name_field),
          std::string(account_keys::user_display_name_field),
          std::string(account_keys::user_role_field)};
}

Task<Result<std::optional<Session>>> SessionStore::find(const SessionNodes& nodes,
                                                        std::string_view id) const {
  if (!well_formed_token(id)) co_return std::optional<Session>{};
  const std::string hash = sql::hash_token(id);
  std::vector<std::string> keys{account_keys::session(hash)};
  // One Redis for everything: the session and its user in one script.
  if (&nodes.sessions == &nodes.accounts) {
    std::vector<std::string> args = lookup_args(hash, "primary");
    Result<redis::Reply> reply = co_await find_script().run(nodes.sessions, std::move(keys), std::move(args));
    if (Status found = redis_status(reply, "looking up a session"); !found) co_return found.error();
    if (!reply->is_array()) co_return std::optional<Session>{};
    const std::vector<redis::Reply>& fields = reply->elements();
    if (fields.size() != 6) co_return Error{"looking up a session failed: unexpected reply"};
    co_return std::optional<Session>{
        session_of(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5])};
  }
  // A sessions node: the session there (its replica first, when there is one), then the user's
  // hash on the main primary, so a role change or a deletion counts at the next request.
  const bool on_replica = &nodes.lookups != &nodes.sessions;
  std::vector<std::string> args = lookup_args(hash, on_replica ? "replica" : "primary");
  std::vector<std::string> first_keys = keys;
  Result<redis::Reply> reply =
      co_await session_script().run(nodes.lookups, std::move(first_keys), std::move(args));
  if (Status found = redis_status(reply, "looking up a session"); !found) co_return found.error();
  if (on_replica && !reply->is_array() && reply->str() == "primary") {
    std::vector<std::string> on_primary = lookup_args(hash, "primary");
    reply = co_await session_script().run(nodes.sessions, std::move(keys), std::move(on_primary));
    if (Status found = redis_status(reply, "looking up a session"); !found) co_return found.error();
  }
  if (!reply->is_array()) co_return std::optional<Session>{};
  const std::vector<redis::Reply> session = reply->elements();
  if (session.size() != 3) co_return Error{"looking up a session failed: unexpected reply"};
  redis::Command read_user("HMGET", account_keys::user(session[0].integer()), account_keys::user_name_field,
                           account_keys::user_display_name_field, account_keys::user_role_field);
  Result<redis::Reply> user = co_await nodes.accounts.execute(std::move(read_user));
  if (Status found = redis_status(user, "looking up a session's user"); !found) co_return found.error();
  if (!user->is_array() || user->elements().size() != 3)
    co_return Error{"looking up a session's user failed: unexpected reply"};
  const std::vector<redis::Reply>& fields = user->elements();
  if (fields[0].is_nil()) co_return std::optional<Session>{};  // the account is gone
  co_return std::optional<Session>{
      session_of(session[0], session[1], session[2], fields[0], fields[1], fields[2])};
}

Task<Status> SessionStore::revoke(redis::Connection& redis, std::string_view id) const {
  if (!well_formed_token(id)) co_return Status{};
  const std::string hash = sql::hash_token(id);
  std::vector<std::string> keys{account_keys::session(hash)};
  std::vector<std::string> args{hash, std::string(account_keys::user_sessions_prefix())};
  Result<redis::Reply> reply = co_await revoke_script().run(redis, std::move(keys), std::move(args));
  co_return redis_status(reply, "revoking a session");
}

Task<Status> SessionStore::revoke_all(redis::Connection& redis, int64_t user_id) const {
  redis::Command command = account_keys::revoke_sessions_command(user_id);
  Result<redis::Reply> reply = co_await redis.execute(std::move(command));
  co_return redis_status(reply, "revoking the user's sessions");
}

}  // namespace reel::auth
