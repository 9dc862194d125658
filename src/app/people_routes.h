// PeopleRoutes: accounts, sessions and (with the community and collections parts) every call a
// signed-in person makes — the API under /api/v1 and the account pages — on one event loop.
//
// Accounts and sessions (the API clients rely on; errors are {"error": "..."} with a 4xx):
//   POST   /api/v1/users        {"username","email","password"} -> 201 {user}; from the register
//                               form it also signs the new user in
//   POST   /api/v1/session      {"username","password"} -> 200 {"csrf", "user"} and the cookie
//                               reel_session (HttpOnly, SameSite=Lax, Secure over https)
//   DELETE /api/v1/session      -> 204, the session ended and the cookie cleared
//   GET    /api/v1/me           -> the signed-in user, or 401
//   PATCH  /api/v1/me           {"display_name"} -> 200 {user}
//   DELETE /api/v1/me           {"password"} -> 204: the account is deleted
//   PUT    /api/v1/me/password  {"old_password","password"} -> 204: every other session ends
//   DELETE /api/v1/me/sessions  -> 204: signed out everywhere
//   GET    /signin /register /account: the forms (no-store; never cached)
// Votes and comments:
//   PUT    /api/v1/videos/{id}/vote       {"value": 1 | -1 | 0} -> 200 {"likes","dislikes","mine"}
//   POST   /api/v1/videos/{id}/comments   {"body", "parent"?} -> 201 {"id"}
//   GET    /api/v1/videos/{id}/comments?sort=new|top&page=N (&parent=C: its replies, oldest first)
//          -> {"comments": [...], "total", "page", "pages"}
//   PATCH  /api/v1/comments/{id}          {"body"} -> 200 the comment (its author only: 403)
//   DELETE /api/v1/comments/{id}          -> 204 (its author only)
// Favorites, playlists, subscriptions and the feed:
//   PUT|DELETE /api/v1/me/favorites/{video}      -> 200 {"video","favorite"}; GET /api/v1/me/favorites
//   POST   /api/v1/playlists {"title","public", "video"?} -> 201 {"id"}
//   GET    /api/v1/playlists/{id}?page=N -> {"playlist", "videos", "total", "page", "pages"} (a
//          private one only for its owner: 404 for anyone else)
//   PATCH  /api/v1/playlists/{id} {"title"?, "public"?}; DELETE /api/v1/playlists/{id}
//   POST|DELETE /api/v1/playlists/{id}/videos/{video}; PUT /api/v1/playlists/{id}/order {"videos"};
//   PUT /api/v1/playlists/{id}/videos/{video} {"position"}: that one moves (from 1), the rest keep order
//   GET    /api/v1/me/playlists
//   PUT|DELETE /api/v1/me/subscriptions/{channel} -> 200 {"channel","subscribed","subscribers"};
//   GET    /api/v1/me/subscriptions; GET /api/v1/me/feed?page=N (newest videos of followed channels)
// Their pages (HTML; ?page=N): /me/favorites, /me/videos (the viewer's channel), /me/playlists,
// /subscriptions (the feed and the channels followed) — signed out: a 303 to /signin — and
// /playlist/{id} (a private one only for its owner: 404), /playlist/{id}/play?index=N (a 303 to the
// watch page of its N-th video, ?list={id}&index=N, which shows the playlist beside the video and
// goes on to N+1 when the video ends).
// Every state-changing call made with the session cookie carries the session's CSRF token
// (header X-CSRF-Token, or the form field csrf): without it, or with another, 403. The sign-in
// and register forms, which have no session yet, carry a double-submit token (the reel_form
// cookie and the field). Plain forms use the same URLs (RequestInput: `_method`, a redirect
// back). Sign-in and registration are rate-limited per client address, sign-in also locked per
// account and address after repeated failures: 429 with Retry-After.
//
// Thread-safety: one per event loop (its Redis connections and write path); the services are shared
// and thread-safe. Ownership: everything referenced must outlive it.
// Failure: SQL or Redis failing answers 503 with Retry-After; a write that committed is never
// reported as failed (the relay lands its Redis part).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "app/request_input.h"
#include "auth/csrf.h"
#include "auth/password.h"
#include "auth/rate_limit.h"
#include "auth/session_store.h"
#include "catalog/user.h"
#include "common/asio.h"
#include "common/clock.h"
#include "common/work_pool.h"
#include "http/message.h"
#include "ingest/ingest.h"
#include "pages/renderer.h"
#include "projection/community_read_model.h"
#include "projection/read_model.h"
#include "redis/client.h"
#include "redis/connection.h"
#include "sql/pool.h"
#include "writes/write_path.h"

