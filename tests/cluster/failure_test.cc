// The topology of scripts/cluster under steady load from a bounded client (load.h) while a part
// fails: what visitors see, that writes resume, and that no write the site acknowledged is lost.
// Each test starts its own cluster and prints its figures.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "cluster/cluster.h"
#include "cluster/load.h"
#include "process/child.h"
#include "projection/keys.h"
#include "redis/blocking_client.h"
#include "redis/reply.h"
#include "support/http_client.h"

namespace reel {
namespace {

using namespace std::chrono_literals;

// A server's state ("UP", "DOWN", ...) in HAProxy's CSV stats (its 18th column); "" if absent.
std::string server_state(const std::string& csv, const std::string& backend, const std::string& server) {
  std::istringstream lines(csv);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(backend + "," + server + ",")) continue;
    std::istringstream fields(line);
    std::string field;
    for (int column = 0; column < 18 && std::getline(fields, field, ',');) ++column;
    return field;
  }
  return "";
}

class ClusterFailure : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::Cluster::up();
    ASSERT_TRUE(started) << started.error().message;
    cluster_ = std::move(*started);
  }

  // Pages cached by Varnish and addresses no cache holds (they reach an app server), and, with
  // `writes`, a signed-in user creating playlists; returns once reads and writes succeed.
  void start_load(bool writes, std::vector<std::string> targets = {"/", "/?load={n}"}) {
    testing::Load::Options options;
    options.port = cluster_->site_port();
    options.targets = std::move(targets);
    if (writes) {
      auto writer = testing::sign_up(cluster_->site_port(), "loader" + std::to_string(::getpid()));
      ASSERT_TRUE(writer) << writer.error().message;
      options.writer = *writer;
    }
    load_ = std::make_unique<testing::Load>(std::move(options));
    ASSERT_TRUE(testing::eventually([&] {
      return load_->reads_ok() >= 20 && (!writes || load_->writes_ok_since_fault() >= 3);
    })) << cluster_->log_tails();
  }

  // SIGKILL to `part`, the moment before marked as the fault; returns once it is gone.
  void kill_part(const std::string& part) {
    const auto pids = cluster_->pids();
    ASSERT_TRUE(pids.contains(part));
    load_->mark_fault();
    ASSERT_EQ(::kill(pids.at(part), SIGKILL), 0) << part;
    ASSERT_TRUE(testing::eventually([&] { return ::kill(pids.at(part), 0) != 0 && errno == ESRCH; })) << part;
  }

  // Waits until visitors are served again and, with `writes`, writes are acknowledged again.
  void await_recovery(bool writes) {
    EXPECT_TRUE(testing::eventually(
        [&] {
          return load_->reads_ok_since_fault() >= 100 && (!writes || load_->writes_ok_since_fault() >= 10);
        },
        120s))
        << cluster_->run("status").output << cluster_->log_tails();
  }

  // The acknowledged playlists found in SQL on `node` (every one, when no write was lost).
  size_t writes_found(const testing::LoadFigures& figures, const std::string& node) {
    auto rows = cluster_->sql(node, "SELECT title FROM reel.playlists");
    EXPECT_TRUE(rows) << rows.error().message;
    if (!rows) return 0;
    std::set<std::string> titles;
    std::istringstream in(*rows);
    for (std::string line; std::getline(in, line);) titles.insert(line);
    size_t found = 0;
    for (const std::string& title : figures.acknowledged_titles) {
      if (titles.contains(title))
        ++found;
      else
        ADD_FAILURE() << "acknowledged but missing on " << node << ": " << title;
    }
    return found;
  }

  // A server's state in one of HAProxy's pools.
  std::string pool_state(const std::string& backend, const std::string& server) {
    auto stats = testing::http_get(cluster_->port("haproxy-stats"), "/;csv");
    return stats ? server_state(stats->body, backend, server) : "";
  }

  // A number from INFO replication of Redis node `node` (e.g. master_repl_offset); -1 when it
  // cannot be read.
  int64_t replication_offset(const std::string& node, const std::string& field) {
    redis::ConnectionOptions options;
    options.endpoint = {"127.0.0.1", cluster_->port(node)};
    options.connect_timeout = 2s;
    auto client = redis::BlockingClient::connect(options);
    if (!client) return -1;
    auto info = client->execute(redis::Command("INFO", "replication"));
    if (!info || info->is_error()) return -1;
    const std::string value(redis::info_field(info->str(), field));
    return value.empty() ? -1 : std::stoll(value);
  }

  std::unique_ptr<testing::Cluster> cluster_;
  std::unique_ptr<testing::Load> load_;
};

