// RedisSqlTest: RedisSqliteTest (support/redis_sqlite_test.h) on either SQL backend — the suite's
// redis-server, flushed before each test, and a fresh migrated database of the backend the test is
// instantiated with (SQLite, or MariaDB: sql/test_database.h), with a CatalogStore over it;
// `sql_url_` names it for connections of the test's threads. A suite derives from it,
// writes TEST_P, and runs on both engines with
//   INSTANTIATE_TEST_SUITE_P(Backends, MySuite, sql::testing::all_backends(),
//                            sql::testing::backend_test_name);
// Subclasses call SetUp() first and return when it failed (HasFatalFailure()).
// Thread-safety: none needed (gtest runs a test's setup and body on one thread).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "sql/test_database.h"
#include "support/redis_sqlite_test.h"

namespace reel::testing {

class RedisSqlTest : public RedisSqliteTest, public ::testing::WithParamInterface<sql::testing::Backend> {
 protected:
  // RedisSqliteTest's setup; on MariaDB, its SQLite database gives way to a MariaDB one.
  void SetUp() override {
    RedisSqliteTest::SetUp();
    if (HasFatalFailure() || !mariadb()) return;
    auto database = sql::testing::MariadbDatabase::create();
    ASSERT_TRUE(database) << database.error().message;
    mariadb_ = std::move(*database);
    store_.reset();
    db_ = std::move(mariadb_->connection);
    sql_url_ = mariadb_->url();
    store_.emplace(*db_);
  }

  void TearDown() override {
    store_.reset();
    db_.reset();
    mariadb_.reset();  // drops the MariaDB database once the test's connection is closed
  }

  bool mariadb() const { return GetParam() == sql::testing::Backend::mariadb; }

 private:
  std::unique_ptr<sql::testing::MariadbDatabase> mariadb_;
};

}  // namespace reel::testing
