// End to end, what Reel loses at its edges: nothing unseen. A burst of beacons is counted exactly
// (the in-process hop from the web server to the aggregator drops nothing), and a redis-server
// child killed under load is reaped and restarted from its AOF while the pages the event loops
// hold are served stale, with no acknowledged upload, view, queued job, vote or comment lost. Where a hop can
// still drop (UDP into `reel views`), the loss shows in /metrics.
// Each test works on videos of its own, so the tests run in any order.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "process/child.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/reel_up.h"
#include "transcode/test_clip.h"

namespace reel {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::eventually;
using testing::http_get;
using testing::read_file;
using testing::views_of;

// A name for viewers no earlier test (or repetition, --gtest_repeat) of this process used, so the
// aggregator's 30-minute dedupe counts them all.
std::string new_viewers(const std::string& what) {
  static std::atomic<int> runs{0};
  return what + std::to_string(++runs);
}

std::string beacon_request(int64_t id, const std::string& viewer) {
  return "POST /api/v1/videos/" + std::to_string(id) +
         "/view HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/120 " +
         viewer + "\r\nContent-Length: 0\r\n\r\n";
}

// Sends `count` beacons for video `id` on one keep-alive connection, pipelined `window` at a
// time, each from its own viewer ("{prefix}-{i}"); returns how many were answered 204.
int64_t pipelined_beacons(uint16_t port, int64_t id, const std::string& prefix, int count, int window = 200) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{60, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return 0;
  }
  int64_t answered_204 = 0;
  std::string received;
  for (int sent = 0; sent < count;) {
    std::string requests;
    const int batch = std::min(window, count - sent);
    for (int i = 0; i < batch; ++i) requests += beacon_request(id, prefix + "-" + std::to_string(sent + i));
    if (::send(fd, requests.data(), requests.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(requests.size()))
      break;
    sent += batch;
    // Every answer to a beacon is a status line and headers: count them until the batch is in.
    int answers = 0;
    while (answers < batch) {
      char buffer[65536];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        ::close(fd);
        return answered_204;
      }
      received.append(buffer, static_cast<size_t>(n));
      size_t end;
      while ((end = received.find("\r\n\r\n")) != std::string::npos) {
        answered_204 += received.starts_with("HTTP/1.1 204 ") ? 1 : 0;
        ++answers;
        received.erase(0, end + 4);
      }
    }
  }
  ::close(fd);
  return answered_204;
}

// The value of the metric line "NAME VALUE" in /metrics text; -1 when absent.
int64_t metric(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::atoll(text.c_str() + at + name.size() + 2);
}

int64_t metric(uint16_t port, const std::string& name) {
  auto r = http_get(port, "/metrics");
  return r && r->status == 200 ? metric("\n" + r->body, name) : -1;
}

std::string status_of(uint16_t port, int64_t id) {
  auto r = http_get(port, "/api/v1/videos/" + std::to_string(id));
  if (!r || r->status != 200) return "unreadable";
  auto doc = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  return doc.is_object() && doc["status"].is_string() ? doc["status"].get<std::string>() : "unreadable";
}

// Whether `pid` names no process: reaped, not a zombie (a zombie still answers kill 0).
bool gone(pid_t pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

class UpOutage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("reel-up-outage-" + std::to_string(::getpid())));
    auto up = testing::ReelUp::start_fresh(*dir_);
    ASSERT_TRUE(up) << up.error().message;
    up_ = up->release();
    port_ = up_->port();
  }

  static void TearDownTestSuite() {
    const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (suite != nullptr && suite->Failed()) {
      std::fprintf(stderr, "--- up.log ---\n%s\n", read_file(*dir_ / "up.log").c_str());
    }
    delete up_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  void SetUp() override { ASSERT_NE(up_, nullptr) << "reel up did not start"; }

  static fs::path data() { return *dir_ / "data"; }
  static pid_t redis_pid() {
    return static_cast<pid_t>(std::atol(read_file(data() / "redis" / "redis.pid").c_str()));
  }

  static std::string admin_token() {
    const fs::path log = *dir_ / "token.log";
    fs::remove(log);
    auto child = process::Child::spawn(
        {.argv = {testing::reel_binary(), "admin", "token", "--data-dir", data().string()},
         .stdout_path = log.string(),
         .stderr_path = log.string()});
    if (!child || !child->wait_for(5min)) return {};
    std::string token = read_file(log);
    if (!token.empty()) token.pop_back();
    return token;
  }

  static inline fs::path* dir_ = nullptr;
  static inline uint16_t port_ = 0;
  static inline testing::ReelUp* up_ = nullptr;
};