// One app server killed: HAProxy takes it out of the pool and re-sends the requests whose
// connection it refused; a write it sent on a kept-alive connection to the dead server is re-sent
// by Varnish (cluster_write_retry_test). So nothing fails beyond the requests it was answering.
TEST_F(ClusterFailure, OneAppServerKilled) {
  ASSERT_NO_FATAL_FAILURE(start_load(true));
  ASSERT_NO_FATAL_FAILURE(kill_part("serve1"));
  await_recovery(true);
  const auto figures = load_->stop();
  const size_t found = writes_found(figures, "mariadb1");
  std::cout << "one app server killed: " << testing::describe(figures, found) << "\n";
  // Only requests in flight on it may fail (at most one per thread of the load).
  EXPECT_EQ(figures.failed_started_after_fault, 0) << figures.a_failure;
  EXPECT_LE(figures.failed, 3) << figures.a_failure;
  EXPECT_EQ(found, figures.acknowledged_titles.size());
}

// Every app server killed: Varnish serves the pages it holds (grace); only addresses it never
// held fail.
TEST_F(ClusterFailure, EveryAppServerKilledPagesServedFromVarnish) {
  // The page is in Varnish's cache (a hit names two transactions in X-Varnish); a miss answered
  // while the app was starting may have made it uncacheable for two minutes (hit-for-miss).
  ASSERT_TRUE(testing::eventually(
      [&] {
        auto page = testing::http_get(cluster_->site_port(), "/");
        return page && page->status == 200 && page->header("x-varnish").find(' ') != std::string::npos;
      },
      180s));
  ASSERT_NO_FATAL_FAILURE(start_load(false, {"/"}));
  ASSERT_NO_FATAL_FAILURE(kill_part("serve1"));
  ASSERT_NO_FATAL_FAILURE(kill_part("serve2"));
  // Once HAProxy's checks have found both app servers gone (and checked the Varnish nodes since),
  // a page Varnish does not hold fails, and the held one is still served, for long enough (400
  // reads, several check intervals) that HAProxy would have dropped Varnish nodes it found failing.
  EXPECT_TRUE(testing::eventually([&] {
    return pool_state("app_servers", "app1") == "DOWN" && pool_state("app_servers", "app2") == "DOWN";
  })) << cluster_->log_tails();
  auto missing = testing::http_get(cluster_->site_port(), "/?never-cached=1");
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_EQ(missing->status, 503);
  const int64_t reads_before = load_->reads_ok_since_fault();
  EXPECT_TRUE(testing::eventually([&] { return load_->reads_ok_since_fault() >= reads_before + 400; }));
  const auto figures = load_->stop();
  std::cout << "every app server killed: " << testing::describe(figures, 0) << "\n";
  EXPECT_EQ(figures.failed, 0) << figures.a_failure;
}

// The Redis primary killed: Sentinel promotes a replica, HAProxy's write pool follows it, writes
// resume; pages keep being served meanwhile; every acknowledged write is in SQL.
TEST_F(ClusterFailure, RedisPrimaryKilledSentinelPromotes) {
  ASSERT_NO_FATAL_FAILURE(start_load(true));
  ASSERT_NO_FATAL_FAILURE(kill_part("redis1"));
  EXPECT_TRUE(testing::eventually(
      [&] {
        const auto status = cluster_->run("status").output;
        return status.find("sentinel, primary 127.0.0.1:" + std::to_string(cluster_->port("redis1"))) ==
               std::string::npos;
      },
      120s));
  await_recovery(true);
  const auto figures = load_->stop();
  const size_t found = writes_found(figures, "mariadb1");
  std::cout << "Redis primary killed: " << testing::describe(figures, found) << "\n";
  EXPECT_EQ(found, figures.acknowledged_titles.size());
  // Reads keep being served: failures only among writes and the requests in flight.
  EXPECT_LE(figures.failed, figures.writes_sent - figures.writes_acknowledged + 3) << figures.a_failure;
}

