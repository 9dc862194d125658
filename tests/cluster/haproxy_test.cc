// HAProxy (deploy/haproxy/haproxy.cfg, Debian's haproxy 2.6) on loopback in front of real
// redis-servers — a primary and a replica — and of `reel up`: the Redis write pool reaches the
// primary only (its check asks for role:master), the read pool any node that answers, and the app
// pool only the app server that is ready.
#include <gtest/gtest.h>

#include "cluster/front_engines.h"
#include "process/child.h"
#include "redis/blocking_client.h"
#include "redis/reply.h"
#include "redis/server.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/reel_up.h"

namespace reel {
namespace {

using namespace std::chrono_literals;

using testing::loopback;

// The role a Redis reached through `port` reports ("master", "slave"); "" when it cannot be asked.
std::string role_through(uint16_t port) {
  redis::ConnectionOptions options;
  options.endpoint = {"127.0.0.1", port};
  options.connect_timeout = 2s;
  auto client = redis::BlockingClient::connect(options);
  if (!client) return "";
  auto info = client->execute(redis::Command("INFO", "replication"));
  if (!info || info->is_error()) return "";
  return std::string(redis::info_field(info->str(), "role"));
}

TEST(HaproxyInFront, RedisWritesReachThePrimaryOnlyAndPagesTheReadyAppServer) {
  testing::TempDir dir;
  auto primary = redis::RedisServer::start({.dir = (dir.path() / "primary").string()});
  ASSERT_TRUE(primary) << primary.error().message;
  auto replica = redis::RedisServer::start(
      {.dir = (dir.path() / "replica").string(),
       .extra_config_lines = {"replicaof 127.0.0.1 " + std::to_string(primary->endpoint().port)}});
  ASSERT_TRUE(replica) << replica.error().message;
  auto up = testing::ReelUp::start_fresh(dir.path() / "up");
  ASSERT_TRUE(up) << up.error().message;

  const uint16_t write_port = testing::free_port(), read_port = testing::free_port(),
                 app_port = testing::free_port();
  auto haproxy =
      testing::spawn_haproxy(dir.path() / "haproxy.log", {{"APP_LISTEN", loopback(app_port)},
                                                          {"APP1", loopback((*up)->port())},
                                                          {"REDIS_WRITE", loopback(write_port)},
                                                          {"REDIS_READ", loopback(read_port)},
                                                          {"REDIS1", loopback(replica->endpoint().port)},
                                                          {"REDIS2", loopback(primary->endpoint().port)}});
  ASSERT_TRUE(haproxy) << haproxy.error().message;

  // Once the checks have run (servers count as up until their first one), every write connection
  // lands on the primary, never the replica or the missing node.
  EXPECT_TRUE(testing::eventually([&] {
    for (int connection = 0; connection < 4; ++connection) {
      if (role_through(write_port) != "master") return false;
    }
    return true;
  })) << testing::read_file(dir.path() / "haproxy.log");
  for (int connection = 0; connection < 6; ++connection) EXPECT_EQ(role_through(write_port), "master");
  // Reads spread over every node that answers: the replica among them.
  EXPECT_TRUE(testing::eventually([&] { return role_through(read_port) == "slave"; }));
  // The app pool: once the checks have found the second app server missing, every request goes
  // to the one that is ready.
  auto ready = [&] {
    auto reply = testing::http_get(app_port, "/readyz");
    return reply && reply->status == 200;
  };
  EXPECT_TRUE(testing::eventually([&] {
    for (int request = 0; request < 4; ++request) {
      if (!ready()) return false;
    }
    return true;
  })) << testing::read_file(dir.path() / "haproxy.log");
  for (int request = 0; request < 8; ++request) EXPECT_TRUE(ready()) << request;
  haproxy->stop();
}

}  // namespace
}  // namespace reel
