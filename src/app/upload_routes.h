// UploadRoutes: `POST /api/v1/uploads` — the file as the multipart field `file`, with `title`,
// `description`, `tags`, `category` (and `channel` for admins) — answered 201 with the new video's
// JSON (`id`, `status`: "processing"). The HTTP server has streamed the body to a file
// (Request::body_file); the multipart parse and the copy of the file part run on the SQL pool's
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
//   DELETE …/{id}      -> 204 (the session and its bytes are gone)
// A session belongs to the token that created it (404 for any other).
//
// Thread-safety: one per event loop (it holds that loop's Redis connection); the Ingest and pool
// are shared. Ownership: everything referenced must outlive it.
#pragma once

#include <string_view>
#include <variant>

#include "common/asio.h"
#include "common/clock.h"
#include "http/message.h"
#include "ingest/ingest.h"
#include "redis/connection.h"
#include "sql/pool.h"
#include "upload/resumable.h"

namespace reel::app {

class UploadRoutes {
 public:
  UploadRoutes(ingest::Ingest& ingest, sql::Pool& pool, redis::Connection& redis, const Clock& clock,
               upload::ResumableStore& sessions)
      : ingest_(ingest), pool_(pool), redis_(redis), clock_(clock), sessions_(sessions) {}

  Task<http::Response> upload(const http::Request& request);
  // Every method under /api/v1/uploads/resumable; `rest` is what follows it ("" or "/{id}").
  Task<http::Response> resumable(const http::Request& request, std::string_view rest);

  // Which requests the server should stream to a file: the upload route's POSTs.
  static bool streams_body(const http::Request& head);

 private:
  ingest::Ingest& ingest_;
  sql::Pool& pool_;
  redis::Connection& redis_;
  const Clock& clock_;
  upload::ResumableStore& sessions_;

  // The token's grant, or the 401/503 to answer.
  Task<std::variant<sql::TokenGrant, http::Response>> authorize(const http::Request& request);
  // Creates the video from a complete file: 201 with its JSON, or the error to answer.
  Task<http::Response> create_video(ingest::UploadForm form, std::string file, const sql::TokenGrant& grant);
};

}  // namespace reel::app