// The MariaDB primary killed: HAProxy's write pool moves to the backup primary, which semi-sync
// replication kept holding every acknowledged write; the app's SQL pools open new connections
// (sql::Pool, Connection::broken), which reach the backup, so writes resume; pages keep being
// served; the old primary back does not take the writes back.
TEST_F(ClusterFailure, MariadbPrimaryKilledWritesMoveToTheBackup) {
  ASSERT_NO_FATAL_FAILURE(start_load(true));
  ASSERT_NO_FATAL_FAILURE(kill_part("mariadb1"));
  EXPECT_TRUE(testing::eventually([&] {
    auto server = cluster_->sql_write_pool("SELECT @@server_id");
    return server && *server == "2\n";
  })) << cluster_->log_tails();
  auto written = cluster_->sql_write_pool(
      "INSERT INTO reel.playlists (user_id, title, created_at, updated_at) "
      "SELECT id, 'after the failover', 0, 0 FROM reel.users LIMIT 1");
  EXPECT_TRUE(written) << written.error().message;
  await_recovery(true);  // the app's own writes resume on the backup
  const auto figures = load_->stop();
  const size_t found = writes_found(figures, "mariadb2");
  std::cout << "MariaDB primary killed: " << testing::describe(figures, found) << "\n";
  EXPECT_GT(figures.writes_acknowledged, 0);
  EXPECT_EQ(found, figures.acknowledged_titles.size());
  // Every failure is a write: the pages are read from Redis.
  EXPECT_LE(figures.failed, figures.writes_sent - figures.writes_acknowledged + 3) << figures.a_failure;

  // The old primary back: it missed the writes made meanwhile, so the write pool stays on the
  // backup (its one-entry stick table) even once the old primary's check passes again.
  const std::string node = (cluster_->dir() / "cluster" / "mariadb1").string();
  auto returned = process::Child::spawn({.argv = {"mariadbd", "--defaults-file=" + node + "/my.cnf"},
                                         .stdout_path = node + "/returned.log",
                                         .stderr_path = node + "/returned.log"});
  ASSERT_TRUE(returned) << returned.error().message;
  EXPECT_TRUE(testing::eventually([&] { return pool_state("mariadb_primary", "mariadb1") == "UP"; }));
  for (int connection = 0; connection < 4; ++connection) {
    auto server = cluster_->sql_write_pool("SELECT @@server_id");
    ASSERT_TRUE(server) << server.error().message;
    EXPECT_EQ(*server, "2\n");
  }
  returned->stop(60s);
}

// A replica cut off (frozen: it takes connections and answers nothing) and back: HAProxy's read pool
// drops it and cuts its connections, so reads go to the nodes that answer; once back it catches
// up with the primary and returns to the pool.
TEST_F(ClusterFailure, ReplicaPartitionedAwayAndBack) {
  ASSERT_NO_FATAL_FAILURE(start_load(true));
  const pid_t replica = cluster_->pids().at("redis2");
  load_->mark_fault();
  ASSERT_EQ(::kill(replica, SIGSTOP), 0);
  EXPECT_TRUE(testing::eventually([&] { return pool_state("redis_replicas", "redis2") == "DOWN"; }));
  await_recovery(true);
  ASSERT_EQ(::kill(replica, SIGCONT), 0);
  EXPECT_TRUE(testing::eventually([&] { return pool_state("redis_replicas", "redis2") == "UP"; }));
  const auto figures = load_->stop();
  // Caught up: the replica has applied everything the primary wrote.
  EXPECT_TRUE(testing::eventually([&] {
    const auto primary = replication_offset("redis1", "master_repl_offset");
    return primary > 0 && replication_offset("redis2", "slave_repl_offset") == primary;
  }));
  const size_t found = writes_found(figures, "mariadb1");
  std::cout << "replica partitioned away and back: " << testing::describe(figures, found) << "\n";
  EXPECT_EQ(found, figures.acknowledged_titles.size());
  EXPECT_GT(figures.writes_acknowledged, 0);
  EXPECT_LE(figures.failed, 3) << figures.a_failure;  // at most the requests in flight on it
}

