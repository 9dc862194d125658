// Server: the HTTP/1.1 server of `reel serve` on Boost.Beast with C++20 coroutines.
//
// One event loop (io_context on its own thread) per configured thread, each with its own
// SO_REUSEPORT acceptor, so a connection lives its whole life on one loop and per-loop state
// (the Redis connection) needs no locks. Keep-alive and pipelining: requests on a connection
// are read, handled and answered in order. Limits answer rather than hang:
//   malformed request -> 400, header not complete within header_timeout -> 408,
//   body over max_body_bytes -> 413, header over max_header_bytes -> 431,
//   over max_connections -> 503 and close. Idle keep-alive connections close after idle_timeout.
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
  std::chrono::milliseconds body_timeout{60000};
  // A response write (or sendfile) that makes no progress for this long closes the connection.
  std::chrono::milliseconds write_timeout{60000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds drain_timeout{10000};
  // File path; "-" for stdout; empty for none. One line per request, buffered per loop and written at
  // least once a second: "<UTC time> <remote> <method> <target> <status> <body bytes> <latency us>".
  std::string access_log;
  bool handle_signals = true;  // SIGTERM/SIGINT start a graceful drain
};

// The request handler of one event loop. It must not block; it may co_await I/O on its loop.
using Handler = std::function<Task<Response>(const Request&)>;
// Called once per event loop, on that loop's thread, before it accepts connections.
using HandlerFactory = std::function<Handler(asio::io_context& loop, int loop_index)>;

class Server {
 public:
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
