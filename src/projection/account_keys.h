// Account keys: the Redis names (and the user hash's layout) of accounts, sessions and abuse
// limits — auth/'s keys, spelled here like every other key (docs/keys.md documents each one).
// The user's projection (u:{id} and its channel's ch:{name}) is emitted by the account writes
// through writes::Transaction; sessions and limits are written by auth/ directly (they live only
// in Redis: nothing to rebuild).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/user.h"
#include "redis/command.h"

namespace reel::projection::account_keys {

// hash: name, display_name, role, created_at — what a session lookup returns with the session.
std::string user(int64_t id);
// The prefix of user(): a Lua script builds u:{id} from a session's user id.
std::string_view user_prefix();
std::string user_pattern();  // u:*, for the rebuild's sweep
// set: the hashes of the user's sessions (for "sign out everywhere", a password change, deletion).
std::string user_sessions(int64_t id);
std::string_view user_sessions_prefix();
// hash: one session, under the BLAKE2b hash of its id (auth/session_store.h owns the fields).
std::string session(std::string_view id_hash);
std::string_view session_prefix();
// string: a counter of one sliding-window limit's window (auth/rate_limit.h); expires.
std::string rate_window(std::string_view scope, std::string_view subject, int64_t window);
// hash: failed sign-ins of one account from one client, and its lockout (auth/rate_limit.h).
std::string sign_in_failures(std::string_view account, std::string_view client);
// set: the clients that signed in to the account lately, exempt from its failure cap; expires.
std::string sign_in_known(std::string_view account);

// The fields of user(), in the order session lookups read them (HMGET).
inline constexpr std::string_view user_name_field = "name";
inline constexpr std::string_view user_display_name_field = "display_name";
inline constexpr std::string_view user_role_field = "role";
inline constexpr std::string_view user_created_at_field = "created_at";

// The user's hash: one HSET of every field (the hash has no others), so no reader sees it missing.
redis::Command user_command(const catalog::User& user);

// The write path's object (writes/transaction.h) for the user's sessions: its deltas are the
// sessions and limits class's (docs/capacity.md), which may live on a Redis node of their own
// ([redis] sessions), so a write that ends a user's sessions (password change, deletion) emits
// revoke_sessions_delta() as this object's delta, apart from the user's own ("user:{id}").
inline constexpr std::string_view sessions_object_class = "sessions";
std::string sessions_object(int64_t user_id);

// Removes every session of the user (the keys its set names, then the set), sent alone: one EVAL.
redis::Command revoke_sessions_command(int64_t user_id);
// The same inside a write's delta (codec::delete_members_op; replayed, it removes what is left).
redis::Command revoke_sessions_delta(int64_t user_id);

// What a deleted account leaves in the main Redis: nothing — its hash, its channel's hash (its
// sessions go by revoke_sessions_delta(), in the delta of sessions_object()).
std::vector<redis::Command> user_removal_commands(const catalog::User& user);

}  // namespace reel::projection::account_keys