namespace reel::app {

// What every loop's PeopleRoutes shares (all thread-safe).
struct PeopleServices {
  sql::Pool& sql;
  WorkPool& hashing;  // Argon2id runs here, never on an event loop
  const auth::PasswordHasher& hasher;
  const auth::SessionStore& sessions;
  const auth::RateLimiter& limits;
  const auth::SignInGuard& guard;
  const auth::FormCsrf* form_csrf;  // null without [auth] secret: the sign-in and register forms are refused
  const pages::Renderer& pages;
  const Clock& clock;
  // How long a loop may still accept a session it verified while Redis cannot answer ([redis]
  // grace_s): signed-in people keep working (their writes commit and land later) during an outage.
  std::chrono::milliseconds session_grace{};
  int trusted_proxy_hops = 0;
  ingest::Ingest* ingest = nullptr;  // deletes the videos of a deleted account (their delete jobs)
  ChangeSink* changes = nullptr;     // told what each write changed (Varnish purges); may be null
};

// A playlist's page or document: shared and tagged (the playlist and its videos) when it is public
// and the visitor anonymous; else the viewer's own.
void set_playlist_caching(http::Response& response, const catalog::Playlist& playlist, int64_t viewer,
                          const std::vector<projection::Card>& cards);

inline constexpr std::string_view session_cookie = "reel_session";
inline constexpr std::string_view form_cookie = "reel_form";

class PeopleRoutes {
 public:
  // `redis`: the loop's connections; sessions, limits and the sign-in guard use its sessions()
  // (the sessions node when the site has one), lookups its session_reader() too, everything else
  // (writes, collections) its writer().
  PeopleRoutes(const PeopleServices& services, redis::Client& redis, projection::ReadModel& model,
               projection::CommunityReadModel& community)
      : s_(services),
        redis_(redis.writer()),
        sessions_(redis.sessions()),
        session_nodes_{redis.sessions(), redis.session_reader(), redis.writer()},
        model_(model),
        community_(community),
        writes_(services.sql, redis.writer(), services.clock, services.changes, {}, &redis.sessions()) {}

  // The request's signed-in caller: nullopt without a live session; an Error when Redis failed
  // (the caller answers 503: a lookup that failed is not "signed out") — unless this loop verified
  // the session within session_grace, which it then accepts (a revocation cannot happen while
  // Redis is down; one made on another loop just before is accepted here for at most the grace).
  Task<Result<std::optional<auth::Session>>> caller(const http::Request& request);

  // Counts one `scope` event of account `user_id` from the request's client address against
  // `per_account` and `per_client`: the refusal (Retry-After from it) when over either; nullopt
  // when allowed, and when Redis failed (the limits are a brake: SQL keeps the rules).
  Task<std::optional<auth::Verdict>> over_limits(const http::Request& request, int64_t user_id,
                                                 std::string_view scope, auth::Limit per_account,
                                                 auth::Limit per_client);

  // Answers the people routes; nullopt for any other path.
  Task<std::optional<http::Response>> handle(const http::Request& request);

  // The signed-in viewer's relation to a video for the watch page's controls: their vote, whether
  // it is a favorite, whether they follow its channel, their newest 30 playlists and whether each
  // holds the video (people/viewer_relation.h: two round trips). Best effort: when Redis fails the
  // controls show unset. Anonymous viewers get nothing set.
  Task<pages::WatchActions> watch_actions(const pages::Viewer& viewer, int64_t video_id, std::string channel);

  // The playlist a watch page is played from, by its query (?list=ID&index=N, N from 1): the page
  // of the playlist around position N. nullopt without a list, for a playlist `viewer` may not
  // see, or when it cannot be read (the page shows without its panel).
  Task<std::optional<pages::PlaylistPanel>> playlist_panel(const pages::Viewer& viewer,
                                                           std::string_view query);

  const writes::WritePath& write_path() const { return writes_; }

 private:
  // A call's context once parsed: the input, the caller and where a form goes next.
  struct Call {
    const http::Request& request;
    RequestInput input;
    std::optional<auth::Session> session;
  };

  // A 405 naming what the address answers.
  http::Response wrong_method(std::string_view allow) const;
  // The header's categories for a page of the people routes (one small read).
  Task<Result<std::vector<projection::CategoryLink>>> nav();
  // A form page's double-submit token, set as the reel_form cookie on `response`.
  std::string mint_form_token(const http::Request& request, http::Response& response) const;
  // Signs `user_id` in: a new session (ending the one the request presented) and its cookie.
  Task<Result<auth::NewSession>> start_session(const http::Request& request, int64_t user_id);
  // Runs `write` through the write path: its value, or the failure's response.
  template <class T>
  Task<std::variant<T, http::Response>> write(const Call& call,
                                              std::function<Result<T>(writes::Transaction&)> fn) {
    Result<writes::Written<T>> written = co_await writes_.run<T>(std::move(fn));
    if (!written.ok()) co_return failed(call, written.error());
    co_return std::move(written->value);
  }

