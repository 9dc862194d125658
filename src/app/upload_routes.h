// UploadRoutes: `POST /api/v1/uploads` — the file as the multipart field `file`, with `title`,
// `description`, `tags`, `category` (and `channel` for the admin token) — answered 201 with the new
// video's JSON (`id`, `status`: "processing"). The HTTP server has streamed the body to a file
// (Request::body_file); the multipart parse and the copy of the file part run on the file pool's
// threads, never on the event loop. Errors: no credentials or unknown ones 401, credentials
// without upload rights 403, a body that is not multipart or has no `file` 400, a bad form 400
// (the message says what), an empty file 400, too many uploads 429 with Retry-After, a full disk
// 507, SQL or Redis down 503.
//
// Who uploads. Either the admin API token (`Authorization: Bearer TOKEN`, for automation: any
// channel by the `channel` field, default "admin"; not rate-limited), or a signed-in account with
// its `reel_session` cookie — allowed for the roles uploader, moderator and admin, or for anyone
// signed in when SessionUploads::anyone ([auth] uploads = "anyone") — whose video goes to its own
// channel. A call made with the cookie carries the session's CSRF token as the header
// X-CSRF-Token (403 without it or with another); a plain form post (multipart, no header) carries
// it as the form field `csrf` instead, checked once the body is parsed, before the file is copied
// out (403, and the body is deleted), and is answered 303 to the uploader's channel instead of the
// JSON. Reads (HEAD/GET of a resumable upload) need no token.
//
// Resumable uploads (for large files on unreliable links), under /api/v1/uploads/resumable:
//   POST               `Upload-Length: N` and the form as JSON ({"title", "description", "tags",
//                      "category"}) -> 201, `Location: …/resumable/{id}`, `Upload-Offset: 0`
//   HEAD or GET …/{id} -> 200 with `Upload-Offset` (bytes kept so far) and `Upload-Length`
//   PATCH …/{id}       `Upload-Offset: O` and the next bytes as the body -> 204 with the new
//                      `Upload-Offset`; 409 with the current one when O is not it (resume from
//                      there); 409 + Retry-After while another PATCH of it runs; 413 past the
//                      length; the PATCH that completes it -> 201 with the video, as POST above
//   DELETE …/{id}      -> 204 (the session and its bytes are gone); 503 when they could not be
//                      removed (nothing is claimed gone that is not), 404 when it went meanwhile
// A session belongs to whoever created it: the admin token, or the account (404 for anyone else).
//
// Deleting: `DELETE /api/v1/videos/{id}` -> 202 {"id", "status": "deleting"}: the video has left
// every list at once and its delete job is queued (ingest::Ingest::remove). Allowed for the admin
// token, a signed-in moderator or admin (any video), and the account that owns the video; 401
// without valid credentials, 403 for anyone else (and without the CSRF token), 404 for an unknown
// video, 503 when SQL or Redis fail (deleting again is safe).
//
// Credentials are checked before an upload's body is read: screen() is the server's
// answer_before_body for this loop, so POST /api/v1/uploads and the resumable routes without valid
// credentials get their 401 (without upload rights or the CSRF header, 403) without a byte of the
// body on disk — but for a plain form's `csrf` field, which is in the body (such a form can only
// come from this site's pages: the cookie is SameSite=Lax). screen() also counts an upload started
// with a session (POST of either kind) against SessionUploads' limits, per account and per client
// address (auth::RateLimiter; Redis failing lets it through): 429 with Retry-After, before the
// body too. An upload without a body creates nothing, so only screened uploads need counting.
// The token's SQL lookup runs on the pool; verified tokens are remembered for a second per loop
// (TokenCache), so the handler's own check that follows costs nothing, and a revoked token stops
// working everywhere within that second. A session is looked up (one Redis call) by PeopleRoutes.
//
// Thread-safety: one per event loop (it holds that loop's Redis connection, token cache and
// PeopleRoutes); the Ingest and the file pool are shared. Ownership: everything referenced must
// outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "app/people_routes.h"
#include "app/token_cache.h"
#include "auth/rate_limit.h"
#include "auth/session_store.h"
#include "common/asio.h"
#include "common/clock.h"
#include "common/work_pool.h"
#include "http/message.h"
#include "ingest/ingest.h"
#include "redis/connection.h"
#include "upload/resumable.h"

