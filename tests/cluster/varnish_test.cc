// Varnish (deploy/varnish/reel.vcl, Debian's varnishd with varnish-modules' xkey) in front of the
// real `reel up`, on loopback: an anonymous page is cached and served from cache; a signed-in
// visitor gets the same cached page with the user bar assembled from its ESI fragment, which no
// other visitor ever sees; purges are taken from the app servers' addresses only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "process/child.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/reel_up.h"

namespace reel {
namespace {

namespace fs = std::filesystem;
using testing::http_call;
using testing::HttpReply;

class VarnishInFront : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("reel-varnish-" + std::to_string(::getpid())));
    auto up = testing::ReelUp::start_fresh(*dir_);
    ASSERT_TRUE(up) << up.error().message;
    up_ = up->release();
    const fs::path vcl = *dir_ / "vcl";
    fs::create_directories(vcl);
    const char* source = std::getenv("REEL_SOURCE_DIR");
    ASSERT_NE(source, nullptr);
    fs::copy_file(fs::path(source) / "deploy/varnish/reel.vcl", vcl / "reel.vcl");
    std::ofstream(vcl / "backends.vcl") << "backend app1 { .host = \"127.0.0.1\"; .port = \"" << up_->port()
                                        << "\"; .probe = { .url = \"/readyz\"; .interval = 1s; .timeout = "
                                           "2s; .window = 3; .threshold = 1; } }\n"
                                        << "acl purgers { \"127.0.0.1\"; }\n"
                                        << "sub vcl_init { app.add_backend(app1); }\n";
    port_ = testing::free_port();
    auto varnish = process::Child::spawn(
        {.argv = {"varnishd", "-F", "-n", (*dir_ / "varnish").string(), "-a",
                  "127.0.0.1:" + std::to_string(port_), "-f", (vcl / "reel.vcl").string(), "-p",
                  "vcl_path=" + vcl.string(), "-s", "malloc,64m"},
         .stdout_path = (*dir_ / "varnish.log").string(),
         .stderr_path = (*dir_ / "varnish.log").string(),
         .die_with_parent = true});
    ASSERT_TRUE(varnish) << varnish.error().message;
    varnish_ = new process::Child(std::move(*varnish));
    ASSERT_TRUE(testing::eventually([] {
      auto home = http_call(port_, "GET", "/", "", "");
      return home && home->status == 200;
    })) << testing::read_file(*dir_ / "varnish.log");
  }
  static void TearDownTestSuite() {
    if (varnish_ != nullptr) varnish_->stop();
    delete varnish_;
    delete up_;
    std::error_code ec;
    if (dir_) fs::remove_all(*dir_, ec);
    delete dir_;
  }
  void SetUp() override { ASSERT_NE(varnish_, nullptr); }

  static inline fs::path* dir_ = nullptr;
  static inline testing::ReelUp* up_ = nullptr;
  static inline process::Child* varnish_ = nullptr;
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

TEST_F(VarnishInFront, ASignedInVisitorGetsTheCachedPageWithTheirOwnUserBar) {
  const std::string name = "varnish" + std::to_string(::getpid() % 100000);
  const std::string json = "Content-Type: application/json\r\n";
  nlohmann::json account{
      {"username", name}, {"email", name + "@example.org"}, {"password", "correct horse battery"}};
  ASSERT_EQ(http_call(port_, "POST", "/api/v1/users", json, account.dump())->status, 201);
  account.erase("email");
  HttpReply signed_in = *http_call(port_, "POST", "/api/v1/session", json, account.dump());
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  const std::string cookie_line = signed_in.header("set-cookie");
  const std::string cookie = "Cookie: " + cookie_line.substr(0, cookie_line.find(';')) + "\r\n";
  EXPECT_EQ(http_call(port_, "GET", "/api/v1/me", cookie, "")->status, 200) << "the API passes the cookie";

  ASSERT_EQ(http_call(port_, "GET", "/category/music", "", "")->status, 200);  // cached by someone else
  HttpReply mine = *http_call(port_, "GET", "/category/music", cookie, "");
  EXPECT_EQ(mine.status, 200);
  EXPECT_EQ(mine.header("x-cache"), "hit") << "the page itself is everyone's";
  EXPECT_NE(mine.body.find("data-user=\"" + name + "\""), std::string::npos) << "their user bar, by ESI";
  HttpReply theirs = *http_call(port_, "GET", "/category/music", "", "");
  EXPECT_EQ(theirs.body.find(name), std::string::npos) << "nobody else sees it";
}

TEST_F(VarnishInFront, PurgesNeedTheirKeys) {
  EXPECT_EQ(http_call(port_, "PURGE", "/", "", "")->status, 400);
  HttpReply purged = *http_call(port_, "PURGE", "/", "xkey-purge: video-1\r\n", "");
  EXPECT_EQ(purged.status, 200);
}

}  // namespace
}  // namespace reel
