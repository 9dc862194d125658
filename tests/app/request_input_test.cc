#include "app/request_input.h"

#include <gtest/gtest.h>

namespace reel::app {
namespace {

http::Request request(std::string method, std::string content_type, std::string body) {
  http::Request r;
  r.method = std::move(method);
  r.target = "/api/v1/x";
  if (!content_type.empty()) r.headers.push_back({"Content-Type", std::move(content_type)});
  r.headers.push_back({"Host", "reel.test"});
  r.body = std::move(body);
  return r;
}

TEST(RequestInput, JsonFieldsKeepTheirTypes) {
  auto r =
      request("PUT", "application/json; charset=utf-8", R"({"value": -1, "public": true, "videos": [3, 1]})");
  r.headers.push_back({"X-CSRF-Token", "abc"});
  auto input = RequestInput::parse(r);
  ASSERT_TRUE(input) << input.error().message;
  EXPECT_FALSE(input->is_form());
  EXPECT_EQ(input->method(), "PUT");
  EXPECT_EQ(input->csrf(), "abc");
  EXPECT_EQ(*input->integer("value"), std::optional<int64_t>(-1));
  EXPECT_EQ(*input->boolean("public"), std::optional<bool>(true));
  EXPECT_EQ(**input->id_list("videos", 10), (std::vector<int64_t>{3, 1}));
  EXPECT_FALSE(input->text("value"));  // a number is not text
  EXPECT_EQ(*input->text("missing"), std::nullopt);
  EXPECT_FALSE(input->required_text("missing"));
  EXPECT_FALSE(input->id_list("videos", 1));  // over the cap
}

TEST(RequestInput, FormsOverrideTheMethodAndCarryTheTokenAsAField) {
  auto input = RequestInput::parse(request("POST", "application/x-www-form-urlencoded",
                                           "_method=delete&csrf=t%2Bk&title=a+b%26c&videos=4,%205&x=1&x=2"));
  ASSERT_TRUE(input) << input.error().message;
  EXPECT_TRUE(input->is_form());
  EXPECT_EQ(input->method(), "DELETE");
  EXPECT_EQ(input->csrf(), "t+k");
  EXPECT_EQ(**input->text("title"), "a b&c");
  EXPECT_EQ(**input->id_list("videos", 10), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(**input->integer("x"), 1);
  EXPECT_FALSE(RequestInput::parse(request("POST", "application/x-www-form-urlencoded", "_method=GET")));
  EXPECT_FALSE(RequestInput::parse(request("POST", "application/x-www-form-urlencoded", "a=%zz")));
}

TEST(RequestInput, RefusesWhatIsNotAnObject) {
  EXPECT_FALSE(RequestInput::parse(request("POST", "application/json", "[1]")));
  EXPECT_FALSE(RequestInput::parse(request("POST", "application/json", "{\"a\":")));
  EXPECT_FALSE(RequestInput::parse(request("POST", "text/plain", "hello")));
  EXPECT_TRUE(RequestInput::parse(request("DELETE", "", "")));
}

TEST(RequestInput, NextIsOnlyEverALocalPath) {
  auto form = [](std::string next) {
    return request("POST", "application/x-www-form-urlencoded", "next=" + next);
  };
  auto next_of = [](const http::Request& r) { return RequestInput::parse(r)->next(r, "/fallback"); };
  EXPECT_EQ(next_of(form("%2Fwatch%2F1")), "/watch/1");
  EXPECT_EQ(next_of(form("%2F%2Fevil.example")), "/fallback");
  EXPECT_EQ(next_of(form("https%3A%2F%2Fevil.example%2F")), "/fallback");
  EXPECT_EQ(next_of(form("%2F%5Cevil.example")), "/fallback");
  auto referred = request("POST", "application/x-www-form-urlencoded", "");
  referred.headers.push_back({"Referer", "https://reel.test/watch/9?x=1"});
  EXPECT_EQ(next_of(referred), "/watch/9?x=1");
  auto foreign = request("POST", "application/x-www-form-urlencoded", "");
  foreign.headers.push_back({"Referer", "https://evil.example/watch/9"});
  EXPECT_EQ(next_of(foreign), "/fallback");
}

}  // namespace
}  // namespace reel::app
