#include "http/url.h"

#include <gtest/gtest.h>

namespace reel::http {
namespace {

TEST(Url, PercentDecode) {
  EXPECT_EQ(percent_decode("caf%C3%A9"), "café");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_FALSE(percent_decode("bad%2"));
  EXPECT_FALSE(percent_decode("bad%zz"));
  EXPECT_FALSE(percent_decode("nul%00"));
}

TEST(Url, QueryParam) {
  EXPECT_EQ(query_param("sort=views&page=2", "page"), "2");
  EXPECT_EQ(query_param("sort=views&sort=newest", "sort"), "views");
  EXPECT_EQ(query_param("flag&x=1", "flag"), "");
  EXPECT_FALSE(query_param("sorted=1", "sort"));
  EXPECT_FALSE(query_param("", "sort"));
  EXPECT_FALSE(query_param("page=%", "page"));
}

TEST(Url, QueryParamMalformedTellsABadValueFromAnAbsentOne) {
  EXPECT_TRUE(query_param_malformed("page=%", "page"));
  EXPECT_TRUE(query_param_malformed("q=a%00b&page=2", "q"));
  EXPECT_FALSE(query_param_malformed("q=a%20b", "q"));
  EXPECT_FALSE(query_param_malformed("page=2", "q"));
  EXPECT_FALSE(query_param_malformed("flag", "flag"));
}

}  // namespace
}  // namespace reel::http
