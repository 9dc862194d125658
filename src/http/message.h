// Request and Response: the HTTP messages the pure request handler sees, free of Beast and
// sockets, so routing and pages are tested without a network.
// Thread-safety: value types.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reel::http {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method;  // "GET", "HEAD", "POST", ...
  std::string target;  // as sent: "/videos?sort=views&page=2"
  std::vector<Header> headers;
  std::string body;  // the body, unless it was streamed to body_file (then empty)
  // The body streamed to a file (http::ServerOptions::body_to_file), else empty: the path of a
  // complete temporary file holding exactly the body's bytes (chunked encoding removed), open to the
  // handler for the duration of its call. The server owns it: once the response has been written
  // (or the connection ended) it removes the file, unless the handler has renamed it away (or
  // replaced it) by then — rename(2) it, or link(2) it, to keep the bytes. Nothing else may rely on
  // the path after the handler returns.
  std::string body_file;
  uint64_t body_bytes = 0;     // length of the body, in `body` or in `body_file`
  std::string remote_address;  // peer IP, no port

  std::string_view path() const;   // target up to '?'
  std::string_view query() const;  // after '?', "" if none
  // First header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

// A byte range of an open file, sent with sendfile(2). Owns the descriptor.
struct FileRange {
  int fd = -1;
  uint64_t offset = 0;
  uint64_t length = 0;
  FileRange() = default;
  FileRange(int fd_, uint64_t offset_, uint64_t length_) : fd(fd_), offset(offset_), length(length_) {}
  FileRange(FileRange&& o) noexcept;
  FileRange& operator=(FileRange&& o) noexcept;
  FileRange(const FileRange&) = delete;
  FileRange& operator=(const FileRange&) = delete;
  ~FileRange();
};

struct Response {
  int status = 200;
  std::vector<Header> headers;      // Content-Length and Connection are set by the server
  std::string body;                 // ignored when `file` is set
  std::shared_ptr<FileRange> file;  // body sent from a file
  // Low-cardinality label for /metrics ("watch", "videos", "static", ...); "other" if unset.
  std::string_view route = "other";

  Response& set(std::string_view name, std::string_view value);  // replaces a header of that name
  Response& add(std::string_view name, std::string_view value);  // one more (Set-Cookie)
  std::optional<std::string_view> header(std::string_view name) const;

  static Response text(int status, std::string body);
  static Response html(int status, std::string body);
  static Response json(int status, std::string body);
};

// The reason phrase for a status code ("Not Found"); "Unknown" for others.
std::string_view reason(int status);

}  // namespace reel::http
