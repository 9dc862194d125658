#include "common/host_port.h"

#include <gtest/gtest.h>

namespace reel {
namespace {

TEST(HostPort, ParsesHostsAndIpv6Literals) {
  auto v4 = parse_host_port("127.0.0.1:6379");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 6379);
  auto v6 = parse_host_port("[::1]:8080");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
}

TEST(HostPort, RejectsWhatIsNotHostPort) {
  for (auto text :
       {"localhost", ":80", "host:", "host:http", "host:65536", "host:-1", "host:80x", "host:0"}) {
    auto parsed = parse_host_port(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_NE(parsed.error().message.find(text), std::string::npos);
  }
}

TEST(HostPort, PortZeroOnlyWhenAllowed) {
  EXPECT_TRUE(parse_host_port("127.0.0.1:0", /*allow_port_zero=*/true));
  EXPECT_FALSE(parse_host_port("127.0.0.1:0"));
}

}  // namespace
}  // namespace reel
