#include "http/test_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/text.h"

namespace reel::http::testing {

std::optional<std::string_view> RawResponse::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

RawConnection::RawConnection(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    connect_errno_ = errno;
    ::close(fd_);
    fd_ = -1;
    return;
  }
  const int enable = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &enable, sizeof enable);
}

RawConnection::~RawConnection() {
  close();
}

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Receives once into `buffer` when bytes (or the peer's close or reset) arrive before `deadline`;
// returns recv's result (0: closed, -1: reset), or nullopt when nothing arrived in time.
std::optional<ssize_t> RawConnection::receive(char* buffer, size_t size,
                                              std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd waiting{fd_, POLLIN, 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    const ssize_t n = ::recv(fd_, buffer, size, 0);
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

bool RawConnection::fill(std::chrono::steady_clock::time_point deadline) {
  char chunk[64 * 1024];
  const std::optional<ssize_t> n = receive(chunk, sizeof chunk, deadline);
  if (!n || *n <= 0) return false;
  buffered_.append(chunk, static_cast<size_t>(*n));
  return true;
}

std::optional<RawResponse> RawConnection::read_response(bool expect_body, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t header_end;
  while ((header_end = buffered_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return std::nullopt;
  }
  const std::string head = buffered_.substr(0, header_end + 2);
  buffered_.erase(0, header_end + 4);

  RawResponse response;
  size_t line_end = head.find("\r\n");
  const std::string_view status_line = std::string_view(head).substr(0, line_end);
  // "HTTP/1.1 200 OK"
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return std::nullopt;
  std::from_chars(status_line.data() + 9, status_line.data() + 12, response.status);
  size_t position = line_end + 2;
  while (position < head.size()) {
    line_end = head.find("\r\n", position);
    const std::string_view line = std::string_view(head).substr(position, line_end - position);
    const size_t colon = line.find(':');
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    response.headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
    position = line_end + 2;
  }
  size_t length = 0;
  if (auto content_length = response.header("Content-Length"); content_length && expect_body) {
    std::from_chars(content_length->data(), content_length->data() + content_length->size(), length);
  }
  while (buffered_.size() < length) {
    if (!fill(deadline)) return std::nullopt;
  }
  response.body = buffered_.substr(0, length);
  buffered_.erase(0, length);
  return response;
}

bool RawConnection::read_some(size_t bytes, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffered_.size() < bytes) {
    if (!fill(deadline)) return false;
  }
  return true;
}

bool RawConnection::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char byte;
  const std::optional<ssize_t> n = receive(&byte, 1, deadline);
  return n && *n <= 0;
}

std::optional<RawResponse> RawConnection::get(std::string_view target) {
  if (!send("GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n\r\n")) return std::nullopt;
  return read_response();
}

ServerThread::ServerThread(ServerOptions options, HandlerFactory factory)
    : server_(std::move(options), std::move(factory)), result_(finished_.get_future()) {
  const Status bound = server_.bind();
  EXPECT_TRUE(bound.ok()) << (bound.ok() ? "" : bound.error().message);
  thread_ = std::thread([this] { finished_.set_value(server_.run()); });
}

ServerThread::~ServerThread() {
  if (!joined_) {
    server_.stop();
    thread_.join();
  }
}

bool ServerThread::wait_stopped(std::chrono::milliseconds timeout) {
  if (joined_) return true;
  if (result_.wait_for(timeout) != std::future_status::ready) return false;
  thread_.join();
  joined_ = true;
  const Status status = result_.get();
  EXPECT_TRUE(status.ok()) << (status.ok() ? "" : status.error().message);
  return status.ok();
}

bool ServerThread::stop_and_wait(std::chrono::milliseconds timeout) {
  server_.stop();
  return wait_stopped(timeout);
}

ServerOptions test_options() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 1;
  options.handle_signals = false;
  options.drain_timeout = 5s;
  return options;
}

TinyFileSystem::TinyFileSystem() {
  mounted_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700") == 0;
  error_ = mounted_ ? 0 : errno;
}

TinyFileSystem::~TinyFileSystem() {
  if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
}

std::string TinyFileSystem::error() const {
  return std::strerror(error_);
}

}  // namespace reel::http::testing
