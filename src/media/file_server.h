// FileServer: serves the files under one root directory (static assets, media) as HTTP
// responses: Content-Type by extension, ETag and Last-Modified with 304 on If-None-Match /
// If-Modified-Since, a single Range (206; 416 for an unsatisfiable or malformed one; a
// multi-range request gets the whole file with 200), HEAD, and large bodies as a FileRange for
// sendfile. The ETag is strong, "<size hex>-<mtime ns hex>"; If-Range is honoured (a range is
// served only when If-Range names the current ETag or Last-Modified). Range applies to GET only, as
// RFC 9110 says; HEAD answers like a GET without Range. No request reaches outside the root: "..",
// percent-encoded dots and slashes, NUL bytes and symlinks that lead out are refused (404),
// resolved with openat2(RESOLVE_BENEATH). Directories are 404 too (no index files).
// Thread-safety: immutable after construction; serve() is safe from any thread. It blocks on
// open/fstat only (page-cache hits in practice), never on reading a large body.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "http/message.h"

namespace reel::media {

struct FileServerOptions {
  std::string root;
  std::string cache_control = "public, max-age=3600";
  size_t inline_max_bytes = 64 * 1024;  // smaller files are read into the body
};

class FileServer {
 public:
  // Returns an Error when the root cannot be opened.
  static Result<FileServer> open(FileServerOptions options);
  FileServer(FileServer&&) noexcept;
  ~FileServer();

  // `relative_path` is the URL path below the mount point, still percent-encoded
  // (e.g. "demo/clip-1.mp4"). Answers 200/206/304/404/405/416; never throws.
  http::Response serve(const http::Request& request, std::string_view relative_path) const;
  // The whole of a small regular file below the root (a playlist to rewrite), by the same path
  // rules as serve(); nullopt when it is missing, unreadable, not a regular file or larger than
  // `max_bytes`.
  std::optional<std::string> read(std::string_view relative_path, size_t max_bytes) const;

 private:
  FileServer(int root_fd, FileServerOptions options);
  int root_fd_ = -1;
  FileServerOptions options_;
};

}  // namespace reel::media
