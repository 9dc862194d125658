// UploadRoutes: `POST /api/v1/uploads` — the file as the multipart field `file`, with `title`,
// `description`, `tags`, `category` (and `channel` for admins) — answered 201 with the new video's
// JSON (`id`, `status`: "processing"). The HTTP server has streamed the body to a file
// (Request::body_file); the multipart parse and the copy of the file part run on the file pool's
// threads, never on the event loop. Errors: no or unknown token 401, a token without upload
// rights 403, a body that is not multipart or has no `file` 400, a bad form 400 (the message
// says what), an empty file 400, a full disk 507, SQL or Redis down 503.
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
// A session belongs to the token that created it (404 for any other).
//
// Deleting: `DELETE /api/v1/videos/{id}` with an admin token -> 202 {"id", "status": "deleting"}:
// the video has left every list at once and its delete job is queued (ingest::Ingest::remove);
// 401 without a valid token, 403 for a token without admin rights, 404 for an unknown video, 503
// when SQL or Redis fail (deleting again is safe).
//
// Tokens are checked before an upload's body is read: screen() is the server's
// answer_before_body for this loop, so POST /api/v1/uploads and the resumable routes without a
// valid token get their 401 (with a token that may not upload, 403) without a byte of the body on
// disk. The SQL lookup runs on the pool; verified tokens are remembered for a second per loop
// (TokenCache), so the handler's own check that follows costs nothing, and a revoked token stops
// working everywhere within that second.
//
// Thread-safety: one per event loop (it holds that loop's Redis connection and token cache); the
// Ingest and the file pool are shared. Ownership: everything referenced must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "app/token_cache.h"
#include "common/asio.h"
#include "common/clock.h"
#include "common/work_pool.h"
#include "http/message.h"
#include "ingest/ingest.h"
#include "redis/connection.h"
#include "upload/resumable.h"

namespace reel::app {

class UploadRoutes {
 public:
  // `files` runs the blocking file work (multipart parse and copy, resumable sessions).
  UploadRoutes(ingest::Ingest& ingest, WorkPool& files, redis::Connection& redis, const Clock& clock,
               upload::ResumableStore& sessions)
      : ingest_(ingest), files_(files), redis_(redis), clock_(clock), sessions_(sessions), tokens_(clock) {}

  Task<http::Response> upload(const http::Request& request);
  // Every method under /api/v1/uploads/resumable; `rest` is what follows it ("" or "/{id}").
  Task<http::Response> resumable(const http::Request& request, std::string_view rest);

  // DELETE /api/v1/videos/{id} (the router has parsed the id).
  Task<http::Response> remove_video(const http::Request& request, int64_t id);

  // Which requests the server should stream to a file: the upload route's POSTs.
  static bool streams_body(const http::Request& head);
  // For http::ServerOptions::answer_before_body: the 401 (or 503) for an upload request (POST
  // /api/v1/uploads, anything under /api/v1/uploads/resumable) without a valid token, and the 403
  // for a token without upload rights, given its header only; nullopt for other requests and for
  // a token that may upload.
  Task<std::optional<http::Response>> screen(const http::Request& head);

 private:
  ingest::Ingest& ingest_;
  WorkPool& files_;
  redis::Connection& redis_;
  const Clock& clock_;
  upload::ResumableStore& sessions_;
  TokenCache tokens_;

  // The token's grant, or the 401/503 to answer.
  Task<std::variant<sql::TokenGrant, http::Response>> authorize(const http::Request& request);
  // authorize(), and a 403 for a token without upload rights (today: only admin tokens have them).
  Task<std::variant<sql::TokenGrant, http::Response>> authorize_upload(const http::Request& request);
  // Creates the video from a complete file: 201 with its JSON, or the error to answer.
  Task<http::Response> create_video(ingest::UploadForm form, std::string file, const sql::TokenGrant& grant);
  // The resumable routes, after the token and (but for the start) the session were checked.
  Task<http::Response> start_resumable(const http::Request& request, const std::string& owner);
  Task<http::Response> cancel_resumable(const std::string& id);
  Task<http::Response> append_resumable(const http::Request& request, const upload::SessionInfo& info,
                                        const sql::TokenGrant& grant);
  Task<http::Response> finish_resumable(const upload::SessionInfo& info, const sql::TokenGrant& grant);
};

}  // namespace reel::app
