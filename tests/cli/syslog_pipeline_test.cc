// End to end through the production path of a view: `reel up` with its beacon writing to a local
// syslog socket, a real syslog-ng with deploy/syslog-ng/node.conf forwarding over TCP with a disk
// buffer to a second syslog-ng with deploy/syslog-ng/central.conf, which appends them to the views
// stream in `reel up`'s Redis, read by `reel views --stream`; the counts must arrive in Redis and
// show on the API. Also: views sent while the collector is down wait in the node's buffer and
// arrive after it returns, and access-log lines (nginx combined) shipped the same way count too;
// search events take the same path into popular searches.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "process/child.h"
#include "projection/keys.h"
#include "redis/blocking_client.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/reel_up.h"
#include "views/event.h"

namespace reel {
namespace {

namespace fs = std::filesystem;
using reel::testing::read_file;
using reel::testing::views_of;
using testing::eventually;
using testing::http_get;

using testing::reel_binary;
std::string source_dir() {
  return std::getenv("REEL_SOURCE_DIR");
}

// Whether something accepts TCP connections on 127.0.0.1:port.
bool accepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

// Sends one datagram to a unix socket, as a local program logging to syslog does.
bool send_datagram(const fs::path& socket_path, const std::string& message) {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string path = socket_path.string();
  std::copy(path.begin(), path.end(), address.sun_path);
  const bool sent = ::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&address),
                             sizeof address) == static_cast<ssize_t>(message.size());
  ::close(fd);
  return sent;
}

int beacon(uint16_t port, int64_t id, const std::string& viewer) {
  auto r =
      testing::http_request(port, "POST", "/api/v1/videos/" + std::to_string(id) + "/view",
                            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/120 " + viewer + "\r\n");
  return r ? r->status : -1;
}

class SyslogPipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    socket_ = dir_.path() / "views.sock";
    central_port_ = testing::free_port();
    // The data dir's config, pointed at the syslog socket instead of the in-process aggregator.
    ASSERT_EQ(run({reel_binary(), "migrate", "--data-dir", data_.string()}), 0);
    std::string config = read_file(data_ / "reel.toml");
    config = std::regex_replace(config, std::regex("sink = \"[^\"]*\""),
                                "sink = \"syslog:" + socket_.string() + "\"");
    std::ofstream(data_ / "reel.toml") << config;
    std::smatch redis;
    ASSERT_TRUE(std::regex_search(config, redis, std::regex("write = \"127\\.0\\.0\\.1:([0-9]+)\"")));
    redis_port_ = redis[1];

    start_central();
    node_ = start_syslog_ng("node", {"REEL_VIEWS_SOCKET=" + socket_.string(), "REEL_CENTRAL_HOST=127.0.0.1",
                                     "REEL_CENTRAL_PORT=" + std::to_string(central_port_),
                                     "REEL_BUFFER_DIR=" + dir_.path().string()});
    ASSERT_TRUE(eventually([&] { return fs::exists(socket_); })) << read_file(dir_.path() / "node.log");

    auto up = testing::ReelUp::start(data_, dir_.path() / "up.log");
    ASSERT_TRUE(up) << up.error().message;
    up_ = std::move(*up);
    web_port_ = up_->port();

    const std::string views_log = (dir_.path() / "views.log").string();
    auto views =
        process::Child::spawn({.argv = {reel_binary(), "views", "--stream", "--data-dir", data_.string()},
                               .stdout_path = views_log,
                               .stderr_path = views_log});
    ASSERT_TRUE(views) << views.error().message;
    views_ = std::make_unique<process::Child>(std::move(*views));
  }

  int run(std::vector<std::string> argv) {
    auto child = process::Child::spawn({.argv = std::move(argv),
                                        .stdout_path = (dir_.path() / "run.log").string(),
                                        .stderr_path = (dir_.path() / "run.log").string()});
    if (!child) return -1;
    auto status = child->wait_for(std::chrono::minutes(2));
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }

  std::unique_ptr<process::Child> start_syslog_ng(const std::string& role, std::vector<std::string> env) {
    const std::string base = (dir_.path() / role).string();
    auto child =
        process::Child::spawn({.argv = {"syslog-ng", "--foreground",
                                        "--cfgfile=" + source_dir() + "/deploy/syslog-ng/" + role + ".conf",
                                        "--persist-file=" + base + ".persist", "--pidfile=" + base + ".pid",
                                        "--control=" + base + ".ctl"},
                               .stdout_path = base + ".log",
                               .stderr_path = base + ".log",
                               .extra_env = std::move(env)});
    EXPECT_TRUE(child) << (child ? "" : child.error().message);
    return child ? std::make_unique<process::Child>(std::move(*child)) : nullptr;
  }

  // The collector, writing to the views stream in `reel up`'s Redis; returns once it listens.
  void start_central() {
    central_ = start_syslog_ng(
        "central", {"REEL_CENTRAL_IP=127.0.0.1", "REEL_CENTRAL_PORT=" + std::to_string(central_port_),
                    "REEL_REDIS_HOST=127.0.0.1", "REEL_REDIS_PORT=" + redis_port_});
    ASSERT_TRUE(central_);
    ASSERT_TRUE(eventually([&] { return accepts(central_port_) || !central_->running(); }));
    ASSERT_TRUE(central_->running()) << read_file(dir_.path() / "central.log");
  }

  void TearDown() override {
    views_.reset();
    up_.reset();
    node_.reset();
    central_.reset();
  }

  testing::TempDir dir_;
  fs::path data_, socket_;
  uint16_t central_port_ = 0, web_port_ = 0;
  std::string redis_port_;  // `reel up`'s Redis, from the data dir's config
  std::unique_ptr<process::Child> central_, node_, views_;
  std::unique_ptr<testing::ReelUp> up_;
};

