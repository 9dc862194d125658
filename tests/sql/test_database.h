// Running one test body on SQLite and on MariaDB: the gtest parameter (Backend) and, for MariaDB,
// MariadbDatabase: a fresh, migrated database for one test on the program's private mariadbd
// (MariadbServer, started on first use and shared by the program's tests, stopped when the program
// exits), reached over TCP, dropped when the MariadbDatabase goes. (SQLite is a file in the test's
// directory: support/redis_sqlite_test.h.)
//
// Thread-safety: create() may be called from any thread; a TestDatabase is used by one.
// Failure: create() returns an Error naming what failed (the server's start, the database's
// creation, the migration).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql::testing {

enum class Backend { sqlite, mariadb };

// "Sqlite" / "Mariadb", for test names (INSTANTIATE_TEST_SUITE_P(..., backend_test_name)).
std::string backend_test_name(const ::testing::TestParamInfo<Backend>& info);

// Both backends, for INSTANTIATE_TEST_SUITE_P.
inline auto all_backends() {
  return ::testing::Values(Backend::sqlite, Backend::mariadb);
}

class MariadbDatabase {
 public:
  static Result<std::unique_ptr<MariadbDatabase>> create();

  MariadbDatabase(const MariadbDatabase&) = delete;
  MariadbDatabase& operator=(const MariadbDatabase&) = delete;
  ~MariadbDatabase();

  // For components (and threads) that open connections of their own.
  const std::string& url() const { return url_; }
  // A migrated connection to it.
  std::unique_ptr<Connection> connection;

 private:
  MariadbDatabase() = default;
  std::string url_;
  std::string name_;
};

}  // namespace reel::sql::testing
