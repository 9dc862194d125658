// SessionStore: signed-in sessions, kept in Redis so any app server serves any user.
//
// A session's id is random_token() (256 random bits, base64url): the value of the session cookie
// (suggested: `reel_session`, HttpOnly, SameSite=Lax, Secure over https, Path=/, no Max-Age: the
// server decides expiry). Redis keeps it only under its BLAKE2b hash (sql::hash_token), so a
// Redis dump or MONITOR reveals no usable cookie: sess:{hash} = user, csrf, created (Unix ms by the
// Clock); usess:{user} = the set of the user's session hashes (account_keys.h).
//
// Expiry is sliding with a cap: a session lives `idle_timeout` after its last use, and never past
// `absolute_timeout` after it was created. TTLs are relative (PEXPIRE), computed from the Clock's
// now against the session's creation time by the Clock; Redis's own clock only counts them down.
// A lookup renews the TTL only once `renew_after` of it has run down, so most requests only read.
//
// find() is one round trip on a site whose sessions share the main Redis: one script returns the
// session and its user's name, display_name and role from u:{id} (the account's projection),
// renewing when due; a session past its cap is deleted, one whose user hash is missing (account
// deleted) is not returned. With a sessions node of their own ([redis] sessions; docs/capacity.md,
// "splitting by key class") it is two: the session from that node (the same script without the
// user's part), then u:{id} from the main primary — so a role change or a deletion still counts at
// the next request. With a replica of the sessions node ([redis] sessions_read) the session is
// read there first, and from the sessions primary when the replica does not have it (a sign-in
// not replicated yet) or a write is due (renewal, expiry); a revocation therefore reaches lookups
// after the replica's lag. create() always makes a new id (session fixation: an id presented at
// sign-in is revoked, never promoted). revoke() removes one session (sign-out), revoke_all() every
// session of a user (sign out everywhere; password change and account deletion emit the same
// command as a delta of the user's sessions object, account_keys::sessions_object, so it lands
// through the outbox even when Redis fails at the commit).
//
// create(), revoke() and revoke_all() take the event loop's connection to the sessions primary
// (redis::Client::sessions(): the main primary when sessions have no node of their own); find()
// takes SessionNodes.
// Thread-safety: immutable after construction; one SessionStore may serve every event loop; the
// Clock must outlive it. Failure: Redis failures are Errors (the caller answers 503: a lookup
// that fails is not "signed out"); an unknown, expired, malformed or revoked id is nullopt.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/user.h"
#include "common/asio.h"
#include "common/clock.h"
#include "common/result.h"
#include "redis/connection.h"

namespace reel::auth {

struct SessionOptions {
  std::chrono::milliseconds idle_timeout = std::chrono::hours(24 * 14);
  std::chrono::milliseconds absolute_timeout = std::chrono::hours(24 * 90);
  // Renew when the remaining TTL has fallen this far below idle_timeout: at most one write per
  // session a day, and a session used daily never expires before its cap.
  std::chrono::milliseconds renew_after = std::chrono::hours(24);
};

// A new session: what the response sets (the cookie) and hands the client (the CSRF token).
struct NewSession {
  std::string id;  // the cookie value
  std::string csrf;
};

// A live session and the user it belongs to, as the request handler needs them.
struct Session {
  int64_t user_id = 0;
  std::string csrf;
  int64_t created_at_ms = 0;
  std::string name;
  std::string display_name;
  catalog::Role role = catalog::Role::user;
};

// Where one event loop's session lookups go (redis::Client: sessions(), session_reader(),
// writer()). On a site without a sessions node all three are the same connection.
struct SessionNodes {
  redis::Connection& sessions;  // the sessions primary: sess:*, usess:*
  redis::Connection& lookups;   // where find() reads a session first: a replica of `sessions`, or it
  redis::Connection& accounts;  // the main primary, which holds the users' hashes u:{id}
};

class SessionStore {
 public:
  explicit SessionStore(const Clock& clock, SessionOptions options = {});

  const SessionOptions& options() const { return options_; }

  // A new session for `user_id`. `presented`: the session cookie the request carried, if any; it
  // is revoked in the same script (signing in over a session ends that session).
  Task<Result<NewSession>> create(redis::Connection& redis, int64_t user_id,
                                  std::string_view presented = {}) const;
  Task<Result<std::optional<Session>>> find(const SessionNodes& nodes, std::string_view id) const;
  // find() on a site whose sessions share `redis` with everything else.
  Task<Result<std::optional<Session>>> find(redis::Connection& redis, std::string_view id) const {
    co_return co_await find(SessionNodes{redis, redis, redis}, id);
  }
  // Ends one session (sign-out); an unknown id is not an error.
  Task<Status> revoke(redis::Connection& redis, std::string_view id) const;
  // Ends every session of the user.
  Task<Status> revoke_all(redis::Connection& redis, int64_t user_id) const;

 private:
  // The lookup scripts' arguments (session_store.cc) with `mode` "primary" or "replica".
  std::vector<std::string> lookup_args(const std::string& hash, std::string_view mode) const;

  const Clock& clock_;
  SessionOptions options_;
};

}  // namespace reel::auth
