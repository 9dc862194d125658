// The event loops of the HTTP server and the state they share. A Loop is one io_context run by
// one thread, with its own SO_REUSEPORT acceptor, its handler, its sessions, its clock strings
// and its share of the access log: it accepts connections, hands each to a Session, and on stop
// drains (stops accepting, lets requests in progress finish up to drain_timeout, closes the rest).
// ServerState is what the public Server owns: the options, the loops, metrics and the first failure.
// Thread-safety: a Loop's members are used only on its thread, except io (post() to it from any
// thread); for ServerState see below.
#pragma once

#include <atomic>
#include <boost/system/error_code.hpp>
#include <ctime>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "common/result.h"
#include "http/date.h"
#include "http/detail/access_log.h"
#include "http/detail/session.h"
#include "http/metrics.h"
#include "http/server.h"

namespace reel::http::detail {

// For co_await: the operation's error lands in `ec` instead of throwing.
inline auto redirect(boost::system::error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

// The completion handler of a detached coroutine (co_spawn): logs an exception that escaped it as
// "http: <what> failed" (none is expected; this is the backstop).
struct LogEscape {
  const char* what;
  void operator()(std::exception_ptr failure) const;
};
inline LogEscape log_escape(const char* what) {
  return LogEscape{what};
}

// Wall-clock strings of the current second, formatted once per second per loop: the Date header
// and the access log's timestamp.
class TimeCache {
 public:
  void refresh();
  std::string_view http_date() const { return {http_date_, http_date_size}; }
  std::string_view iso() const { return iso_; }

 private:
  std::time_t second_ = -1;
  char http_date_[http_date_size] = {};
  std::string iso_;
};

class Loop;

// State shared by every loop of one server. Fields are written before the loops run (bind) except
// the atomics and `failure`, which has its own mutex.
struct ServerState {
  ServerState(ServerOptions options_in, HandlerFactory factory_in);
  ~ServerState();

  // Starts the drain of every loop; safe from any thread.
  void stop();
  // Records the first failure of a loop (run() returns it) and starts the drain.
  void fail(Error error);

  ServerOptions options;
  HandlerFactory factory;
  Metrics metrics;
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopping{false};
  bool bound = false;
  bool ran = false;
  uint16_t port = 0;
  std::vector<std::unique_ptr<Loop>> loops;
  std::mutex failure_mutex;
  std::optional<Error> failure;
};

// One event loop: an io_context run by one thread, its acceptor, its handler and its connections.
class Loop {
 public:
  Loop(ServerState& server_in, int index_in) : server(server_in), index(index_in) { io.emplace(1); }
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // On the loop thread: makes the handler, then accepts.
  void start();
  void begin_drain();
  // Called by each Session as it ends: the drain finishes with the last one.
  void session_ended();

  ServerState& server;
  const int index;
  std::optional<asio::io_context> io;
  std::optional<asio::ip::tcp::acceptor> acceptor;
  Handler handler;
  SessionList sessions;
  TimeCache time;
  std::optional<AccessLog> access_log;  // set by bind() when an access log is configured
  bool draining = false;

 private:
  Task<void> accept_loop();
  Task<void> flush_access_log_periodically();
  void finish();

  std::optional<asio::signal_set> signals_;
  std::optional<asio::steady_timer> drain_timer_;
  bool finished_ = false;
};

}  // namespace reel::http::detail