// 200,000 beacons from distinct viewers, pipelined on eight connections as fast as the server
// takes them: every one answered 204 is counted, exactly. (Over the loopback UDP hop this replaced,
// the kernel dropped 27,286 of them here, which only reel_views_udp_dropped_total now shows.)
TEST_F(UpOutage, ABurstOfBeaconsIsCountedExactly) {
  constexpr int64_t video = 7;
  constexpr int connections = 8, per_connection = 25000;
  const int64_t before = views_of(port_, video);
  ASSERT_GE(before, 0);
  std::atomic<int64_t> answered{0};
  std::vector<std::thread> senders;
  for (int c = 0; c < connections; ++c) {
    senders.emplace_back([&answered, viewers = new_viewers("burst")] {
      answered += pipelined_beacons(port_, video, viewers, per_connection);
    });
  }
  for (auto& sender : senders) sender.join();
  ASSERT_EQ(answered.load(), int64_t{connections} * per_connection) << "every beacon answered 204";
  const int64_t expected = before + answered.load();
  EXPECT_TRUE(eventually([&] { return views_of(port_, video) >= expected; }, 120s))
      << views_of(port_, video) << " of " << expected;
  EXPECT_EQ(views_of(port_, video), expected);
  EXPECT_EQ(metric(port_, "reel_view_events_total{result=\"dropped\"}"), 0);
  EXPECT_EQ(metric(port_, "reel_views_udp_dropped_total"), 0) << "the UDP input's drops are exported";
}

