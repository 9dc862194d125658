#include "purge/purger.h"

#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/text.h"

namespace reel::purge {
namespace {

// Varnish refuses a request header line past http_req_hdr_len (8 KB by default): longer name
// lists go out as several purges.
constexpr size_t max_keys_bytes = 4000;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Waits until `fd` is ready for `events`; false on timeout or error.
bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  return ready > 0 && (p.revents & (events | POLLHUP)) != 0;
}

Result<std::string> exchange(const HostPort& node, const std::string& request,
                             std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(node.port);
  if (int failed = ::getaddrinfo(node.host.c_str(), port.c_str(), &hints, &found); failed != 0)
    return Error{fmt::format("cannot resolve {}: {}", node.host, ::gai_strerror(failed))};
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
  Socket socket(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (socket.fd() < 0) return Error{fmt::format("socket: {}", std::strerror(errno))};
  if (::connect(socket.fd(), found->ai_addr, found->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return Error{fmt::format("connect: {}", std::strerror(errno))};
    if (!wait_for(socket.fd(), POLLOUT, timeout)) return Error{"connect timed out"};
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return Error{fmt::format("connect: {}", std::strerror(error))};
  }
  for (size_t sent = 0; sent < request.size();) {
    if (!wait_for(socket.fd(), POLLOUT, timeout)) return Error{"sending timed out"};
    const ssize_t n = ::send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return Error{fmt::format("send: {}", std::strerror(errno))};
    if (n > 0) sent += static_cast<size_t>(n);
  }
  // The status line is all that matters; Connection: close ends the answer.
  std::string answer;
  char buffer[512];
  while (answer.find("\r\n") == std::string::npos) {
    if (!wait_for(socket.fd(), POLLIN, timeout)) return Error{"no answer in time"};
    const ssize_t n = ::recv(socket.fd(), buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return Error{fmt::format("recv: {}", std::strerror(errno))};
    }
    answer.append(buffer, static_cast<size_t>(n));
  }
  return answer.substr(0, answer.find("\r\n"));
}

}  // namespace

Result<std::vector<HostPort>> parse_nodes(std::string_view text) {
  std::vector<HostPort> nodes;
  while (!text.empty()) {
    const size_t comma = std::min(text.find(','), text.size());
    const std::string_view entry = trim(text.substr(0, comma));
    text.remove_prefix(std::min(comma + 1, text.size()));
    if (entry.empty()) continue;
    auto node = parse_host_port(entry);
    if (!node) return Error{fmt::format("'{}': {}", entry, node.error().message)};
    nodes.push_back(std::move(*node));
  }
  return nodes;
}

Status send_purge(const HostPort& node, std::string_view keys, std::chrono::milliseconds timeout) {
  const std::string request = fmt::format(
      "PURGE / HTTP/1.1\r\nHost: {}\r\nxkey-purge: {}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      node.host, keys);
  auto status = exchange(node, request, timeout);
  if (!status) return status.error();
  if (!status->starts_with("HTTP/1.1 200") && !status->starts_with("HTTP/1.0 200"))
    return Error{fmt::format("answered '{}'", *status)};
  return {};
}

Purger::Purger(PurgerOptions options) : options_(std::move(options)), last_logged_(options_.nodes.size()) {
  thread_.emplace(
      options_.batch, [this] { return send_due(); }, PeriodicThread::Options{.tick_on_stop = true});
}

Purger::~Purger() {
  thread_.reset();
}

bool tags_pages(std::string_view object) {
  return object.starts_with("video:") || object.starts_with("playlist:") || object == all_lists_object;
}

void Purger::changed(std::span<const std::string> objects) {
  if (options_.nodes.empty()) return;
  std::lock_guard lock(mutex_);
  for (const std::string& object : objects) {
    if (tags_pages(object)) pending_.insert(object);
  }
}

bool Purger::send_due() {
  std::set<std::string> names;
  {
    std::lock_guard lock(mutex_);
    names.swap(pending_);
  }
  const auto now = std::chrono::steady_clock::now();
  // The names as space-separated lists of at most max_keys_bytes each.
  std::vector<std::string> batches;
  for (const std::string& name : names) {
    if (batches.empty() || batches.back().size() + name.size() + 1 > max_keys_bytes) batches.emplace_back();
    if (!batches.back().empty()) batches.back() += ' ';
    batches.back() += name;
  }
  while (!repeats_.empty() && repeats_.front().due <= now) {
    send_to_all(repeats_.front().keys);
    repeats_.pop_front();
  }
  for (std::string& keys : batches) {
    send_to_all(keys);
    if (options_.repeat.count() > 0) repeats_.push_back({now + options_.repeat, std::move(keys)});
  }
  return true;
}

void Purger::send_to_all(const std::string& keys) {
  for (size_t i = 0; i < options_.nodes.size(); ++i) {
    const HostPort& node = options_.nodes[i];
    Status sent = send_purge(node, keys, options_.timeout);
    if (sent) {
      purges_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    failed_.fetch_add(1, std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (last_logged_[i] == TimePoint{} || now - last_logged_[i] >= std::chrono::minutes(1)) {
      last_logged_[i] = now;
      spdlog::warn("purging {}:{} failed: {} (pages there age out by their max-age)", node.host, node.port,
                   sent.error().message);
    }
  }
}

}  // namespace reel::purge
