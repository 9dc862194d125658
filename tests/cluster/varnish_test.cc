// Varnish (deploy/varnish/reel.vcl, Debian's varnishd with varnish-modules' xkey) in front of the
// real `reel up`, on loopback: an anonymous page is cached and served from cache; a signed-in
// visitor gets the same cached page with the user bar assembled from its ESI fragment, which no
// other visitor ever sees; purges are taken from the app servers' addresses only; with every app
// server down, the pages it holds are served stale (grace).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cluster/front_engines.h"
#include "process/child.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/reel_up.h"

namespace reel {
namespace {

namespace fs = std::filesystem;
using testing::http_call;
using testing::HttpReply;

// `reel up` in a fresh directory with Varnish in front of it (the repository's reel.vcl and a
// backends.vcl naming the one app server), until destroyed.
struct Front {
  fs::path dir;
  std::unique_ptr<testing::ReelUp> up;
  std::optional<process::Child> varnish;
  uint16_t port = 0;  // Varnish's

  explicit Front(const std::string& name)
      : dir(fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {}
  ~Front() {
    if (varnish) varnish->stop();
    up.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  // Empty when both answer; else what went wrong.
  std::string start() {
    // Varnish's port first: reel purges it ([varnish] purge_nodes, inherited by reel up).
    port = testing::free_port();
    ::setenv("REEL_VARNISH_PURGE_NODES", testing::loopback(port).c_str(), 1);
    auto started = testing::ReelUp::start_fresh(dir);
    if (!started) return started.error().message;
    up = std::move(*started);
    auto spawned = testing::spawn_varnish(dir,
                                          "backend app1 { .host = \"127.0.0.1\"; .port = \"" +
                                              std::to_string(up->port()) +
                                              "\"; .probe = { .url = \"/readyz\"; .interval = 1s; .timeout = "
                                              "2s; .window = 3; .threshold = 1; } }\n"
                                              "acl purgers { \"127.0.0.1\"; }\n"
                                              "sub vcl_init { app.add_backend(app1); }\n",
                                          port);
    if (!spawned) return spawned.error().message;
    varnish.emplace(std::move(*spawned));
    const bool answering = testing::eventually([this] {
      auto home = http_call(port, "GET", "/", "", "");
      return home && home->status == 200;
    });
    return answering ? "" : "Varnish does not answer: " + testing::read_file(dir / "varnish.log");
  }
};

class VarnishInFront : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    front_ = new Front("reel-varnish");
    const std::string failed = front_->start();
    ASSERT_EQ(failed, "");
    port_ = front_->port;
  }
  static void TearDownTestSuite() {
    delete front_;
    front_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(front_, nullptr); }