  Task<http::Response> users(const http::Request& request);
  // /api/v1/videos/{id}/vote and /comments; nullopt for other video addresses.
  Task<std::optional<http::Response>> video_call(const http::Request& request, int64_t video_id,
                                                 std::string_view action);
  Task<http::Response> comment_call(const http::Request& request, int64_t comment_id);
  // /api/v1/me/favorites|subscriptions|playlists|feed[/…] and /api/v1/playlists[/…]; nullopt for
  // other paths.
  Task<std::optional<http::Response>> collection_call(const http::Request& request, std::string_view path);
  Task<http::Response> comments_page(const http::Request& request, int64_t video_id);
  // Counts the call against the limits of `scope` (per account and per client address); a 429
  // when over. Redis failing lets the call through: the limits are a brake, SQL keeps the rules.
  Task<std::optional<http::Response>> over_limit(const Call& call, std::string_view scope,
                                                 auth::Limit per_account, auth::Limit per_client);
  Task<http::Response> session_call(const http::Request& request);
  Task<http::Response> me(const http::Request& request, std::string_view rest);
  // /signin and /register (with `message` above the form: the answer to a form that failed).
  Task<http::Response> entry_page(const http::Request& request, pages::EntryForm which,
                                  std::string message = {});
  // A successful sign-in (or password change): {"csrf", "user"} or a redirect, with the cookie.
  http::Response signed_in(const Call& call, const auth::NewSession& session, const catalog::User& user,
                           std::string_view fallback) const;
  Task<http::Response> account_page(const http::Request& request);
  // A 303 to the sign-in page that comes back to `path` afterwards.
  http::Response sign_in_first(std::string_view path, std::string_view route) const;
  // /me/favorites, /me/videos, /me/playlists, /subscriptions and /playlist/{id}[/play]; nullopt for
  // other paths.
  Task<std::optional<http::Response>> collection_page(const http::Request& request, std::string_view path);
  // /playlist/{id} (`rest` is "{id}" or "{id}/play").
  Task<http::Response> playlist_page(const http::Request& request, std::string_view rest, int page,
                                     const std::optional<auth::Session>& session);
  Task<http::Response> play_position(const http::Request& request, int64_t playlist_id, int64_t viewer);

  enum class Needs {
    session,       // a signed-in caller with the session's CSRF token (401, 403 otherwise)
    session_read,  // a signed-in caller (401 otherwise); no token: a read changes nothing
    form_token,    // sign-in and register: a form carries the double-submit token (403 otherwise);
                   // a JSON call needs nothing (it cannot be sent cross-site without CORS)
  };
  // Parses the input and finds the caller; a Response when the call stops here (400, 415, 503).
  Task<std::variant<Call, http::Response>> open_call(const http::Request& request);
  // Checks what `needs` says of an open call: the refusal (401, 403), or nullopt.
  std::optional<http::Response> refuse(const Call& call, Needs needs) const;
  // open_call() then refuse().
  Task<std::variant<Call, http::Response>> begin_call(const http::Request& request, Needs needs);
  // A call's success: JSON for the API; a redirect to `next` (or `fallback`) for a form.
  http::Response done(const Call& call, int status, std::string json, std::string_view fallback) const;
  // A call's failure: {"error"} for the API; an error page for a form.
  http::Response failed(const Call* call, int status, std::string_view message) const;
  http::Response failed(const Call& call, const Error& error) const;
  // 429 with Retry-After.
  http::Response limited(const Call& call, const auth::Verdict& verdict) const;
  // The cookie for a new session (Secure when the request came over https).
  std::string session_cookie_for(const http::Request& request, std::string_view id) const;
  bool over_https(const http::Request& request) const;
  std::string client(const http::Request& request) const;

  // Sessions this loop verified, by cookie value, for the outage grace; bounded, cleared when full.
  struct Verified {
    auth::Session session;
    std::chrono::system_clock::time_point at;
  };
  std::unordered_map<std::string, Verified> verified_;
  static constexpr size_t max_verified = 20000;

  const PeopleServices& s_;
  redis::Connection& redis_;     // the main primary
  redis::Connection& sessions_;  // sessions and limits: their node's primary, or the main one
  const auth::SessionNodes session_nodes_;
  projection::ReadModel& model_;
  projection::CommunityReadModel& community_;
  writes::WritePath writes_;
};

}  // namespace reel::app
