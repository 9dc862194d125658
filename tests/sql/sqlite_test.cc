// The backend suites against SQLite, each test on a fresh database file in its own temp dir.
#include "sql/catalog_store_suite.h"
#include "sql/connection_suite.h"
#include "sql/user_store_suite.h"
#include "support/fixtures.h"

namespace reel::sql::testing {
namespace {

class SqliteBackend {
 public:
  Options options() const { return Options{"sqlite:" + (dir_.path() / "reel.db").string()}; }

 private:
  reel::testing::TempDir dir_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ConnectionSuite, SqliteBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, CatalogStoreSuite, SqliteBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, UserStoreSuite, SqliteBackend);

TEST(SqliteConnectionTest, OpensInWalModeWithForeignKeysOn) {
  SqliteBackend backend;
  Result<std::unique_ptr<Connection>> db = open(backend.options());
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ((*db)->dialect(), Dialect::sqlite);
  Result<std::vector<Row>> journal = (*db)->query_all("PRAGMA journal_mode");
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  EXPECT_EQ(journal->front().text(0), "wal");
  Result<std::vector<Row>> foreign_keys = (*db)->query_all("PRAGMA foreign_keys");
  ASSERT_TRUE(foreign_keys.ok()) << foreign_keys.error().message;
  EXPECT_EQ(foreign_keys->front().integer(0), 1);
}

TEST(SqliteConnectionTest, ReadersSeeCommittedRowsWhileAWriterHoldsItsTransaction) {
  SqliteBackend backend;
  Result<std::unique_ptr<Connection>> writer = open(backend.options());
  Result<std::unique_ptr<Connection>> reader = open(backend.options());
  ASSERT_TRUE(writer.ok() && reader.ok());
  ASSERT_TRUE((*writer)->execute_script("CREATE TABLE t (x INT); INSERT INTO t VALUES (1);").ok());
  ASSERT_TRUE((*writer)->begin().ok());
  ASSERT_TRUE((*writer)->execute("INSERT INTO t VALUES (2)").ok());
  Result<std::vector<Row>> seen = (*reader)->query_all("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(seen.ok()) << seen.error().message;
  EXPECT_EQ(seen->front().integer(0), 1);
  ASSERT_TRUE((*writer)->commit().ok());
}

TEST(SqliteConnectionTest, OneStatementPerCall) {
  Result<std::unique_ptr<Connection>> db = open(Options{"sqlite::memory:"});
  ASSERT_TRUE(db.ok()) << db.error().message;
  Result<int64_t> two = (*db)->execute("CREATE TABLE a (x INT); CREATE TABLE b (x INT)");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.error().message.find("exactly one statement"), std::string::npos) << two.error().message;
}

}  // namespace
}  // namespace reel::sql::testing
