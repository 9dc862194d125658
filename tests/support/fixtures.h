// Fixtures every suite shares: a private temporary directory, a free loopback port, a file's bytes.
// Thread-safety: none needed (each test owns its values).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace reel::testing {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
// Aborts if it cannot be created (a test machine without a writable temp dir is broken).
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A TCP port on 127.0.0.1 that nothing listened on a moment ago (bound to port 0, then closed).
// Aborts if no socket can be bound.
uint16_t free_port();

// A listening socket (the caller closes it) on a free 127.0.0.1 port, which it sets in `port`.
// Aborts if none can be bound.
int listen_on_loopback(uint16_t& port);

// The whole of a file, bytes as they are; empty when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace reel::testing
