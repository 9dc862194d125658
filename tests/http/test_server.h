// Test support for suites that run the real http::Server in-process: a thread that runs it, and a
// raw HTTP/1.1 client over a blocking socket whose every wait has a deadline.
// Thread-safety: each object is used from one test thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/message.h"
#include "http/server.h"
#include "support/fixtures.h"

namespace reel::http::testing {

using namespace std::chrono_literals;

// A response as it came off the wire.
struct RawResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const;
};

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; check connected() (errno_value() tells why not).
  explicit RawConnection(uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  int errno_value() const { return connect_errno_; }
  bool send(std::string_view bytes);
  void close();
  // Reads one response (status line, headers, Content-Length body; no body when `expect_body` is
  // false, as for HEAD). nullopt when the connection closes or the deadline passes first. The
  // default deadlines are generous for a loaded machine; only a failing test reaches them.
  std::optional<RawResponse> read_response(bool expect_body = true, std::chrono::milliseconds timeout = 60s);
  // Reads until at least `bytes` have arrived (kept unread, as the start of a response); false on
  // EOF, error or the deadline.
  bool read_some(size_t bytes, std::chrono::milliseconds timeout = 60s);
  // True when the server closes the connection (EOF or reset) within `timeout` without sending
  // more. The default stays under the server's default idle_timeout (60 s), so that close is
  // never mistaken for the one a test waits for.
  bool wait_closed(std::chrono::milliseconds timeout = 30s);
  // Sends one GET (HTTP/1.1, keep-alive) and reads its response.
  std::optional<RawResponse> get(std::string_view target);

 private:
  // Appends at least one byte to buffered_; false on EOF, error or deadline.
  bool fill(std::chrono::steady_clock::time_point deadline);
  std::optional<ssize_t> receive(char* buffer, size_t size, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  int connect_errno_ = 0;
  std::string buffered_;
};

// Binds the server on 127.0.0.1:0 (the constructor asserts that it bound) and runs it on a thread.
// The destructor stops it and waits for run() to return.
class ServerThread {
 public:
  ServerThread(ServerOptions options, HandlerFactory factory);
  ~ServerThread();
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  Server& server() { return server_; }
  uint16_t port() const { return server_.port(); }
  // stop(), then wait up to `timeout` for run() to return; true when it did, with an OK status.
  bool stop_and_wait(std::chrono::milliseconds timeout = 60s);
  // Waits up to `timeout` for run() to return on its own; true when it did, with an OK status.
  bool wait_stopped(std::chrono::milliseconds timeout = 60s);

 private:
  Server server_;
  std::promise<Status> finished_;
  std::future<Status> result_;
  std::thread thread_;
  bool joined_ = false;
};

// Options for a test server: loopback, a free port, no signal handling, short drain.
ServerOptions test_options();

// A 1 MiB tmpfs mounted on a fresh temporary directory, for tests of a full disk, when this process
// may mount (root); unmounted on destruction. Tests skip when mounted() is false.
class TinyFileSystem {
 public:
  TinyFileSystem();
  ~TinyFileSystem();
  TinyFileSystem(const TinyFileSystem&) = delete;
  TinyFileSystem& operator=(const TinyFileSystem&) = delete;

  bool mounted() const { return mounted_; }
  // Why it is not mounted.
  std::string error() const;
  const std::filesystem::path& path() const { return dir_.path(); }

 private:
  reel::testing::TempDir dir_;
  bool mounted_ = false;
  int error_ = 0;
};

}  // namespace reel::http::testing
