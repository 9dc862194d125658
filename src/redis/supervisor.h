// RedisSupervisor: keeps a private redis-server running, as `reel up` needs (its pages, views and
// jobs all live there). start() starts one (RedisServer::start); a thread of its own then waits
// for the child to exit (a pidfd: no polling). When it dies — killed, crashed, out of memory — it is
// reaped at once (no zombie), the exit is logged, and a new one is started on the same directory
// and port, so it replays its AOF and the clients' connections find it where they left it.
// Restarts back off: the delay before a restart doubles from first_delay up to max_delay with
// every start that fails and every server that dies within stable_after of its start, and falls
// back to first_delay once one has stayed up that long. Every restart and failed start is logged.
//
// Thread-safety: restarts() and pid() may be called from any thread; stop() from one thread.
// Ownership: owns the RedisServer and the watching thread; stop() or the destructor ends the
// thread, then stops the server (SIGTERM, so it writes its AOF).
// Failure: start() returns the Error of the first start; later failed starts are logged and
// retried until stop().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/result.h"
#include "redis/server.h"

namespace reel::redis {

struct SupervisorOptions {
  std::chrono::milliseconds first_delay{250};
  std::chrono::milliseconds max_delay{30000};
  std::chrono::milliseconds stable_after{60000};
};

// The delay before the restart that follows `quick_failures` failures in a row (a failed start
// or a server that died before it was stable): first_delay, doubled per failure, capped.
std::chrono::milliseconds restart_delay(const SupervisorOptions& options, int quick_failures);

class RedisSupervisor {
 public:
  static Result<std::unique_ptr<RedisSupervisor>> start(RedisServerOptions server,
                                                        SupervisorOptions options = {});
  ~RedisSupervisor();
  RedisSupervisor(const RedisSupervisor&) = delete;
  RedisSupervisor& operator=(const RedisSupervisor&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }
  // The running server's pid; -1 while none runs (between a death and its restart).
  pid_t pid() const { return pid_.load(); }
  // Servers started after the first.
  uint64_t restarts() const { return restarts_.load(); }
  // Stops watching, then stops the server; an Error when it did not exit cleanly. Idempotent.
  Status stop();

 private:
  RedisSupervisor(RedisServerOptions server_options, SupervisorOptions options, RedisServer server,
                  int wake_fd);
  void watch();
  // Blocks until the server exits (true) or stop() is called (false).
  bool wait_for_exit();
  // Sleeps `delay` unless stop() is called first; false when it was.
  bool pause(std::chrono::milliseconds delay);

  RedisServerOptions server_options_;
  SupervisorOptions options_;
  Endpoint endpoint_;
  std::optional<RedisServer> server_;  // touched by the watching thread only, until stop() joined it
  std::atomic<pid_t> pid_{-1};
  std::atomic<uint64_t> restarts_{0};
  std::atomic<bool> stopping_{false};
  const int wake_fd_;  // an eventfd: stop() writes it to end the thread's waits
  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace reel::redis
