// UploadRoutes: `POST /api/v1/uploads` — the file as the multipart field `file`, with `title`,
// `description`, `tags`, `category` (and `channel` for admins) — answered 201 with the new video's
// JSON (`id`, `status`: "processing"). The HTTP server has streamed the body to a file
// (Request::body_file); the multipart parse and the copy of the file part run on the SQL pool's
// threads, never on the event loop. Errors: no or unknown token 401, a token without upload
// rights 403, a body that is not multipart or has no `file` 400, a bad form 400 (the message
// says what), an empty file 400, a full disk 507, SQL or Redis down 503.
//
// Thread-safety: one per event loop (it holds that loop's Redis connection); the Ingest and pool
// are shared. Ownership: everything referenced must outlive it.
#pragma once

#include "common/asio.h"
#include "common/clock.h"
#include "http/message.h"
#include "ingest/ingest.h"
#include "redis/connection.h"
#include "sql/pool.h"

namespace reel::app {

class UploadRoutes {
 public:
  UploadRoutes(ingest::Ingest& ingest, sql::Pool& pool, redis::Connection& redis, const Clock& clock)
      : ingest_(ingest), pool_(pool), redis_(redis), clock_(clock) {}

  Task<http::Response> upload(const http::Request& request);

  // Which requests the server should stream to a file: the upload route's POSTs.
  static bool streams_body(const http::Request& head);

 private:
  ingest::Ingest& ingest_;
  sql::Pool& pool_;
  redis::Connection& redis_;
  const Clock& clock_;
};

}  // namespace reel::app
