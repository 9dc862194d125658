// URLs and Row conversions: no server needed.
#include <gtest/gtest.h>

#include <string>

#include "sql/connection.h"
#include "sql/url.h"
#include "support/fixtures.h"

namespace reel::sql::testing {
namespace {

constexpr std::string_view password = "hunter2";

bool mentions(const Error& error, std::string_view text) {
  return error.message.find(text) != std::string::npos;
}

TEST(MariadbUrlTest, ParsesTheTcpForm) {
  Result<MariadbAddress> address = parse_mariadb_url("mariadb://reel:s%40cr%3At@db.example:3307/catalog");
  ASSERT_TRUE(address.ok()) << address.error().message;
  EXPECT_EQ(address->user, "reel");
  EXPECT_EQ(address->password, "s@cr:t");
  EXPECT_EQ(address->host, "db.example");
  EXPECT_EQ(address->port, 3307);
  EXPECT_EQ(address->database, "catalog");
  EXPECT_EQ(address->socket, "");
}

TEST(MariadbUrlTest, ParsesTheSocketFormAndDefaults) {
  Result<MariadbAddress> socket = parse_mariadb_url("mariadb:///catalog?socket=/run/mysqld/mysqld.sock");
  ASSERT_TRUE(socket.ok()) << socket.error().message;
  EXPECT_EQ(socket->user, "");
  EXPECT_EQ(socket->host, "");
  EXPECT_EQ(socket->database, "catalog");
  EXPECT_EQ(socket->socket, "/run/mysqld/mysqld.sock");

  Result<MariadbAddress> defaults = parse_mariadb_url("mariadb://reel@localhost/catalog");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->user, "reel");
  EXPECT_EQ(defaults->password, "");
  EXPECT_EQ(defaults->port, 3306);
}

TEST(MariadbUrlTest, RejectsMalformedUrlsWithoutShowingThePassword) {
  for (const char* url : {"mariadb://reel:hunter2@db", "mariadb://reel:hunter2@db:99999/catalog",
                          "mariadb://reel:hunter2@db:x/catalog", "mariadb://reel:hunter2@/catalog",
                          "mariadb://reel:hunter2@db/catalog?ssl=1", "mariadb://reel:hunter2%@db/catalog"}) {
    Result<MariadbAddress> address = parse_mariadb_url(url);
    ASSERT_FALSE(address.ok()) << url;
    EXPECT_TRUE(mentions(address.error(), "invalid MariaDB URL")) << address.error().message;
    EXPECT_FALSE(mentions(address.error(), password)) << address.error().message;
  }
}

TEST(RedactUrlTest, HidesOnlyThePassword) {
  EXPECT_EQ(redact_url("mariadb://reel:hunter2@db:3307/catalog"), "mariadb://reel:***@db:3307/catalog");
  EXPECT_EQ(redact_url("mariadb://reel@db/catalog"), "mariadb://reel@db/catalog");
  EXPECT_EQ(redact_url("mariadb:///catalog?socket=/tmp/a:b@c"), "mariadb:///catalog?socket=/tmp/a:b@c");
  EXPECT_EQ(redact_url("sqlite:/var/reel.db"), "sqlite:/var/reel.db");
}

TEST(OpenTest, UnsupportedSchemeIsAnError) {
  Result<std::unique_ptr<Connection>> db = open(Options{"postgres://reel:hunter2@db/catalog"});
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(mentions(db.error(), "unsupported SQL URL 'postgres://reel:***@db/catalog'"))
      << db.error().message;
}

TEST(OpenTest, SqliteFileInAMissingDirectoryIsAnError) {
  Result<std::unique_ptr<Connection>> db = open(Options{"sqlite:/nonexistent-reel-dir/reel.db"});
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(mentions(db.error(), "cannot open sqlite:/nonexistent-reel-dir/reel.db")) << db.error().message;
  EXPECT_TRUE(mentions(db.error(), "unable to open database file")) << db.error().message;

  Result<std::unique_ptr<Connection>> empty = open(Options{"sqlite:"});
  ASSERT_FALSE(empty.ok());
}

TEST(OpenTest, UnreachableMariadbIsAnErrorWithoutThePassword) {
  const std::string url =
      "mariadb://reel:hunter2@127.0.0.1:" + std::to_string(reel::testing::free_port()) + "/catalog";
  Result<std::unique_ptr<Connection>> db = open(Options{url});
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(mentions(db.error(), "cannot open mariadb://reel:***@127.0.0.1:")) << db.error().message;
  EXPECT_TRUE(mentions(db.error(), "Can't connect")) << db.error().message;
  EXPECT_FALSE(mentions(db.error(), password)) << db.error().message;
}

TEST(RowTest, ConvertsBetweenKinds) {
  Row row({Value(), int64_t{42}, 2.5, std::string("17"), std::string("3.25"), std::string("text")});
  EXPECT_TRUE(row.is_null(0));
  EXPECT_EQ(row.integer(0), 0);
  EXPECT_EQ(row.text(0), "");
  EXPECT_EQ(row.text(1), "42");
  EXPECT_EQ(row.number(1), 42.0);
  EXPECT_EQ(row.integer(2), 2);
  EXPECT_EQ(row.text(2), "2.5");
  EXPECT_EQ(row.integer(3), 17);
  EXPECT_EQ(row.number(4), 3.25);
  EXPECT_EQ(row.integer(5), 0);
}

}  // namespace
}  // namespace reel::sql::testing
