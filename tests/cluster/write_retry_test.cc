// A write passed through Varnish (deploy/varnish/reel.vcl) and HAProxy's app pool
// (deploy/haproxy/haproxy.cfg), both Debian's, to an app server that closes the connection without
// answering it, as one does when it dies: HAProxy does not send a write twice, and closes Varnish's
// kept-alive connection unanswered (HAProxy 2.6 does so for any request but a connection's first:
// HTTP/1.1's "retry me"). Varnish, which kept the body, sends it once more on a fresh connection,
// and the visitor's write succeeds instead of failing with a 503.
//
// The app server is a stand-in that fails on cue: a real `reel serve` killed while HAProxy sends
// it a write does the same, but only by chance (cluster_failure_test's OneAppServerKilled met it
// once in CI, as a 503 for a playlist created just after the kill).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/front_engines.h"
#include "process/child.h"
#include "support/fixtures.h"
#include "support/http_client.h"

namespace reel {
namespace {

using namespace std::chrono_literals;

using testing::loopback;

// The stand-in app server. /readyz (HAProxy's checks) is answered and the connection closed. A
// request whose body starts with "drop" is dropped with its connection the first time it comes;
// every other request is answered. It records the body of every request it read, dropped or not.
// Thread-safety: bodies() may be called from any thread; the server runs on its own threads until
// destroyed.
class AppDroppingOnCue {
 public:
  AppDroppingOnCue() : listener_(testing::listen_on_loopback(port_)) {
    acceptor_ = std::jthread([this] { accept_connections(); });
  }
  ~AppDroppingOnCue() {
    ::shutdown(listener_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    ::close(listener_);
    // No lock: the acceptor, the only writer of connections_ and readers_, has ended; the readers
    // take the mutex for bodies_, so holding it while joining them could deadlock.
    for (const int connection : connections_) ::shutdown(connection, SHUT_RDWR);  // wakes recv()
    for (std::jthread& reader : readers_) reader.join();
    for (const int connection : connections_) ::close(connection);
  }

  uint16_t port() const { return port_; }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_;
  }

 private:
  void accept_connections() {
    for (;;) {
      const int connection = ::accept(listener_, nullptr, nullptr);
      if (connection < 0) return;
      std::lock_guard lock(mutex_);
      connections_.push_back(connection);
      readers_.emplace_back([this, connection] { serve(connection); });
    }
  }

  // One request's head and body from `connection`; nullopt once it is closed or broken.
  static std::optional<std::pair<std::string, std::string>> read_request(int connection,
                                                                         std::string& buffer) {
    char chunk[4096];
    auto receive = [&] {
      const ssize_t n = ::recv(connection, chunk, sizeof chunk, 0);
      if (n > 0) buffer.append(chunk, static_cast<size_t>(n));
      return n > 0;
    };
    size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!receive()) return std::nullopt;
    }
    std::string head = buffer.substr(0, head_end);
    size_t length = 0;
    // HAProxy forwards header names in lower case.
    for (size_t at = 0; (at = head.find("\r\n", at)) != std::string::npos;) {
      at += 2;
      if (::strncasecmp(head.c_str() + at, "content-length:", 15) == 0) {
        length = std::strtoull(head.c_str() + at + 15, nullptr, 10);
      }
    }
    const size_t body_start = head_end + 4;
    while (buffer.size() < body_start + length) {
      if (!receive()) return std::nullopt;
    }
    std::string body = buffer.substr(body_start, length);
    buffer.erase(0, body_start + length);
    return std::pair{std::move(head), std::move(body)};
  }

  void serve(int connection) {
    std::string buffer;
    for (;;) {
      auto read = read_request(connection, buffer);
      if (!read) return;
      auto& [head, body] = *read;
      if (head.starts_with("GET /readyz ")) {
        const std::string ready = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        ::send(connection, ready.data(), ready.size(), MSG_NOSIGNAL);
        ::shutdown(connection, SHUT_RDWR);
        return;
      }
      bool drop = false;
      {
        std::lock_guard lock(mutex_);
        drop = body.starts_with("drop") && std::find(bodies_.begin(), bodies_.end(), body) == bodies_.end();
        bodies_.push_back(body);
      }
      if (drop) {
        ::shutdown(connection, SHUT_RDWR);
        return;
      }
      const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: private\r\n\r\nok";
      ::send(connection, answer.data(), answer.size(), MSG_NOSIGNAL);
    }
  }

  uint16_t port_ = 0;
  const int listener_;
  mutable std::mutex mutex_;
  std::vector<int> connections_;
  std::vector<std::jthread> readers_;
  std::vector<std::string> bodies_;
  std::jthread acceptor_;
};

TEST(WriteRetry, AWriteHaproxyClosedUnansweredIsSentOnceMoreByVarnish) {
  testing::TempDir dir;
  AppDroppingOnCue app;

  const uint16_t app_pool = testing::free_port();
  auto haproxy = testing::spawn_haproxy(dir.path() / "haproxy.log",
                                        {{"APP_LISTEN", loopback(app_pool)}, {"APP1", loopback(app.port())}});
  ASSERT_TRUE(haproxy) << haproxy.error().message;

  const uint16_t varnish_port = testing::free_port();
  auto varnish = testing::spawn_varnish(dir.path(),
                                        "backend app_pool { .host = \"127.0.0.1\"; .port = \"" +
                                            std::to_string(app_pool) +
                                            "\"; }\nacl purgers { \"127.0.0.1\"; }\n"
                                            "sub vcl_init { app.add_backend(app_pool); }\n",
                                        varnish_port);
  ASSERT_TRUE(varnish) << varnish.error().message;
  ASSERT_TRUE(testing::eventually([&] {
    auto health = testing::http_get(varnish_port, "/varnish-healthz");
    return health && health->status == 200;
  })) << testing::read_file(dir.path() / "varnish.log");

  // The first write opens Varnish's connection to HAProxy; the second goes down it, kept alive,
  // and the app server drops it the first time.
  auto first = testing::http_call(varnish_port, "POST", "/comments", "", "first");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->status, 200) << first->body;
  auto dropped = testing::http_call(varnish_port, "POST", "/comments", "", "drop once");
  ASSERT_TRUE(dropped) << dropped.error().message;
  EXPECT_EQ(dropped->status, 200) << dropped->body;
  EXPECT_EQ(app.bodies(), (std::vector<std::string>{"first", "drop once", "drop once"}));

  // A body over what Varnish keeps (the app's 1 MiB limit) streams through...
  const std::string large(1024 * 1024 + 1, 'x');
  auto upload = testing::http_call(varnish_port, "POST", "/upload", "", large);
  ASSERT_TRUE(upload) << upload.error().message;
  EXPECT_EQ(upload->status, 200) << upload->body;
  // ...and is never sent twice: dropped, it fails.
  auto dropped_upload = testing::http_call(varnish_port, "POST", "/upload", "", "drop" + large);
  ASSERT_TRUE(dropped_upload) << dropped_upload.error().message;
  EXPECT_EQ(dropped_upload->status, 503);
  const auto bodies = app.bodies();
  ASSERT_EQ(bodies.size(), 5u);
  EXPECT_EQ(bodies[3], large);
  EXPECT_EQ(bodies[4], "drop" + large);
  varnish->stop();
  haproxy->stop();
}

}  // namespace
}  // namespace reel
