// MariadbServer: a private mariadbd for integration tests, in a temp dir of its own.
//
// start() runs mariadb-install-db (root authenticates by Unix socket), writes a my.cnf (a free
// port on 127.0.0.1, socket, pid file and data dir under the temp dir, small buffer pool, relaxed
// flushing), starts `mariadbd --defaults-file=F` (fork+exec; it dies with the test process),
// waits until it accepts a connection (with a deadline), and creates a password user for TCP
// tests. stop() sends SIGTERM and waits for the process to exit (SIGKILL after a deadline); the
// destructor stops a running server and removes the temp dir.
//
// Thread-safety: not thread-safe. Failure: start() returns an Error naming the step that failed,
// with the tail of the server's log.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "support/fixtures.h"

namespace reel::sql::testing {

class MariadbServer {
 public:
  // The user start() creates, with every privilege, for connections over TCP.
  static constexpr const char* tcp_user = "reel";
  static constexpr const char* tcp_password = "reel-test-secret";

  static Result<std::unique_ptr<MariadbServer>> start();

  MariadbServer(const MariadbServer&) = delete;
  MariadbServer& operator=(const MariadbServer&) = delete;
  ~MariadbServer();

  Status stop();

  uint16_t port() const { return port_; }
  // URL of `database` for root over the Unix socket.
  std::string root_url(const std::string& database) const;
  // URL of `database` for tcp_user over TCP.
  std::string tcp_url(const std::string& database) const;

 private:
  MariadbServer() = default;
  std::string path(const char* name) const { return (dir_.path() / name).string(); }
  std::string log_tail() const;

  reel::testing::TempDir dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace reel::sql::testing
