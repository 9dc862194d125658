// RedisServer: a private redis-server child process, as `reel up` runs in production and the
// integration tests run. start() writes a redis.conf into `dir` (AOF on, RDB snapshots off, logs
// and pid file in `dir`), spawns redis-server on it and returns once it answers PING.
//
// Ownership: the RedisServer owns the child; stop() or the destructor terminates it (SIGTERM, so
// Redis flushes its AOF, then waits for the exit, which takes 1-3 s).
// Thread-safety: not thread-safe. start() and stop() block the calling thread.
// Failure: start() returns an Error, with the tail of redis-server's log, when it cannot be
// started or does not answer within start_timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "process/child.h"
#include "redis/connection.h"

namespace reel::redis {

struct RedisServerOptions {
  std::string executable = "redis-server";  // looked up on PATH
  std::string dir{};                        // data, config and logs; created when missing
  std::string bind = "127.0.0.1";
  uint16_t port = 0;  // 0: a free port is picked
  bool append_only = true;
  std::vector<std::string> extra_config_lines{};  // appended to redis.conf verbatim
  std::chrono::milliseconds start_timeout{10000};
  // When set, start() gives up (and stops the child) once it reads true: a supervisor being
  // stopped must not wait out a long AOF load.
  const std::atomic<bool>* cancel = nullptr;
};

class RedisServer {
 public:
  static Result<RedisServer> start(RedisServerOptions options);

  RedisServer(RedisServer&&) noexcept = default;
  RedisServer& operator=(RedisServer&&) noexcept = default;
  ~RedisServer();

  const Endpoint& endpoint() const { return endpoint_; }
  pid_t pid() const { return child_.pid(); }
  // False once the child has exited (it is then reaped; stop() returns how it ended).
  bool running() { return child_.running(); }
  // Stops redis-server (SIGTERM, then SIGKILL after 30 s) and waits for it to exit. Returns an
  // Error when it did not exit cleanly. Safe to call more than once.
  Status stop();

 private:
  RedisServer(process::Child child, Endpoint endpoint)
      : child_(std::move(child)), endpoint_(std::move(endpoint)) {}

  process::Child child_;
  Endpoint endpoint_;
};

// A TCP port on `host` that was free a moment ago (bind to port 0, read it, close).
Result<uint16_t> pick_free_port(const std::string& host);

}  // namespace reel::redis
