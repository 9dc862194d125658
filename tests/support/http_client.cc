#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <thread>

namespace reel::testing {

void wait_a_little() {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

Result<HttpReply> http_request(uint16_t port, const std::string& method, const std::string& target,
                               const std::string& extra_headers, std::chrono::milliseconds timeout) {
  return http_call(port, method, target, extra_headers, "", timeout);
}

Result<HttpReply> http_call(uint16_t port, const std::string& method, const std::string& target,
                            const std::string& extra_headers, const std::string& body,
                            std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{"socket failed"};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return Error{"connect failed"};
  }
  const std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers +
      (body.empty() ? "" : "Content-Length: " + std::to_string(body.size()) + "\r\n") + "\r\n" + body;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return Error{"send failed"};
  }
  std::string raw;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[65536];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::close(fd);
      return Error{"timed out waiting for the response"};
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0) {
      ::close(fd);
      return Error{"recv failed"};
    }
    if (n == 0) break;
    raw.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos || raw.compare(0, 9, "HTTP/1.1 ") != 0)
    return Error{"malformed response"};
  HttpReply reply;
  reply.status = std::stoi(raw.substr(9, 3));
  size_t line = raw.find("\r\n") + 2;
  while (line < header_end) {
    size_t end = raw.find("\r\n", line);
    std::string header = raw.substr(line, end - line);
    size_t colon = header.find(':');
    if (colon != std::string::npos) {
      std::string name = header.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      size_t value = header.find_first_not_of(' ', colon + 1);
      std::string text = value == std::string::npos ? "" : header.substr(value);
      // Repeated headers (Set-Cookie) are kept one per line.
      auto [it, added] = reply.headers.emplace(name, text);
      if (!added) it->second += "\n" + text;
    }
    line = end + 2;
  }
  reply.body = raw.substr(header_end + 4);
  return reply;
}

}  // namespace reel::testing
