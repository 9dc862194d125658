#include "sql/test_database.h"

#include <fmt/format.h>

#include <atomic>
#include <mutex>

#include "sql/mariadb_server.h"

namespace reel::sql::testing {
namespace {

// The program's MariaDB server and a root connection that creates and drops databases.
struct SharedMariadb {
  std::unique_ptr<MariadbServer> server;
  std::unique_ptr<Connection> admin;
  std::string failure;  // why it did not start, for every test that asks
};

std::mutex shared_mutex;

// Started on first use; static, so it stops (and waits for mariadbd to exit) when the program ends.
SharedMariadb& shared_mariadb() {
  static SharedMariadb shared = [] {
    SharedMariadb started;
    Result<std::unique_ptr<MariadbServer>> server = MariadbServer::start();
    if (!server.ok()) {
      started.failure = server.error().message;
      return started;
    }
    Result<std::unique_ptr<Connection>> admin = open(Options{(*server)->root_url("mysql")});
    if (!admin.ok()) {
      started.failure = admin.error().message;
      return started;
    }
    started.server = std::move(*server);
    started.admin = std::move(*admin);
    return started;
  }();
  return shared;
}

}  // namespace

std::string backend_test_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "Sqlite" : "Mariadb";
}

Result<std::unique_ptr<MariadbDatabase>> MariadbDatabase::create() {
  static std::atomic<int> created{0};
  std::unique_ptr<MariadbDatabase> database(new MariadbDatabase());
  {
    std::lock_guard lock(shared_mutex);
    SharedMariadb& shared = shared_mariadb();
    if (shared.server == nullptr) return Error{"the test's mariadbd did not start: " + shared.failure};
    database->name_ = fmt::format("reel_test_{}", ++created);
    Status made = shared.admin->execute_script(
        fmt::format("CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", database->name_));
    if (!made.ok()) return made.error();
    database->url_ = shared.server->tcp_url(database->name_);
  }
  Result<std::unique_ptr<Connection>> connection = open(Options{database->url_});
  if (!connection.ok()) return connection.error();
  Result<int> migrated = migrate(**connection);
  if (!migrated.ok()) return migrated.error();
  database->connection = std::move(*connection);
  return database;
}

MariadbDatabase::~MariadbDatabase() {
  connection.reset();
  if (name_.empty()) return;
  std::lock_guard lock(shared_mutex);
  Status dropped = shared_mariadb().admin->execute_script(fmt::format("DROP DATABASE {}", name_));
  EXPECT_TRUE(dropped.ok()) << dropped.error().message;
}

}  // namespace reel::sql::testing