// The load a visitor and a player put on the site while Redis dies: held pages read in turn with
// beacons, one request at a time, until stopped (or a bound is reached).
class Load {
 public:
  explicit Load(uint16_t port, std::vector<std::string> pages, int64_t video)
      : thread_([this, port, pages = std::move(pages), video, viewers = new_viewers("load")] {
          for (int i = 0; i < 200000 && !stop_; ++i) {
            const std::string& page = pages[static_cast<size_t>(i) % pages.size()];
            auto r = http_get(port, page);
            if (!r || r->status != 200)
              failed_pages_.push_back(page + ": " + (r ? std::to_string(r->status) : r.error().message));
            auto b = testing::http_request(port, "POST", "/api/v1/videos/" + std::to_string(video) + "/view",
                                           "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/120 " +
                                               viewers + "-" + std::to_string(i) + "\r\n");
            if (b && b->status == 204)
              ++beacons_;
            else
              failed_beacons_.push_back(b ? std::to_string(b->status) : b.error().message);
            ++rounds_;
          }
        }) {}
  // Stops the load and returns what failed (empty: nothing).
  std::vector<std::string> stop() {
    stop_ = true;
    thread_.join();
    auto failed = failed_pages_;
    failed.insert(failed.end(), failed_beacons_.begin(), failed_beacons_.end());
    return failed;
  }
  int64_t beacons() const { return beacons_; }
  int64_t rounds() const { return rounds_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> beacons_{0}, rounds_{0};
  std::vector<std::string> failed_pages_, failed_beacons_;
  std::thread thread_;  // last: starts once the rest exists
};

TEST_F(UpOutage, AKilledRedisIsRestartedAndNothingAcknowledgedIsLost) {
  constexpr int64_t watched = 9;
  const std::vector<std::string> held = {"/videos?sort=newest", "/category/music",
                                         "/api/v1/videos?sort=rating"};
  const std::string token = admin_token();
  ASSERT_FALSE(token.empty());
  ASSERT_TRUE(transcode::make_test_clip((*dir_ / "clip.mp4").string(), {.seconds = 2}).ok());
  const std::string clip = read_file(*dir_ / "clip.mp4");

  // Acknowledged before: an upload processed and listed, a batch of views counted.
  const int64_t first = testing::upload_clip(port_, token, "Before the outage", clip);
  ASSERT_GT(first, 0);
  ASSERT_TRUE(eventually([&] { return status_of(port_, first) == "ready"; }, 180s))
      << status_of(port_, first);
  const int64_t views_before = views_of(port_, watched);
  ASSERT_GE(views_before, 0);
  ASSERT_EQ(pipelined_beacons(port_, watched, new_viewers("before"), 50), 50);
  ASSERT_TRUE(eventually([&] { return views_of(port_, watched) == views_before + 50; }, 60s));
  // Read enough times that every event loop holds these pages (kept from a loop's second read).
  for (int i = 0; i < 64; ++i) {
    for (const auto& page : held) {
      auto r = http_get(port_, page);
      ASSERT_TRUE(r && r->status == 200) << page;
    }
  }

  Load load(port_, held, watched);
  // Acknowledged just before: its job is queued (or running) when Redis goes.
  const int64_t second = testing::upload_clip(port_, token, "Queued when Redis died", clip);
  ASSERT_GT(second, 0);

  // Redis stops answering (frozen, so the outage lasts until the test ends it).
  const pid_t frozen = redis_pid();
  ASSERT_GT(frozen, 0);
  ASSERT_EQ(::kill(frozen, SIGSTOP), 0);
  EXPECT_TRUE(eventually(
      [&] {
        auto r = http_get(port_, "/readyz");
        return r && r->status == 503;
      },
      60s))
      << "/readyz says not ready";
  for (const auto& page : held) {
    auto r = http_get(port_, page);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << page << ": held pages are served stale";
  }
  auto not_held = http_get(port_, "/videos?sort=duration&page=2");
  ASSERT_TRUE(not_held);
  EXPECT_EQ(not_held->status, 503) << "a page no loop holds";
  EXPECT_EQ(not_held->header("retry-after"), "5");
  auto health = http_get(port_, "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  // Then it dies: `reel up` reaps it and starts it again from its AOF.
  ASSERT_EQ(::kill(frozen, SIGKILL), 0);
  EXPECT_TRUE(eventually(
      [&] {
        const pid_t now = redis_pid();
        return now > 0 && now != frozen && !gone(now);
      },
      60s))
      << "a new redis-server";
  EXPECT_TRUE(eventually([&] { return gone(frozen); }, 60s)) << "the dead one was reaped, not left a zombie";
  EXPECT_TRUE(eventually(
      [&] {
        auto r = http_get(port_, "/readyz");
        return r && r->status == 200;
      },
      60s))
      << "the site recovers";
  auto recovered = http_get(port_, "/videos?sort=duration&page=2");
  ASSERT_TRUE(recovered);
  EXPECT_EQ(recovered->status, 200);

  const auto failed = load.stop();
  EXPECT_TRUE(failed.empty()) << failed.size() << " failed, first: " << failed.front();
  EXPECT_GT(load.rounds(), 0);

  // Acknowledged after.
  const int64_t third = testing::upload_clip(port_, token, "After the outage", clip);
  ASSERT_GT(third, 0);

  // Nothing acknowledged is lost: every upload ready (the queued job was still in the stream),
  // every view answered 204 counted, before, during and after the outage.
  for (int64_t id : {first, second, third}) {
    EXPECT_TRUE(eventually([&] { return status_of(port_, id) == "ready"; }, 300s))
        << id << ": " << status_of(port_, id);
  }
  const int64_t expected = views_before + 50 + load.beacons();
  // Each event loop finds Redis back on its own (a connection in its reconnect backoff, up to 2 s,
  // answers 503 meanwhile): every read here waits for an answer, then compares.
  int64_t counted = -1;
  EXPECT_TRUE(eventually(
      [&] {
        counted = views_of(port_, watched);
        return counted >= expected;
      },
      120s))
      << counted << " of " << expected;
  EXPECT_EQ(counted, expected) << "none counted twice";

  EXPECT_GE(metric(port_, "reel_redis_server_restarts_total"), 1);
  EXPECT_EQ(metric(port_, "reel_redis_server_up"), 1);
  EXPECT_GT(metric(port_, "reel_pages_served_stale_total"), 0);
  EXPECT_NE(read_file(*dir_ / "up.log").find("restarting it from its AOF"), std::string::npos);
}

// A signed-in person's vote and comment while Redis does not answer: the event loop that verified
// the session keeps accepting it for the grace, the writes commit to SQL with their outbox rows, and
// once `reel up` has restarted Redis the relay lands each exactly once (the count moves by one).
TEST_F(UpOutage, AVoteAndACommentDuringAnOutageLandOnceRedisIsBack) {
  constexpr int64_t voted = 4;
  const std::string v = std::to_string(voted);
  const std::string name =
      new_viewers("outage" + std::to_string(::getpid() % 100000) + "x");  // fresh per run
  nlohmann::json account{
      {"username", name}, {"email", name + "@example.org"}, {"password", "correct horse battery"}};
  const std::string json = "Content-Type: application/json\r\n";
  // A loop may still be reconnecting to a Redis another test restarted (503 meanwhile).
  Result<testing::HttpReply> registered = Error{"not sent"};
  ASSERT_TRUE(eventually([&] {
    registered = testing::http_call(port_, "POST", "/api/v1/users", json, account.dump());
    return registered && registered->status != 503;
  }));
  ASSERT_TRUE(registered && registered->status == 201) << (registered ? registered->body : "");
  account.erase("email");
  auto signed_in = testing::http_call(port_, "POST", "/api/v1/session", json, account.dump());
  ASSERT_TRUE(signed_in && signed_in->status == 200);
  const std::string cookie_line = signed_in->header("set-cookie");
  const std::string cookie = cookie_line.substr(0, cookie_line.find(';'));
  const std::string csrf = nlohmann::json::parse(signed_in->body)["csrf"].get<std::string>();
  const std::string with_session = "Cookie: " + cookie + "\r\nX-CSRF-Token: " + csrf + "\r\n" + json;
  // The video's count `field` as the API shows it; -1 while it cannot be read.
  auto count = [&](const char* field) -> int64_t {
    auto reply = http_get(port_, "/api/v1/videos/" + v);
    if (!reply || reply->status != 200) return -1;
    auto document = nlohmann::json::parse(reply->body, nullptr, false);
    return document.is_object() && document[field].is_number_integer() ? document[field].get<int64_t>() : -1;
  };
  const int64_t likes = count("likes"), comments_before = count("comments");
  ASSERT_GE(likes, 0);
  ASSERT_GE(comments_before, 0);
  // Each event loop verifies the session (connections land on the loops at random).
  for (int i = 0; i < 16; ++i) {
    auto me = testing::http_call(port_, "GET", "/api/v1/me", "Cookie: " + cookie + "\r\n", "");
    ASSERT_TRUE(me && me->status == 200);
  }

  const pid_t frozen = redis_pid();
  ASSERT_GT(frozen, 0);
  ASSERT_EQ(::kill(frozen, SIGSTOP), 0);
  // A loop that never verified the session answers 503 (nothing written): the client tries again.
  std::optional<testing::HttpReply> vote;
  EXPECT_TRUE(eventually([&] {
    auto reply =
        testing::http_call(port_, "PUT", "/api/v1/videos/" + v + "/vote", with_session, R"({"value": 1})");
    if (reply && reply->status != 503) vote = *reply;
    return vote.has_value();
  }));
  ASSERT_TRUE(vote);
  EXPECT_EQ(vote->status, 200) << vote->body;
  std::optional<testing::HttpReply> comment;
  EXPECT_TRUE(eventually([&] {
    auto reply = testing::http_call(port_, "POST", "/api/v1/videos/" + v + "/comments", with_session,
                                    R"({"body": "written while Redis was away"})");
    if (reply && reply->status != 503) comment = *reply;
    return comment.has_value();
  }));
  ASSERT_TRUE(comment);
  EXPECT_EQ(comment->status, 201) << comment->body;

  ASSERT_EQ(::kill(frozen, SIGKILL), 0);
  EXPECT_TRUE(eventually([&] {
    auto r = http_get(port_, "/readyz");
    return r && r->status == 200;
  }));
  EXPECT_TRUE(eventually([&] { return count("likes") == likes + 1; }))
      << count("likes") << " after " << likes;
  EXPECT_TRUE(eventually([&] { return count("comments") == comments_before + 1; }));
  // One loop answering again does not mean every loop has reconnected: a request landing on one
  // still in its reconnect backoff gets a 503, and the client tries again.
  Result<testing::HttpReply> comments = Error{"not sent"};
  EXPECT_TRUE(eventually([&] {
    comments = http_get(port_, "/api/v1/videos/" + v + "/comments?sort=new");
    return comments && comments->status != 503;
  }));
  ASSERT_TRUE(comments && comments->status == 200) << (comments ? comments->body : comments.error().message);
  EXPECT_NE(comments->body.find("written while Redis was away"), std::string::npos);
  Result<testing::HttpReply> me = Error{"not sent"};
  EXPECT_TRUE(eventually([&] {
    me = testing::http_call(port_, "GET", "/api/v1/me", "Cookie: " + cookie + "\r\n", "");
    return me && me->status != 503;
  }));
  ASSERT_TRUE(me) << me.error().message;
  EXPECT_EQ(me->status, 200) << "the session outlived the restart (AOF)";
  EXPECT_EQ(count("likes"), likes + 1);
}

// `reel views --udp` behind a full receive buffer: what the kernel dropped is on its /metrics.
TEST(ReelViewsMetrics, ShowTheDatagramsTheKernelDropped) {
  testing::TempDir dir;
  const uint16_t metrics_port = testing::free_port();
  const fs::path log = dir.path() / "views.log";
  auto views = process::Child::spawn(
      {.argv = {testing::reel_binary(), "views", "--data-dir", (dir.path() / "data").string(), "--udp",
                "127.0.0.1:0", "--metrics", "127.0.0.1:" + std::to_string(metrics_port)},
       .stdout_path = log.string(),
       .stderr_path = log.string()});
  ASSERT_TRUE(views) << views.error().message;
  uint16_t udp_port = 0;
  ASSERT_TRUE(eventually(
      [&] {
        const std::string text = read_file(log);
        const size_t at = text.find("listening on port ");
        if (at != std::string::npos) udp_port = static_cast<uint16_t>(std::atoi(text.c_str() + at + 18));
        return udp_port != 0 && metric(metrics_port, "reel_views_udp_dropped_total") == 0;
      },
      60s))
      << read_file(log);

  // Frozen, it reads nothing: 20,000 datagrams overflow its socket's buffer.
  ASSERT_EQ(::kill(views->pid(), SIGSTOP), 0);
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(udp_port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string line =
      "<14>1 2026-12-06T00:00:00Z host reel - view - not a real event " + std::string(200, 'x');
  for (int i = 0; i < 20000; ++i)
    ::sendto(fd, line.data(), line.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::close(fd);
  ASSERT_EQ(::kill(views->pid(), SIGCONT), 0);
  EXPECT_TRUE(eventually([&] { return metric(metrics_port, "reel_views_udp_dropped_total") > 0; }, 60s))
      << read_file(log);
  views->stop();
}

}  // namespace
}  // namespace reel
