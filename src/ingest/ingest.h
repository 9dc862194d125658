// Ingest: the write path of an upload, after its bytes are on disk. It looks up API tokens
// (who may upload is the routes' to decide), checks the form (title, description, tags, category), creates
// the video in SQL as `processing` (not listed anywhere until the worker makes it ready), moves the file into
// the uploads directory as "{id}.upload", and queues its transcode job on the Redis Stream with its progress
// record (`queued`). If the job cannot be queued (Redis down), the video and the file are removed again and
// the caller answers 503: there is never a video without a job.
//
//
// Deleting (remove()) is the way back: the video's SQL row is marked failed ("being deleted"), so
// a transcode job still queued or running can no longer make it ready; then one MULTI/EXEC takes
// it out of every Redis list (the projector's withdraw commands), deletes its job:{id} record and
// queues a delete job, which `reel worker` carries out (files, upload, SQL rows). From then on the
// API answers 404 for it. A delete that fails half-way (Redis down after the SQL mark) leaves the
// video unlisted in SQL; deleting it again completes it.
//
// Thread-safety: one Ingest is shared by every event loop (its SQL work runs on the pool; the
// Redis work on the caller's loop connection). Ownership: the pool must outlive it.
// Failure: check_form() returns the message for a 400; create() returns Rejected (400) for a form
// the database refuses (an unknown category), and an Error (503) when SQL or Redis fail; remove()
// returns false for an unknown video (404) and an Error (503) when SQL or Redis fail.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "catalog/model.h"
#include "common/asio.h"
#include "common/change_sink.h"
#include "common/result.h"
#include "redis/connection.h"
#include "sql/pool.h"
#include "sql/token_store.h"

namespace reel::ingest {

// What the uploader sends with the file (multipart fields of the same names).
struct UploadForm {
  std::string title;
  std::string description;
  std::string tags;      // separated by commas or spaces
  std::string category;  // a category slug
  std::string channel;   // admin tokens only: the channel (handle) to upload to
};

// Whose channel a new video goes to.
struct Owner {
  int64_t user_id = 0;  // a signed-in account: its own channel
  std::string channel;  // else (the admin token): this handle, created when new; empty: admin_channel
};

struct IngestOptions {
  std::string uploads_dir;              // where accepted uploads wait for the worker
  std::string admin_channel = "admin";  // admin uploads without a `channel` field go here
  ChangeSink* changes = nullptr;        // told of each video withdrawn (Varnish purges); may be null
};

// The video the form describes (status processing, no channel yet), or the reason it is refused:
// a title of 1..200 characters, a description up to 5,000 bytes, at most 20 tags of 1..64
// letters, digits, '-', '_', '.' (or non-ASCII), a category slug, all valid UTF-8.
Result<catalog::Video> check_form(const UploadForm& form, int64_t now);

// The token from an "Authorization: Bearer TOKEN" header value; empty when it is not one.
std::string_view bearer_token(std::string_view authorization);

struct Rejected {
  std::string message;
};
using Created = std::variant<int64_t, Rejected>;

class Ingest {
 public:
  Ingest(sql::Pool& pool, IngestOptions options) : pool_(pool), options_(std::move(options)) {}

  // What the token grants; nullopt for an unknown one.
  Task<Result<std::optional<sql::TokenGrant>>> authenticate(std::string_view token);
  // `video` from check_form(), on `owner`'s channel; `file` is renamed into the uploads directory
  // (same file system).
  Task<Result<Created>> create(catalog::Video video, Owner owner, std::string file, redis::Connection& redis,
                               int64_t now_ms);
  // The id of the account whose channel holds the video; nullopt when there is no such video.
  Task<Result<std::optional<int64_t>>> owner_of(int64_t id);
  // Withdraws the video and queues its delete job (see above); false when there is no such video.
  Task<Result<bool>> remove(int64_t id, redis::Connection& redis, int64_t now_ms);
  const IngestOptions& options() const { return options_; }

 private:
  sql::Pool& pool_;
  IngestOptions options_;
};

}  // namespace reel::ingest
