// Purger against stand-ins for Varnish (loopback listeners that record each request and answer
// with a chosen status): names gathered into one purge per node, sent again after the repeat,
// long lists split, a node that fails counted without holding back the others.
#include "purge/purger.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "support/fixtures.h"
#include "support/http_client.h"

namespace reel::purge {
namespace {

// A listener on a free loopback port that answers every request with `status` and keeps each
// request's xkey-purge header. Stopped (and joined) by its destructor.
class FakeVarnish {
 public:
  explicit FakeVarnish(int status = 200) : status_(status) {
    listener_ = testing::listen_on_loopback(port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeVarnish() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }

  HostPort node() const { return {"127.0.0.1", port_}; }
  std::vector<std::string> keys() {
    std::lock_guard lock(mutex_);
    return keys_;
  }

 private:
  void serve() {
    while (!stopping_) {
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      const size_t at = request.find("xkey-purge: ");
      if (request.starts_with("PURGE / HTTP/1.1\r\n") && at != std::string::npos) {
        std::lock_guard lock(mutex_);
        keys_.push_back(request.substr(at + 12, request.find("\r\n", at) - at - 12));
      }
      const std::string answer = "HTTP/1.1 " + std::to_string(status_) + " X\r\nContent-Length: 0\r\n\r\n";
      ::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }

  const int status_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<std::string> keys_;
  std::thread thread_;
};

TEST(PurgeNodes, AreReadFromACommaSeparatedList) {
  auto nodes = parse_nodes(" 127.0.0.1:6081, varnish2:6082 ,");
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[1].host, "varnish2");
  EXPECT_EQ((*nodes)[1].port, 6082);
  EXPECT_TRUE(parse_nodes("")->empty());
  auto bad = parse_nodes("127.0.0.1:6081, nowhere");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("nowhere"), std::string::npos);
}

TEST(SendPurge, SucceedsOnlyOnA200) {
  FakeVarnish fine(200), refusing(403);
  EXPECT_TRUE(send_purge(fine.node(), "video:1", std::chrono::seconds(5)).ok());
  EXPECT_EQ(fine.keys(), std::vector<std::string>{"video:1"});
  Status refused = send_purge(refusing.node(), "video:1", std::chrono::seconds(5));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("403"), std::string::npos);
  EXPECT_FALSE(send_purge({"127.0.0.1", testing::free_port()}, "video:1", std::chrono::seconds(5)).ok());
}

TEST(Purger, SendsTheNamesOfAChangeToEveryNodeAndAgainAfterTheRepeat) {
  FakeVarnish first, second;
  {
    Purger purger({.nodes = {first.node(), second.node()},
                   .batch = std::chrono::milliseconds(10),
                   .repeat = std::chrono::milliseconds(20)});
    const std::vector<std::string> changed{"video:7", "user:3", "lists"};
    purger.changed(changed);
    ASSERT_TRUE(testing::eventually([&] { return second.keys().size() >= 2; }));
    EXPECT_EQ(purger.stats().failed, 0u);
  }
  for (FakeVarnish* node : {&first, &second}) {
    const std::vector<std::string> keys = node->keys();
    ASSERT_GE(keys.size(), 2u);
    EXPECT_EQ(keys[0], "lists video:7") << "one purge for both names that tag pages";
    EXPECT_EQ(keys[1], "lists video:7") << "the repeat";
  }
}

TEST(Purger, SplitsLongListsAndCountsANodeThatFails) {
  FakeVarnish fine, refusing(500);
  std::vector<std::string> changed;
  for (int i = 0; i < 1000; ++i) changed.push_back("video:" + std::to_string(1000000 + i));
  {
    Purger purger({.nodes = {refusing.node(), fine.node()}, .repeat = std::chrono::milliseconds(0)});
    purger.changed(changed);
    ASSERT_TRUE(testing::eventually([&] {
      size_t names = 0;
      for (const std::string& keys : fine.keys())
        names += static_cast<size_t>(std::count(keys.begin(), keys.end(), ' ')) + 1;
      return names == changed.size();
    }));
    EXPECT_GE(purger.stats().failed, 3u) << "each part refused by the failing node";
    EXPECT_EQ(purger.stats().purges, fine.keys().size());
  }
  for (const std::string& keys : fine.keys()) EXPECT_LE(keys.size(), 4000u);
}

}  // namespace
}  // namespace reel::purge