namespace reel::app {

// Uploads with a session: who may, and how often ([auth] uploads, uploads_per_hour…).
struct SessionUploads {
  PeopleRoutes* people = nullptr;          // this loop's (the session lookup, the limits); null: tokens only
  const pages::Renderer* pages = nullptr;  // the error pages of the plain upload form; null: JSON
  bool anyone = false;                     // every signed-in account may upload, not only the uploader roles
  auth::Limit per_account = auth::limits::upload_per_account;
  auth::Limit per_client = auth::limits::upload_per_client;
};

class UploadRoutes {
 public:
  // `files` runs the blocking file work (multipart parse and copy, resumable sessions).
  UploadRoutes(ingest::Ingest& ingest, WorkPool& files, redis::Connection& redis, const Clock& clock,
               upload::ResumableStore& sessions, SessionUploads with_sessions = {})
      : ingest_(ingest),
        files_(files),
        redis_(redis),
        clock_(clock),
        sessions_(sessions),
        with_sessions_(with_sessions),
        tokens_(clock) {}

  // POST /api/v1/uploads. A plain form (sent_by_plain_form) is refused with an error page.
  Task<http::Response> upload(const http::Request& request);
  // Every method under /api/v1/uploads/resumable; `rest` is what follows it ("" or "/{id}").
  Task<http::Response> resumable(const http::Request& request, std::string_view rest);

  // DELETE /api/v1/videos/{id} (the router has parsed the id).
  Task<http::Response> remove_video(const http::Request& request, int64_t id);

  // Which requests the server should stream to a file: the upload route's POSTs.
  static bool streams_body(const http::Request& head);
  // For http::ServerOptions::answer_before_body: for an upload request (POST /api/v1/uploads,
  // anything under /api/v1/uploads/resumable), given its header only, the 401 (or 503) without
  // valid credentials, the 403 without upload rights or without the CSRF header (but for a plain
  // form), the 429 for a session over its upload limits; nullopt for other requests and for an
  // upload that may go on. A plain form is refused with an error page.
  Task<std::optional<http::Response>> screen(const http::Request& head);

  // Whether this signed-in account may upload (its role, or SessionUploads::anyone).
  bool may_upload(const auth::Session& session) const;

 private:
  // upload() and screen() before their answer is fitted to the client (for_client()).
  Task<http::Response> receive(const http::Request& request);
  Task<std::optional<http::Response>> check_before_body(const http::Request& head);
  // `answer` as the client can read it: an error page for a plain form's refusal, else as it is.
  http::Response for_client(const http::Request& request, http::Response answer) const;

  // Who makes a call: the API token's grant, or a signed-in account.
  struct Uploader {
    std::optional<sql::TokenGrant> token;
    std::optional<auth::Session> session;
    bool csrf_in_form = false;  // a plain form post: its `csrf` field is checked once parsed
    // Whose resumable sessions it may use.
    std::string owner() const;
  };
  using Authorized = std::variant<Uploader, http::Response>;

  ingest::Ingest& ingest_;
  WorkPool& files_;
  redis::Connection& redis_;
  const Clock& clock_;
  upload::ResumableStore& sessions_;
  SessionUploads with_sessions_;
  TokenCache tokens_;

  // The caller, or the 401/403/503 to answer (a state-changing call made with the cookie needs
  // the session's CSRF token).
  Task<Authorized> authorize(const http::Request& request);
  // authorize(), and a 403 for credentials without upload rights (tokens: only admin ones).
  Task<Authorized> authorize_upload(const http::Request& request);
  // Creates the video from a complete file: 201 with its JSON (a plain form: 303 to the channel),
  // or the error to answer.
  Task<http::Response> create_video(ingest::UploadForm form, std::string file, const Uploader& who);
  // The resumable routes, after the caller and (but for the start) the session were checked.
  Task<http::Response> start_resumable(const http::Request& request, const std::string& owner);
  Task<http::Response> cancel_resumable(const std::string& id);
  Task<http::Response> append_resumable(const http::Request& request, const upload::SessionInfo& info,
                                        const Uploader& who);
  Task<http::Response> finish_resumable(const upload::SessionInfo& info, const Uploader& who);
};

}  // namespace reel::app
