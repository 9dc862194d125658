// Resumable uploads: a client creates a session with the upload's total size and metadata, sends
// the bytes in chunks each stamped with the offset it starts at, asks for the offset after a
// dropped connection, and resumes from there. When every byte is in, the file is taken out of the
// session (renamed) to become the video's upload. The HTTP shape (tus-like) is the router's.
//
// On disk, one directory per session under ResumableOptions::dir:
//   <id>/meta.json  {"total_bytes", "created_at" (Unix s), "metadata": {title, description, tags,
//                   category, owner, filename}}, written once at creation
//   <id>/data       the bytes received
//   <id>/offset     "<committed offset> <last activity, Unix ms>" (decimal), replaced (write,
//                   fdatasync, rename) only after the data it covers has been fdatasync'ed
// so after a crash the offset never claims bytes that are not on disk: bytes of an append cut
// short lie past the committed offset and are cut off by the next append. A session is created
// under ".new-<id>" and renamed into place, so it is complete or absent. The last activity comes
// from the injected Clock and is read back from the file, never from the file system's
// timestamps, so expire() follows that clock alone.
//
// Session ids are 32 lowercase hex digits of getrandom(2) (128 bits: unguessable, URL-safe);
// anything else is "not found" before any file is touched, so an id cannot walk out of the dir.
//
// Thread-safety: every method may be called from any thread, and several processes may share the
// directory. Appends to one session never interleave: append(), take() and expire() hold an
// exclusive flock(2) on the session's data file, taken without waiting, so a second concurrent one
// gets AppendStatus::busy (TakeStatus::busy; expire() skips the session) rather than blocking an
// event loop. find() takes no lock: it sees committed offsets only.
// Blocking: every method does file I/O, and append()/take() fdatasync: call them off the event
// loops (e.g. on the SQL Pool's threads or another blocking pool).
// Failure: refusals the client can act on are statuses (not found, offset mismatch, busy, beyond
// the total, incomplete, no space); an Error means the disk or the directory failed (a 500), and
// names the session and the file.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "upload/multipart.h"

namespace reel::upload {

// What comes with an upload; stored as given (the router validates it). Strings that are not
// valid UTF-8 are stored with U+FFFD in place of the invalid bytes.
struct UploadMetadata {
  std::string title;
  std::string description;
  std::vector<std::string> tags;
  std::string category;
  std::string owner;     // who may append, take or cancel; the router checks it
  std::string filename;  // the client's name for the file: text, never a path
  bool operator==(const UploadMetadata&) const = default;
};

struct SessionInfo {
  std::string id;
  uint64_t offset = 0;  // bytes received and committed
  uint64_t total_bytes = 0;
  UploadMetadata metadata;
  std::chrono::system_clock::time_point created_at;
  std::chrono::system_clock::time_point last_activity;  // the create or the last append

  bool complete() const { return offset == total_bytes; }
};

struct ResumableOptions {
  std::filesystem::path dir;                     // created by open() if missing
  uint64_t max_total_bytes = uint64_t{8} << 30;  // the largest upload create() accepts
};

enum class AppendStatus {
  appended,         // the bytes are on disk; `offset` is the new offset
  not_found,        // no such session (or a malformed id)
  offset_mismatch,  // the client's offset is not the session's: resume from `offset`
  busy,             // another append (or take) of this session is in progress: retry later
  beyond_total,     // offset + length would pass total_bytes: nothing written
  no_space,         // the file system is full: nothing kept (507)
};

struct AppendResult {
  AppendStatus status = AppendStatus::appended;
  uint64_t offset = 0;  // the session's committed offset after the call (0 when not found)
};

enum class TakeStatus {
  taken,       // the data is at the destination and the session is gone
  not_found,   // no such session
  incomplete,  // offset < total_bytes: nothing moved
  busy,        // an append of this session is in progress
};

struct TakeResult {
  TakeStatus status = TakeStatus::taken;
  SessionInfo session;  // as it was (set unless not_found)
};

// The value of an Upload-Length or Upload-Offset header: decimal digits only (no sign, no spaces),
// at most 2^64 - 1; nullopt for anything else, an empty value included.
std::optional<uint64_t> parse_upload_number(std::string_view header_value);

class ResumableStore {
 public:
  // `clock` is borrowed and must outlive the store.
  ResumableStore(ResumableOptions options, const Clock& clock);

  const ResumableOptions& options() const { return options_; }

  // Creates the directory if missing. An Error when it cannot.
  Status open();

  // A new session for `total_bytes` (1 .. max_total_bytes: outside that, an ErrorKind::invalid_input
  // Error; any other Error is the server's) with its metadata; returns the id.
  Result<std::string> create(uint64_t total_bytes, const UploadMetadata& metadata);

  // The session's offset, total and metadata; nullopt when there is no such session.
  Result<std::optional<SessionInfo>> find(std::string_view id);

  // Appends `source` (a range of the open file `source_fd`, e.g. a body file) at `offset`, which
  // must equal the session's offset; all of it or nothing. Synced before it returns.
  Result<AppendResult> append(std::string_view id, uint64_t offset, int source_fd, ByteRange source);
  // The same with the whole file at `source_path` (Request::body_file).
  Result<AppendResult> append_file(std::string_view id, uint64_t offset, const std::string& source_path);

  // Moves the complete upload to `dest_path` (a rename; a copy when on another file system) and
  // removes the session. The destination must not exist. Synced before it returns.
  Result<TakeResult> take(std::string_view id, const std::string& dest_path);

  // Removes the session and its data (the client cancelled; DELETE). false when there was none.
  Result<bool> cancel(std::string_view id);

  // Removes sessions without activity (create or append) for `max_idle` by the store's clock,
  // sessions whose files cannot be read, and leftovers of creates and cancels cut short by a crash
  // (by their directory's mtime). Busy sessions are skipped. Returns how many were removed.
  Result<size_t> expire(std::chrono::seconds max_idle);

  // True for a well-formed session id (32 lowercase hex digits).
  static bool valid_id(std::string_view id);

 private:
  std::filesystem::path session_dir(std::string_view id) const;

  ResumableOptions options_;
  const Clock& clock_;
};

}  // namespace reel::upload
