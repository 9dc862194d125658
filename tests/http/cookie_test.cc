#include "http/cookie.h"

#include <gtest/gtest.h>

namespace reel::http {
namespace {

Request with_cookies(std::vector<std::string> values) {
  Request request;
  for (auto& value : values) request.headers.push_back({"Cookie", std::move(value)});
  return request;
}

TEST(Cookie, FindsANameAmongOthersAndAcrossHeaders) {
  const Request request = with_cookies({"a=1; reel_session=abc ;b=2", "c=3"});
  EXPECT_EQ(cookie(request, "reel_session"), "abc");
  EXPECT_EQ(cookie(request, "c"), "3");
  EXPECT_EQ(cookie(request, "missing"), std::nullopt);
  EXPECT_EQ(cookie(request, "reel"), std::nullopt);  // a prefix is not a name
}

TEST(Cookie, IgnoresPairsWithoutAValueAndTakesTheFirstOfTwins) {
  const Request request = with_cookies({"junk; x=first; x=second"});
  EXPECT_EQ(cookie(request, "x"), "first");
  EXPECT_EQ(cookie(request, "junk"), std::nullopt);
}

TEST(Cookie, SetCookieCarriesTheAttributesAsked) {
  EXPECT_EQ(set_cookie("reel_session", "v", {}), "reel_session=v; Path=/; HttpOnly; SameSite=Lax");
  CookieOptions clear;
  clear.secure = true;
  clear.max_age = 0;
  EXPECT_EQ(set_cookie("reel_session", "", clear),
            "reel_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
}

}  // namespace
}  // namespace reel::http
