// Server: the HTTP/1.1 server of `reel serve` on Boost.Beast with C++20 coroutines.
//
// One event loop (io_context on its own thread) per configured thread, each with its own
// SO_REUSEPORT acceptor, so a connection lives its whole life on one loop and per-loop state
// (the Redis connection) needs no locks. Keep-alive and pipelining: requests on a connection
// are read, handled and answered in order. Limits answer rather than hang:
//   malformed request -> 400, header not complete within header_timeout -> 408,
//   body over max_body_bytes -> 413, header over max_header_bytes -> 431,
//   over max_connections -> 503 and close. Idle keep-alive connections close after idle_timeout.
// Large bodies (uploads) can stream to a file instead of memory, chosen per request by
// ServerOptions::body_to_file once its header is read (then a full disk -> 507); see "Bodies
// streamed to a file" below. Before that, ServerOptions::answer_before_body may answer a request
// from its header alone (an upload without credentials: 401 before a byte of it is read).
// On SIGTERM/SIGINT (or stop()) it stops accepting, lets in-flight requests finish (up to
// drain_timeout), then closes every connection and returns from run().
// Each request is recorded in Metrics and, when an access log is configured, in one log line.
// Responses: the server sets Content-Length, Connection, and Date and Server unless the handler did;
// a header whose name or value holds CR/LF is dropped. A body in Response::file goes out with
// sendfile(2). HEAD gets the headers of the GET response and no body. A handler that throws gets 500.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/asio.h"
#include "common/result.h"
#include "http/message.h"
#include "http/metrics.h"

namespace reel::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port (see Server::port())
  int threads = 1;
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  size_t max_connections = 10000;
  std::chrono::milliseconds header_timeout{10000};
  // An in-memory body must arrive within this time of its header; a body streamed to a file may take
  // any time, but no read of it may wait longer than this (an idle timeout: a slow link is fine, a
  // stalled one is not). Either way 408 and close.
  std::chrono::milliseconds body_timeout{60000};
  // A response write (or sendfile) that makes no progress for this long closes the connection.
  std::chrono::milliseconds write_timeout{60000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds drain_timeout{10000};
  // File path; "-" for stdout; empty for none. One line per request, buffered per loop and written at
  // least once a second: "<UTC time> <remote> <method> <target> <status> <body bytes> <latency us>".
  std::string access_log;
  bool handle_signals = true;  // SIGTERM/SIGINT start a graceful drain

  // --- Answering before the body ---
  // Called when the header of a request with a body (Content-Length > 0 or chunked) has been read,
  // with method, target, headers and remote_address set (body empty): before any byte of the body
  // is read, before body_to_file and before "100 Continue". `loop_index` (0 .. threads - 1) names
  // the event loop it runs on, so per-loop state indexed by it needs no locks. It may co_await I/O
  // on that loop (not block it). nullopt: the request goes on as usual. A Response: it is the final
  // answer, sent at once with Connection: close; the handler is not called, and the body is never
  // read into memory or a file (while closing, the server reads and drops at most 64 KiB of it for
  // a second, so the client gets the answer rather than a reset). Throwing -> 500 the same way.
  // Not set, or a request without a body: not called.
  std::function<Task<std::optional<Response>>(const Request& head, int loop_index)> answer_before_body;

  // --- Bodies streamed to a file ---
  // Called when the header of a request with a body (Content-Length > 0 or chunked) has been read,
  // with method, target, headers and remote_address set (body empty). true: the body is written to
  // a new file in upload_temp_dir as it arrives (memory stays bounded whatever its size), under
  // max_file_body_bytes instead of max_body_bytes, and the handler gets Request::body_file. Runs on
  // the loop's thread for each such request: it must be cheap, must not block, and is shared by
  // every loop (so it must be safe to call concurrently). Not set: every body is read into memory.
  // Outcomes: Content-Length over max_file_body_bytes -> 413 before any byte is read (and before
  // "100 Continue"); a chunked body that grows past it -> 413; the file system full (ENOSPC, EDQUOT;
  // found before reading when the declared length exceeds the free space) -> 507; another write or create
  // failure -> 500 (logged); a client gone or stalled mid-body -> close (or 408). In every one of
  // these cases the partial file is removed, the handler is not called and the connection closes.
  // The file is written with write(2) on the loop's thread as bytes arrive (64 KiB reads): the page
  // cache absorbs that, but a disk much slower than the network delays the loop's other connections
  // while the kernel throttles dirty pages.
  std::function<bool(const Request& head)> body_to_file;
  // Where those files are created ("reel-body-XXXXXX", mode 0600). Put it on the file system the
  // handler moves uploads to, so a rename(2) keeps the bytes without a copy. Empty: $TMPDIR or /tmp.
  // Files of a process that crashed mid-request stay behind; clear old reel-body-* files at start.
  std::string upload_temp_dir;
  uint64_t max_file_body_bytes = uint64_t{8} << 30;  // 8 GiB
};

// The request handler of one event loop. It must not block; it may co_await I/O on its loop.
using Handler = std::function<Task<Response>(const Request&)>;
// Called once per event loop, on that loop's thread, before it accepts connections.
using HandlerFactory = std::function<Handler(asio::io_context& loop, int loop_index)>;

class Server {
 public:
  // Also makes the whole process ignore SIGPIPE: sendfile(2) has no MSG_NOSIGNAL, so a client that
  // goes away in the middle of a file would otherwise end the process (the write fails with EPIPE
  // instead, and the session closes).
  Server(ServerOptions options, HandlerFactory factory);
  ~Server();

  // Binds the listening sockets; returns an Error naming the address on failure.
  Status bind();
  // The bound port (after bind()).
  uint16_t port() const;
  // Runs the event loops until stop() or a signal, then drains. Calls bind() if needed.
  Status run();
  // Starts the graceful drain; safe from any thread and from a signal-handling loop.
  void stop();

  Metrics& metrics();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reel::http