TEST_F(SyslogPipeline, BeaconViewsReachRedisThroughSyslogNg) {
  const int64_t before = views_of(web_port_, 5);
  ASSERT_GE(before, 0);
  for (int viewer = 0; viewer < 3; ++viewer)
    EXPECT_EQ(beacon(web_port_, 5, "viewer-" + std::to_string(viewer)), 204);
  EXPECT_TRUE(eventually([&] { return views_of(web_port_, 5) == before + 3; }))
      << views_of(web_port_, 5) << " views, expected " << before + 3 << "\n"
      << read_file(dir_.path() / "views.log") << read_file(dir_.path() / "central.log");

  // The collector goes away: the node keeps the events in its disk buffer until it is back.
  central_.reset();
  for (int viewer = 3; viewer < 5; ++viewer)
    EXPECT_EQ(beacon(web_port_, 5, "viewer-" + std::to_string(viewer)), 204);
  start_central();
  EXPECT_TRUE(eventually([&] { return views_of(web_port_, 5) == before + 5; }))
      << views_of(web_port_, 5) << " views, expected " << before + 5;
}

// An nginx (or varnishncsa) access log shipped through the same syslog-ng path counts too.
TEST_F(SyslogPipeline, AccessLogLinesCountAsViews) {
  const int64_t before = views_of(web_port_, 6);
  ASSERT_GE(before, 0);
  char when[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", std::gmtime(&now));
  for (const char* ip : {"203.0.113.9", "203.0.113.10"}) {
    std::string line = std::string("<134>1 - web-1 nginx - - - ") + ip + " - - [" + when +
                       "] \"GET /watch/6-a-title HTTP/1.1\" 200 5120 \"https://www.google.com/\" "
                       "\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120\"";
    EXPECT_TRUE(send_datagram(socket_, line));
  }
  EXPECT_TRUE(eventually([&] { return views_of(web_port_, 6) == before + 2; }))
      << views_of(web_port_, 6) << " views, expected " << before + 2 << "\n"
      << read_file(dir_.path() / "views.log");
}

// Search lines through node and collector (which keep only the message) into search:popular: many
// searches of one viewer count once, so a query searched by three viewers scores three times one
// searched by one (same time, so the same decay), whatever the query's odd characters.
TEST_F(SyslogPipeline, SearchEventsReachPopularSearchesThroughSyslogNg) {
  const int64_t now = std::time(nullptr);
  const std::string popular = "funny cats \"100%\" [x=y]", rare = "cooking \\ é";
  auto search = [&](const std::string& viewer, const std::string& query) {
    const views::SearchEvent event{now, viewer, query, 12, views::Agent::desktop};
    EXPECT_TRUE(send_datagram(socket_, views::format_syslog_line(event, "web-1", "reel")));
  };
  for (int again = 0; again < 5; ++again) {
    for (int viewer = 0; viewer < 3; ++viewer) search("viewer-" + std::to_string(viewer), popular);
    search("viewer-0", rare);
  }
  redis::ConnectionOptions connection;
  connection.endpoint.port = static_cast<uint16_t>(std::stoi(redis_port_));
  auto client = redis::BlockingClient::connect(connection);
  ASSERT_TRUE(client) << client.error().message;
  auto score = [&](const std::string& query) {
    auto reply = client->execute(redis::Command("ZSCORE", projection::keys::search_popular(), query));
    return reply && !reply->is_nil() ? reply->number() : 0.0;
  };
  EXPECT_TRUE(eventually([&] { return score(popular) > 0 && score(rare) > 0; }))
      << read_file(dir_.path() / "views.log") << read_file(dir_.path() / "central.log");
  EXPECT_NEAR(score(popular) / score(rare), 3.0, 1e-9);
}

}  // namespace
}  // namespace reel
