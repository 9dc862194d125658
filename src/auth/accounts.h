// Accounts: registration, the sign-in check, password and profile changes, roles, deletion.
//
// Writes are functions run inside a writes::Transaction (the write path runs them in one SQL
// transaction, records their deltas in the outbox and applies them to Redis): each locks
// "user:{id}", writes SQL through sql::UserStore and emits the account's projection — u:{id}
// (name, display_name, role, created_at: what a session lookup returns) and the channel hash
// ch:{name} (a new user is an empty channel). The blocking steps around them (password hashing,
// the SQL read of the sign-in check) are async functions that run on pools the caller passes, so
// request handlers call them from their event loop:
//
//   register:  prepare_registration (validation, on the loop) → hasher.hash(hashing_pool) →
//              register_account (write path) → taken? 409 with taken_message : 201
//   sign in:   SignInGuard::check → check_sign_in (SQL pool + hashing pool) → failure: 401 with
//              sign_in_failed_message, SignInGuard::failed; success: SignInGuard::succeeded,
//              SessionStore::create (a new id), and when needs_rehash: rehash + store_rehash
//   change password: check_password_of (old) → check_password (new) → hash → change_password
//              (write path: every session revoked in its delta) → SessionStore::create for the
//              request's user, so the person who changed it stays signed in on this device
//   delete:    (password re-checked by check_password_of) → delete_account (write path)
//
// User enumeration. Sign-in answers one failure for an unknown name, a wrong password, a deleted
// account and a name that is not a valid username, in the same time (PasswordHasher verifies
// against a dummy hash when there is no real one). Registration cannot hide that a name is
// taken — usernames are public handles (/channel/{name}) — but emails are private, so a taken name
// and a taken email give the same answer (taken_message, 409): the response says only that the
// pair cannot be registered. Someone who registers with a fresh name and a victim's email still
// learns the email is registered (no mail verification exists to hide it); that costs one
// registration each, under limits::register_per_client. The password is hashed before the
// duplicate check, so a taken email does not answer faster.
//
// Thread-safety: write functions run on the write path's thread with its Transaction; the async
// functions may run on any event loop (pools and hasher must outlive them).
// Failure: invalid input is an invalid_input Error with a message fit to show; SQL and Redis
// failures are internal Errors; a taken name/email, a wrong password or a missing user are
// outcomes, not errors.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "auth/password.h"
#include "catalog/user.h"
#include "common/asio.h"
#include "common/result.h"
#include "common/work_pool.h"
#include "sql/pool.h"
#include "writes/transaction.h"

namespace reel::auth {

inline constexpr std::string_view sign_in_failed_message = "wrong username or password";
inline constexpr std::string_view taken_message = "that username or email is already registered";

// The normalized fields of a registration (auth/validation.h); display_name starts as the name.
struct NewAccount {
  std::string name;
  std::string email;
  std::string display_name;
  catalog::Role role = catalog::Role::user;
};

// Validates what was typed; the first invalid field's invalid_input Error otherwise.
Result<NewAccount> prepare_registration(std::string_view username, std::string_view email,
                                        std::string_view password);

struct Registered {
  std::optional<catalog::User> user;  // nullopt: the name or the email is taken (taken_message)
};

// Write: inserts the user with `password_hash` (PasswordHasher::hash) and emits u:{id} and
// ch:{name}. A taken name or email writes and emits nothing.
Result<Registered> register_account(writes::Transaction& tx, const NewAccount& account,
                                    std::string_view password_hash, int64_t now);

// Write: the new password hash; every session of the user is revoked (the delta of the user's
// sessions object, account_keys::sessions_object: applied on the sessions node when the site has
// one). false: no such live user.
Result<bool> change_password(writes::Transaction& tx, int64_t user_id, std::string_view password_hash,
                             int64_t now);
// Write: the same hash under the configured cost after a sign-in said needs_rehash; sessions stay.
Result<bool> store_rehash(writes::Transaction& tx, int64_t user_id, std::string_view password_hash);
// Write: the display name (normalize_display_name first); u:{id} and ch:{name} updated.
Result<bool> set_display_name(writes::Transaction& tx, int64_t user_id, std::string_view display_name);
// Write: the role; u:{id} updated, so every session sees it at its next request.
Result<bool> set_role(writes::Transaction& tx, int64_t user_id, catalog::Role role);

// What else goes when an account is deleted, each run inside the deletion's transaction after the
// user is locked and before the row is marked deleted: the parts that own a user's data (votes and
// comments, favorites, playlists, subscriptions, the user's videos) each give a step; the request
// handler (app/account_routes.cc) lists them, since auth is built before those parts.
using AccountRemovalStep = std::function<Status(writes::Transaction& tx, const catalog::User& user)>;

// Write: runs `steps`, marks the user deleted (email,
// password hash and display name cleared; the name stays taken) and emits the removal of u:{id}
// and ch:{name} (the user's delta), then of every session (the delta of the user's sessions
// object, a second step on the sessions node when the site has one: until it lands, the user's
// sessions are refused at lookup anyway, as u:{id} is gone). false: no such live user.
Result<bool> delete_account(writes::Transaction& tx, int64_t user_id, int64_t now,
                            std::span<const AccountRemovalStep> steps);

struct SignInCheck {
  std::optional<catalog::User> user;  // nullopt: sign_in_failed_message, whatever the reason
  bool needs_rehash = false;          // the password matched a hash of another cost
};

// The sign-in check: the user by name (SQL pool), the password verified (hashing pool).
Task<Result<SignInCheck>> check_sign_in(sql::Pool& sql, WorkPool& hashing, const PasswordHasher& hasher,
                                        std::string_view username, std::string password);
// The same for a signed-in user re-entering their password (password change, deletion).
Task<Result<SignInCheck>> check_password_of(sql::Pool& sql, WorkPool& hashing, const PasswordHasher& hasher,
                                            int64_t user_id, std::string password);

}  // namespace reel::auth
