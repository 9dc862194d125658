// scripts/cluster end to end: `up` starts every part of deploy/'s topology (status says each is up,
// with the Redis and MariaDB roles), a page is served through HAProxy and Varnish, a write made
// through HAProxy lands on the MariaDB primary and replicates to the backup primary and the
// replica, and `down` leaves no process it started behind.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "cluster/cluster.h"
#include "support/http_client.h"

namespace reel {
namespace {

bool gone(pid_t pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

TEST(ClusterScript, StartsEveryPartServesAndReplicatesAWriteAndStopsEverything) {
  auto cluster = testing::Cluster::up();
  ASSERT_TRUE(cluster) << cluster.error().message;
  auto& c = **cluster;

  const auto status = c.run("status");
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_TRUE(testing::parts_not_up(status.output).empty()) << status.output;
  for (const std::string& expected : std::vector<std::string>{
           "redis1          127.0.0.1", "master", "slave", "sentinel, primary", "mariadb1        127.0.0.1",
           "primary", "replica of 127.0.0.1:" + std::to_string(c.port("mariadb1")) + " (io Yes, sql Yes)",
           "replica of 127.0.0.1:" + std::to_string(c.port("mariadb2")) + " (io Yes, sql Yes)", "views-1-2",
           "views-2-2", "varnish2", "serve2", "worker2"}) {
    EXPECT_NE(status.output.find(expected), std::string::npos) << expected << "\n" << status.output;
  }
  // Twenty-one parts, each on its line, and every pid file names a live process.
  EXPECT_EQ(std::count(status.output.begin(), status.output.end(), '\n'), 21) << status.output;
  const auto pids = c.pids();
  EXPECT_EQ(pids.size(), 21u);

  // A page of the seeded catalog through HAProxy and Varnish, and a static file from nginx.
  auto page = testing::http_get(c.site_port(), "/");
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/watch/"), std::string::npos);
  auto css = testing::http_get(c.site_port(), "/static/css/reel.css");
  ASSERT_TRUE(css) << css.error().message;
  EXPECT_EQ(css->status, 200);
  EXPECT_EQ(css->header("cache-control"), "public, max-age=300");
  // The page names the versioned file, which nginx maps to the same bytes, kept for a year.
  const size_t at = page->body.find("/static/css/reel.");
  ASSERT_NE(at, std::string::npos);
  const std::string versioned = page->body.substr(at, page->body.find('"', at) - at);
  EXPECT_NE(versioned, "/static/css/reel.css");
  auto immutable = testing::http_get(c.site_port(), versioned);
  ASSERT_TRUE(immutable) << immutable.error().message;
  EXPECT_EQ(immutable->status, 200) << versioned;
  EXPECT_EQ(immutable->body, css->body);
  EXPECT_EQ(immutable->header("cache-control"), "public, max-age=31536000, immutable");

  // A write through HAProxy: on the primary, the backup primary (semi-sync: already there once
  // acknowledged) and, soon, the replica.
  const std::string name = "probe" + std::to_string(::getpid());
  auto created = testing::http_call(
      c.site_port(), "POST", "/api/v1/users",
      "Content-Type: application/json\r\nAuthorization: Bearer " + c.admin_token() + "\r\n",
      R"({"username":")" + name + R"(","email":")" + name +
          R"(@example.com","password":"correct horse battery"})");
  ASSERT_TRUE(created) << created.error().message;
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string query = "SELECT name FROM reel.users WHERE name = '" + name + "'";
  for (const char* node : {"mariadb1", "mariadb2"}) {
    auto rows = c.sql(node, query);
    ASSERT_TRUE(rows) << rows.error().message;
    EXPECT_EQ(*rows, name + "\n") << node;
  }
  EXPECT_TRUE(testing::eventually([&] {
    auto rows = c.sql("mariadb3", query);
    return rows && *rows == name + "\n";
  }));

  // `up` again says it is running and starts nothing.
  const auto again = c.run("up");
  EXPECT_EQ(again.status, 0);
  EXPECT_NE(again.output.find("already running"), std::string::npos) << again.output;
  EXPECT_EQ(c.pids(), pids);

  const auto down = c.down();
  EXPECT_EQ(down.status, 0) << down.output;
  for (const auto& [part, pid] : pids)
    EXPECT_TRUE(gone(pid)) << part << " (pid " << pid << ") is still running";
  const auto after = c.run("status");
  EXPECT_NE(after.status, 0);
  EXPECT_EQ(testing::parts_not_up(after.output).size(), 21u) << after.output;
}

}  // namespace
}  // namespace reel
