// A fixture base for suites that work on Redis and SQL together (ingest, worker, sweeper): the
// suite's redis-server and a client of it, flushed before each test (FlushedRedisTest), and a
// fresh migrated SQLite database in a temporary directory of the test's own, with a CatalogStore
// over it. Subclasses call SetUp() first and return when it failed (HasFatalFailure()).
// Thread-safety: none needed (gtest runs a test's setup and body on one thread).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "redis/blocking_client.h"
#include "sql/catalog_store.h"
#include "sql/connection.h"
#include "support/fixtures.h"
#include "support/suite_redis.h"

namespace reel::testing {

class RedisSqliteTest : public FlushedRedisTest {
 protected:
  void SetUp() override {
    FlushedRedisTest::SetUp();
    if (HasFatalFailure()) return;
    sql_url_ = "sqlite:" + (dir_.path() / "reel.db").string();
    auto db = sql::open({sql_url_});
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    auto migrated = sql::migrate(*db_);
    ASSERT_TRUE(migrated) << migrated.error().message;
    store_.emplace(*db_);
  }

  TempDir dir_;          // the database and whatever else the test writes
  std::string sql_url_;  // "sqlite:{dir_}/reel.db", for components that open their own connections
  std::unique_ptr<sql::Connection> db_;
  std::optional<sql::CatalogStore> store_;
};

}  // namespace reel::testing
