#include "redis/supervisor.h"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace reel::redis {
namespace {

// Waits until one of `fds` is readable or `timeout` passes (-1: no timeout); retried on EINTR.
void wait_readable(pollfd* fds, nfds_t count, int timeout_ms) {
  while (::poll(fds, count, timeout_ms) < 0 && errno == EINTR) {
  }
}

}  // namespace

std::chrono::milliseconds restart_delay(const SupervisorOptions& options, int quick_failures) {
  auto delay = options.first_delay;
  for (int i = 0; i < quick_failures && delay < options.max_delay; ++i) delay *= 2;
  return std::min(delay, options.max_delay);
}

Result<std::unique_ptr<RedisSupervisor>> RedisSupervisor::start(RedisServerOptions server,
                                                                SupervisorOptions options) {
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd < 0) return Error{fmt::format("redis supervisor: eventfd: {}", std::strerror(errno))};
  auto first = RedisServer::start(server);
  if (!first) {
    ::close(wake_fd);
    return first.error();
  }
  server.port = first->endpoint().port;  // restarts use the port clients know
  return std::unique_ptr<RedisSupervisor>(
      new RedisSupervisor(std::move(server), options, std::move(*first), wake_fd));
}

RedisSupervisor::RedisSupervisor(RedisServerOptions server_options, SupervisorOptions options,
                                 RedisServer server, int wake_fd)
    : server_options_(std::move(server_options)),
      options_(options),
      endpoint_(server.endpoint()),
      wake_fd_(wake_fd) {
  server_options_.cancel = &stopping_;
  pid_ = server.pid();
  server_.emplace(std::move(server));
  thread_ = std::thread([this] { watch(); });
}

RedisSupervisor::~RedisSupervisor() {
  if (Status stopped = stop(); !stopped) spdlog::error("{}", stopped.error().message);
  ::close(wake_fd_);
}

Status RedisSupervisor::stop() {
  std::lock_guard lock(stop_mutex_);
  stopping_ = true;
  if (thread_.joinable()) {
    const uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof one) < 0)
      spdlog::error("redis supervisor: eventfd: {}", std::strerror(errno));
    thread_.join();
  }
  if (!server_) return {};
  Status stopped = server_->stop();
  server_.reset();
  pid_ = -1;
  return stopped;
}

bool RedisSupervisor::wait_for_exit() {
  // A pidfd is readable once the process has exited; it cannot name another process meanwhile,
  // since only this thread reaps the child. Through syscall(): glibc 2.36's <sys/pidfd.h> lacks
  // extern "C" (fixed in 2.37). Without one (a kernel older than 5.3), look every 100 ms.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, server_->pid(), 0));
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {pidfd, POLLIN, 0}};
  while (!stopping_ && server_->running()) wait_readable(fds, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 100);
  if (pidfd >= 0) ::close(pidfd);
  return !stopping_;
}

bool RedisSupervisor::pause(std::chrono::milliseconds delay) {
  pollfd wake{wake_fd_, POLLIN, 0};
  wait_readable(&wake, 1, static_cast<int>(delay.count()));
  return !stopping_;
}

void RedisSupervisor::watch() {
  int quick_failures = 0;
  auto started_at = std::chrono::steady_clock::now();
  while (wait_for_exit()) {
    const pid_t dead = server_->pid();
    const Status ended = server_->stop();  // reaps it: no zombie
    server_.reset();
    pid_ = -1;
    quick_failures =
        std::chrono::steady_clock::now() - started_at < options_.stable_after ? quick_failures + 1 : 0;
    spdlog::error("redis-server (pid {}) on port {} died ({}); restarting it from its AOF in {} ms", dead,
                  endpoint_.port, ended ? "exit status 0" : ended.error().message,
                  restart_delay(options_, quick_failures).count());
    for (;;) {
      if (!pause(restart_delay(options_, quick_failures))) return;
      auto restarted = RedisServer::start(server_options_);
      if (restarted) {
        server_.emplace(std::move(*restarted));
        break;
      }
      if (stopping_) return;
      ++quick_failures;
      spdlog::error("restarting redis-server on port {} failed, next try in {} ms: {}", endpoint_.port,
                    restart_delay(options_, quick_failures).count(), restarted.error().message);
    }
    started_at = std::chrono::steady_clock::now();
    ++restarts_;
    pid_ = server_->pid();  // after the count: whoever sees the new pid sees the restart counted
    spdlog::info("redis-server restarted on port {} (pid {}, restart {})", endpoint_.port, pid_.load(),
                 restarts_.load());
  }
}

}  // namespace reel::redis
