#include "event_log/event_log.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "common/host_port.h"

namespace reel::event_log {
namespace {

constexpr std::string_view default_syslog_socket = "/dev/log";

class Counters {
 public:
  bool count(bool sent) {
    (sent ? sent_ : dropped_).fetch_add(1, std::memory_order_relaxed);
    return sent;
  }
  Stats stats() const {
    return {sent_.load(std::memory_order_relaxed), dropped_.load(std::memory_order_relaxed)};
  }

 private:
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> dropped_{0};
};

std::string errno_text() {
  return std::strerror(errno);
}

// A connected datagram socket (UDP or unix): one line per datagram, never blocking.
class DatagramLog final : public EventLog {
 public:
  DatagramLog(int fd, std::string description) : fd_(fd), description_(std::move(description)) {}
  ~DatagramLog() override { ::close(fd_); }

  bool write(std::string_view line) override {
    ssize_t n = ::send(fd_, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    return counters_.count(n == static_cast<ssize_t>(line.size()));
  }
  Stats stats() const override { return counters_.stats(); }
  std::string describe() const override { return description_; }

 private:
  int fd_;
  std::string description_;
  Counters counters_;
};

Result<std::unique_ptr<EventLog>> open_udp(std::string_view address) {
  auto endpoint = parse_host_port(address);
  if (!endpoint) return Error{"event log udp: " + endpoint.error().message};
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port = std::to_string(endpoint->port);
  if (int rc = ::getaddrinfo(endpoint->host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Error{"event log udp: cannot resolve " + endpoint->host + ": " + ::gai_strerror(rc)};
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);
  int fd = ::socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{"event log udp: socket: " + errno_text()};
  if (::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    std::string message = "event log udp: connect " + std::string(address) + ": " + errno_text();
    ::close(fd);
    return Error{message};
  }
  return std::unique_ptr<EventLog>(new DatagramLog(fd, "udp:" + std::string(address)));
}

Result<std::unique_ptr<EventLog>> open_syslog(std::string_view path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    return Error{"event log syslog: bad socket path '" + std::string(path) + "'"};
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{"event log syslog: socket: " + errno_text()};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::string message =
        "event log syslog: connect " + std::string(path) + ": " + errno_text() + " (is syslog-ng running?)";
    ::close(fd);
    return Error{message};
  }
  return std::unique_ptr<EventLog>(new DatagramLog(fd, "syslog:" + std::string(path)));
}

// Appends lines to a file from a thread of its own, so a slow disk never stalls a request.
class FileLog final : public EventLog {
 public:
  FileLog(int fd, std::string path, size_t max_queued)
      : fd_(fd), path_(std::move(path)), max_queued_(max_queued), writer_([this] { run(); }) {}
  ~FileLog() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    writer_.join();
    ::close(fd_);
  }

  bool write(std::string_view line) override {
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() + line.size() + 1 > max_queued_) return counters_.count(false);
      queue_.append(line);
      queue_.push_back('\n');
    }
    wake_.notify_one();
    return counters_.count(true);
  }
  Stats stats() const override { return counters_.stats(); }
  std::string describe() const override { return "file:" + path_; }

 private:
  void run() {
    std::string batch;
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      batch.swap(queue_);
      lock.unlock();
      write_all(batch);
      batch.clear();
      lock.lock();
    }
  }
  // A write error loses the batch (the file target is best effort, like a full socket buffer).
  void write_all(std::string_view bytes) const {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }

  int fd_;
  std::string path_;
  size_t max_queued_;
  Counters counters_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string queue_;
  bool stopping_ = false;
  std::thread writer_;  // last: started after everything it uses
};

Result<std::unique_ptr<EventLog>> open_file(std::string_view path, size_t max_queued) {
  std::string file(path);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return Error{"event log file: cannot open " + file + ": " + errno_text()};
  return std::unique_ptr<EventLog>(new FileLog(fd, std::move(file), max_queued));
}

class NullLog final : public EventLog {
 public:
  bool write(std::string_view) override { return counters_.count(false); }
  Stats stats() const override { return counters_.stats(); }
  std::string describe() const override { return "none"; }

 private:
  Counters counters_;
};

class QueueLog final : public EventLog {
 public:
  explicit QueueLog(std::shared_ptr<LineQueue> queue) : queue_(std::move(queue)) {}
  bool write(std::string_view line) override { return counters_.count(queue_->push(line)); }
  Stats stats() const override { return counters_.stats(); }
  std::string describe() const override { return "in-process queue"; }

 private:
  std::shared_ptr<LineQueue> queue_;
  Counters counters_;
};

}  // namespace

std::unique_ptr<EventLog> EventLog::to_queue(std::shared_ptr<LineQueue> queue) {
  return std::make_unique<QueueLog>(std::move(queue));
}

Result<std::unique_ptr<EventLog>> EventLog::open(const Options& options) {
  std::string_view target = options.target;
  auto after = [&](std::string_view prefix) { return target.substr(prefix.size()); };
  if (target == "none") return std::unique_ptr<EventLog>(new NullLog);
  if (target == "syslog") return open_syslog(default_syslog_socket);
  if (target.starts_with("syslog:")) return open_syslog(after("syslog:"));
  if (target.starts_with("udp:")) return open_udp(after("udp:"));
  if (target.starts_with("file:")) return open_file(after("file:"), options.max_queued_bytes);
  return Error{"event log: unknown sink '" + options.target +
               "' (expected syslog, syslog:PATH, udp:HOST:PORT, file:PATH or none)"};
}

}  // namespace reel::event_log