// An aggregator killed while views keep coming: syslog-ng keeps appending them to the views
// stream, the other partition keeps counting, and the killed one, started again, reads on from
// its cursor and finishes the generation it had committed: every acknowledged beacon is counted
// exactly once.
TEST_F(ClusterFailure, AggregatorKilledItsPartitionResumesCountsExact) {
  redis::ConnectionOptions options;
  options.endpoint = {"127.0.0.1", cluster_->port("redis1")};
  auto client = redis::BlockingClient::connect(options);
  ASSERT_TRUE(client) << client.error().message;
  const std::string views_all = projection::keys::list({projection::ListKind::all, {}},
                                                       projection::Sort::views, projection::Period::all);
  auto total = [&] {
    auto all = client->execute(redis::Command("ZRANGE", views_all, 0, -1, "WITHSCORES"));
    int64_t sum = 0;
    if (!all || !all->is_array()) return int64_t{-1};
    for (size_t i = 1; i < all->elements().size(); i += 2) sum += all->elements()[i].integer();
    return sum;
  };
  auto ids = client->execute(redis::Command("ZRANGE", views_all, 0, -1));
  ASSERT_TRUE(ids && ids->is_array() && !ids->elements().empty());
  const int64_t before = total();

  // The beacons: one new viewer each (its user agent), through HAProxy and Varnish.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> sent{0}, acknowledged{0};
  std::thread beacons([&] {
    for (int64_t n = 0; !stop; ++n) {
      const std::string id(ids->elements()[n % ids->elements().size()].str());
      auto reply = testing::http_request(
          cluster_->site_port(), "POST", "/api/v1/videos/" + id + "/view",
          "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/120 beacon-" + std::to_string(n) + "\r\n");
      ++sent;
      if (reply && reply->status == 204) ++acknowledged;
      std::this_thread::sleep_for(10ms);  // pacing: a steady stream, not a flood
    }
  });
  struct StopOnExit {  // an assertion returning early must not leave the thread running
    std::atomic<bool>& stop;
    std::thread& thread;
    ~StopOnExit() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } stop_on_exit{stop, beacons};
  auto acknowledged_at_least = [&](int64_t n) {
    return testing::eventually([&] { return acknowledged >= n; }, 120s);
  };
  EXPECT_TRUE(acknowledged_at_least(50));
  const pid_t victim = cluster_->pids().at("views-1-2");
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  ASSERT_TRUE(testing::eventually([&] { return ::kill(victim, 0) != 0 && errno == ESRCH; }));
  const int64_t at_kill = acknowledged;
  EXPECT_TRUE(acknowledged_at_least(at_kill + 150));  // views of both partitions while it is down
  const auto restarted = cluster_->run("start views-1-2");
  EXPECT_EQ(restarted.status, 0) << restarted.output;
  const auto restart_time = testing::Steady::now();
  EXPECT_TRUE(acknowledged_at_least(acknowledged + 50));
  stop = true;
  beacons.join();
  ASSERT_GT(acknowledged, 0);

  const int64_t expected = before + acknowledged;
  EXPECT_TRUE(testing::eventually([&] { return total() >= expected; }, 120s))
      << "counted " << total() - before << " of " << acknowledged << " acknowledged\n"
      << "restart: " << restarted.output << "\n"
      << cluster_->run("status").output << cluster_->down().output << cluster_->log_tails();
  const double seconds_to_catch_up =
      std::chrono::duration<double>(testing::Steady::now() - restart_time).count();
  // Every entry read by both partitions, nothing in flight: the count is final.
  EXPECT_TRUE(testing::eventually([&] {
    auto last =
        client->execute(redis::Command("XREVRANGE", projection::keys::views_stream(), "+", "-", "COUNT", 1));
    auto cursors = client->execute(redis::Command("HVALS", projection::keys::views_cursors()));
    auto in_flight = client->execute(redis::Command("EXISTS", projection::keys::views_generation("1/2"),
                                                    projection::keys::views_generation("2/2")));
    if (!last || !cursors || !in_flight || !last->is_array() || last->elements().size() != 1) return false;
    const std::string end(last->elements()[0].elements()[0].str());
    return cursors->elements().size() == 2 && cursors->elements()[0].str() == end &&
           cursors->elements()[1].str() == end && in_flight->integer() == 0;
  }));
  EXPECT_EQ(total(), expected);
  std::cout << "aggregator killed: beacons sent " << sent << ", acknowledged " << acknowledged
            << ", views counted " << total() - before << ", caught up " << seconds_to_catch_up
            << " s after its restart\n";
}

}  // namespace
}  // namespace reel
