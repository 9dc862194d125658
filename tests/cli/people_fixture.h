// PeopleFixture: the end-to-end suites of people on the real `reel up` — one instance per suite
// (started by the suite's SetUpTestSuite, with REEL_* overrides of its own), and what a client
// does: register, sign in (the cookie and the CSRF token), call with them. Each test is a client
// of its own address (X-Forwarded-For, one trusted proxy hop), so the per-address limits one test
// reaches do not reach the others.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "support/http_client.h"
#include "support/reel_up.h"

namespace reel::testing {

namespace fs = std::filesystem;

inline constexpr std::string_view json_type = "Content-Type: application/json\r\n";
inline constexpr std::string_view form_type = "Content-Type: application/x-www-form-urlencoded\r\n";

// The value of cookie `name` among a reply's Set-Cookie lines; "" when it sets none.
inline std::string set_cookie_value(const HttpReply& reply, const std::string& name) {
  std::smatch match;
  const std::string lines = reply.header("set-cookie");
  std::regex pattern("(^|\\n)" + name + "=([^;]*)");
  return std::regex_search(lines, match, pattern) ? match[2].str() : "";
}

class PeopleFixture : public ::testing::Test {
 protected:
  // Starts the suite's `reel up` in a folder of its own named after `suite`, with `settings`
  // (REEL_* variables) set while it starts.
  static void start(const std::string& suite,
                    const std::vector<std::pair<std::string, std::string>>& settings = {}) {
    dir_ = new fs::path(fs::temp_directory_path() / ("reel-" + suite + "-" + std::to_string(::getpid())));
    ::setenv("REEL_SERVER_TRUSTED_PROXY_HOPS", "1", 1);
    for (const auto& [name, value] : settings) ::setenv(name.c_str(), value.c_str(), 1);
    auto up = ReelUp::start_fresh(*dir_);
    ::unsetenv("REEL_SERVER_TRUSTED_PROXY_HOPS");
    for (const auto& setting : settings) ::unsetenv(setting.first.c_str());
    ASSERT_TRUE(up) << up.error().message;
    up_ = up->release();
  }
  static void TearDownTestSuite() {
    delete up_;
    up_ = nullptr;
    std::error_code ec;
    if (dir_) fs::remove_all(*dir_, ec);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(up_, nullptr);
    new_client();
  }

  // The test's requests come from a fresh address from now on.
  static void new_client() {
    static int serial = 0;
    ++serial;
    client_ = "10." + std::to_string(::getpid() % 250) + "." + std::to_string(serial / 250) + "." +
              std::to_string(serial % 250 + 1);
  }

  static uint16_t port() { return up_->port(); }
  static fs::path data_dir() { return *dir_ / "data"; }

  // A name no other test (or run) has used.
  static std::string fresh_name(std::string_view base) {
    static int serial = 0;
    return std::string(base) + std::to_string(::getpid() % 100000) + "x" + std::to_string(++serial);
  }

  static HttpReply call(const std::string& method, const std::string& target, const std::string& headers,
                        const std::string& body = "") {
    auto reply = http_call(port(), method, target, "X-Forwarded-For: " + client_ + "\r\n" + headers, body);
    EXPECT_TRUE(reply) << reply.error().message;
    return reply ? *reply : HttpReply{};
  }

  static HttpReply register_user(const std::string& name,
                                 const std::string& password = "correct horse battery") {
    nlohmann::json body{{"username", name}, {"email", name + "@example.org"}, {"password", password}};
    return call("POST", "/api/v1/users", std::string(json_type), body.dump());
  }

  struct Signed {
    std::string cookie;  // "reel_session=..."
    std::string csrf;
  };
  static Signed sign_in(const std::string& name, const std::string& password = "correct horse battery",
                        const std::string& presented = "") {
    nlohmann::json body{{"username", name}, {"password", password}};
    HttpReply reply = call("POST", "/api/v1/session", std::string(json_type) + presented, body.dump());
    EXPECT_EQ(reply.status, 200) << reply.body;
    Signed out;
    out.cookie = "reel_session=" + set_cookie_value(reply, "reel_session");
    auto parsed = nlohmann::json::parse(reply.body, nullptr, false);
    if (parsed.is_object() && parsed.contains("csrf")) out.csrf = parsed["csrf"].get<std::string>();
    return out;
  }
  static std::string with(const Signed& who, bool csrf = true) {
    return "Cookie: " + who.cookie + "\r\n" + (csrf ? "X-CSRF-Token: " + who.csrf + "\r\n" : "");
  }

  static inline std::string client_;
  static inline fs::path* dir_ = nullptr;
  static inline ReelUp* up_ = nullptr;
};

}  // namespace reel::testing