  static inline Front* front_ = nullptr;
  static inline uint16_t port_ = 0;
};

TEST_F(VarnishInFront, AnAnonymousPageIsServedFromTheCache) {
  HttpReply first = *http_call(port_, "GET", "/videos?sort=views", "", "");
  ASSERT_EQ(first.status, 200);
  HttpReply again = *http_call(port_, "GET", "/videos?sort=views", "", "");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.header("x-cache"), "hit");
  EXPECT_EQ(again.header("set-cookie"), "");
  EXPECT_EQ(again.body.find("esi:include"), std::string::npos) << "Varnish assembled the fragments";
  EXPECT_NE(again.body.find("user-bar__signin"), std::string::npos) << "the anonymous user bar";
}

const std::string json_type = "Content-Type: application/json\r\n";

// A new account signed in through `port`: its Cookie header line and its CSRF token.
struct SignedIn {
  std::string cookie;
  std::string csrf;
};
SignedIn sign_up(uint16_t port, const std::string& name) {
  nlohmann::json account{
      {"username", name}, {"email", name + "@example.org"}, {"password", "correct horse battery"}};
  EXPECT_EQ(http_call(port, "POST", "/api/v1/users", json_type, account.dump())->status, 201);
  account.erase("email");
  HttpReply signed_in = *http_call(port, "POST", "/api/v1/session", json_type, account.dump());
  EXPECT_EQ(signed_in.status, 200) << signed_in.body;
  const std::string cookie_line = signed_in.header("set-cookie");
  const auto body = nlohmann::json::parse(signed_in.body, nullptr, false);
  return {"Cookie: " + cookie_line.substr(0, cookie_line.find(';')) + "\r\n",
          body.is_object() && body.contains("csrf") ? body["csrf"].get<std::string>() : ""};
}

// A counter from reel's /metrics (asked directly, not through Varnish); -1 when absent.
int64_t metric(uint16_t port, const std::string& name) {
  auto page = http_call(port, "GET", "/metrics", "", "");
  if (!page) return -1;
  const size_t at = page->body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::atoll(page->body.c_str() + at + name.size() + 2);
}

TEST_F(VarnishInFront, ASignedInVisitorGetsTheCachedPageWithTheirOwnUserBar) {
  const std::string name = "varnish" + std::to_string(::getpid() % 100000);
  const std::string cookie = sign_up(port_, name).cookie;
  EXPECT_EQ(http_call(port_, "GET", "/api/v1/me", cookie, "")->status, 200) << "the API passes the cookie";

  ASSERT_EQ(http_call(port_, "GET", "/category/music", "", "")->status, 200);  // cached by someone else
  HttpReply mine = *http_call(port_, "GET", "/category/music", cookie, "");
  EXPECT_EQ(mine.status, 200);
  EXPECT_EQ(mine.header("x-cache"), "hit") << "the page itself is everyone's";
  EXPECT_NE(mine.body.find("data-user=\"" + name + "\""), std::string::npos) << "their user bar, by ESI";
  HttpReply theirs = *http_call(port_, "GET", "/category/music", "", "");
  EXPECT_EQ(theirs.body.find(name), std::string::npos) << "nobody else sees it";
}

// A vote changes the video's counts: reel purges every cached page tagged with the video (its
// document, its watch page, the listings showing its card), so the next visitor sees the vote.
TEST_F(VarnishInFront, AVoteDropsEveryCachedPageThatShowsTheVideo) {
  auto listed = http_call(port_, "GET", "/api/v1/videos?sort=newest", "", "");
  ASSERT_EQ(listed->status, 200);
  const auto videos = nlohmann::json::parse(listed->body)["videos"];
  ASSERT_FALSE(videos.empty());
  const std::string id = std::to_string(videos[0]["id"].get<int64_t>());
  const std::string document = "/api/v1/videos/" + id, watch = "/watch/" + id;
  for (const std::string& target : {document, watch, std::string("/api/v1/videos?sort=newest")}) {
    ASSERT_EQ(http_call(port_, "GET", target, "", "")->status, 200);
    ASSERT_EQ(http_call(port_, "GET", target, "", "")->header("x-cache"), "hit") << target;
  }
  const int64_t likes = nlohmann::json::parse(http_call(port_, "GET", document, "", "")->body)["likes"];

  const SignedIn voter = sign_up(port_, "voter" + std::to_string(::getpid() % 100000));
  const int64_t purges_before = metric(front_->up->port(), "reel_varnish_purges_total");
  ASSERT_GE(purges_before, 0) << "reel up reports its purges";
  const auto voted_at = std::chrono::steady_clock::now();
  HttpReply voted =
      *http_call(port_, "PUT", document + "/vote",
                 json_type + voter.cookie + "X-CSRF-Token: " + voter.csrf + "\r\n", R"({"value": 1})");
  ASSERT_EQ(voted.status, 200) << voted.body;
  ASSERT_TRUE(testing::eventually([&] {
    return metric(front_->up->port(), "reel_varnish_purges_total") > purges_before;
  })) << "reel sent the purge";
  std::printf("purge accepted %lld ms after the vote was answered\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - voted_at)
                                         .count()));

  HttpReply after = *http_call(port_, "GET", document, "", "");
  EXPECT_EQ(after.header("x-cache"), "miss");
  EXPECT_EQ(nlohmann::json::parse(after.body)["likes"].get<int64_t>(), likes + 1);
  EXPECT_EQ(http_call(port_, "GET", watch, "", "")->header("x-cache"), "miss");
  EXPECT_EQ(http_call(port_, "GET", "/api/v1/videos?sort=newest", "", "")->header("x-cache"), "miss")
      << "the listing shows its card";
}

TEST_F(VarnishInFront, PurgesNeedTheirKeys) {
  EXPECT_EQ(http_call(port_, "PURGE", "/", "", "")->status, 400);
  HttpReply purged = *http_call(port_, "PURGE", "/", "xkey-purge: video-1\r\n", "");
  EXPECT_EQ(purged.status, 200);
}

// With its only app server gone, Varnish keeps serving what it holds past the page's max-age
// (grace), and answers 503 for what it never held.
TEST(VarnishGrace, EveryAppServerDownServesCachedPagesStale) {
  Front front("reel-varnish-grace");
  ASSERT_EQ(front.start(), "");
  ASSERT_EQ(http_call(front.port, "GET", "/videos?sort=newest", "", "")->status, 200);
  ASSERT_EQ(http_call(front.port, "GET", "/videos?sort=newest", "", "")->header("x-cache"), "hit");
  front.up.reset();  // reel up and its children stop
  // The page's max-age is 30 s: served once older than that, it came from grace.
  int64_t age = 0;
  EXPECT_TRUE(testing::eventually(
      [&] {
        auto page = http_call(front.port, "GET", "/videos?sort=newest", "", "");
        if (!page || page->status != 200) return false;
        age = std::atoll(page->header("age").c_str());
        return age > 30;
      },
      std::chrono::seconds(120)))
      << "age " << age;
  EXPECT_EQ(http_call(front.port, "GET", "/videos?sort=duration&page=2", "", "")->status, 503)
      << "a page it never held";
}

}  // namespace
}  // namespace reel
