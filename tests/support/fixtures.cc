#include "support/fixtures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

namespace reel::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "reel-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

namespace {

// A socket bound to a free loopback port, and that port; aborts when none can be bound.
std::pair<int, uint16_t> bind_loopback() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::perror("binding a loopback port");
    std::abort();
  }
  return {fd, ntohs(address.sin_port)};
}

}  // namespace

uint16_t free_port() {
  const auto [fd, port] = bind_loopback();
  close(fd);
  return port;
}

int listen_on_loopback(uint16_t& port) {
  const auto [fd, bound] = bind_loopback();
  if (listen(fd, 64) != 0) {
    std::perror("listening on a loopback port");
    std::abort();
  }
  port = bound;
  return fd;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace reel::testing
