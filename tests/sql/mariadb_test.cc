// The backend suites against a real MariaDB (label integration): one private mariadbd for the
// whole program, a fresh database per test, reached over TCP with a password.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <vector>

#include "common/asio.h"
#include "sql/catalog_store_suite.h"
#include "sql/connection_suite.h"
#include "sql/mariadb_server.h"
#include "sql/pool.h"
#include "sql/user_store_suite.h"

namespace reel::sql::testing {
namespace {

// The server and a root connection for creating databases; set up once for all tests.
MariadbServer* server = nullptr;
Connection* admin = nullptr;

class MariadbEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    Result<std::unique_ptr<MariadbServer>> started = MariadbServer::start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    server_ = std::move(*started);
    Result<std::unique_ptr<Connection>> connected = open(Options{server_->root_url("mysql")});
    ASSERT_TRUE(connected.ok()) << connected.error().message;
    admin_ = std::move(*connected);
    server = server_.get();
    admin = admin_.get();
  }

  void TearDown() override {
    admin = nullptr;
    server = nullptr;
    admin_.reset();
    if (server_ != nullptr) {
      Status stopped = server_->stop();
      EXPECT_TRUE(stopped.ok()) << stopped.error().message;
    }
    server_.reset();
  }

 private:
  std::unique_ptr<MariadbServer> server_;
  std::unique_ptr<Connection> admin_;
};

[[maybe_unused]] ::testing::Environment* const environment =
    ::testing::AddGlobalTestEnvironment(new MariadbEnvironment);

// A database of its own for each test, dropped afterwards.
class MariadbBackend {
 public:
  MariadbBackend() : database_(fmt::format("reel_test_{}", ++created_)) {
    if (admin == nullptr) {
      ADD_FAILURE() << "the MariaDB test server is not running";
      return;
    }
    Status created = admin->execute_script(
        fmt::format("CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", database_));
    EXPECT_TRUE(created.ok()) << created.error().message;
  }
  MariadbBackend(const MariadbBackend&) = delete;
  MariadbBackend& operator=(const MariadbBackend&) = delete;
  ~MariadbBackend() {
    if (admin != nullptr) {
      Status dropped = admin->execute_script(fmt::format("DROP DATABASE {}", database_));
      EXPECT_TRUE(dropped.ok()) << dropped.error().message;
    }
  }

  Options options() const { return Options{server != nullptr ? server->tcp_url(database_) : "mariadb://"}; }
  const std::string& database() const { return database_; }

 private:
  static inline int created_ = 0;
  std::string database_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Mariadb, ConnectionSuite, MariadbBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Mariadb, CatalogStoreSuite, MariadbBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Mariadb, UserStoreSuite, MariadbBackend);

TEST(MariadbConnectionTest, WrongPasswordIsAnErrorThatDoesNotShowIt) {
  MariadbBackend backend;
  const std::string url = fmt::format("mariadb://{}:not-the-password@127.0.0.1:{}/{}",
                                      MariadbServer::tcp_user, server->port(), backend.database());
  Result<std::unique_ptr<Connection>> db = open(Options{url});
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find("Access denied"), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find("mariadb://reel:***@127.0.0.1"), std::string::npos) << db.error().message;
  EXPECT_EQ(db.error().message.find("not-the-password"), std::string::npos) << db.error().message;
}

TEST(MariadbConnectionTest, ConnectsOverTheUnixSocket) {
  MariadbBackend backend;
  Result<std::unique_ptr<Connection>> db = open(Options{server->root_url(backend.database())});
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ((*db)->dialect(), Dialect::mariadb);
  Result<std::vector<Row>> charset = (*db)->query_all("SELECT @@character_set_connection, DATABASE()");
  ASSERT_TRUE(charset.ok()) << charset.error().message;
  EXPECT_EQ(charset->front().text(0), "utf8mb4");
  EXPECT_EQ(charset->front().text(1), backend.database());
}

TEST(MariadbConnectionTest, ALostConnectionStaysAnErrorWithoutReconnecting) {
  MariadbBackend backend;
  Result<std::unique_ptr<Connection>> db = open(backend.options());
  ASSERT_TRUE(db.ok()) << db.error().message;
  Result<std::vector<Row>> id = (*db)->query_all("SELECT CONNECTION_ID()");
  ASSERT_TRUE(id.ok()) << id.error().message;
  ASSERT_TRUE(admin->execute_script(fmt::format("KILL {}", id->front().integer(0))).ok());

  EXPECT_FALSE((*db)->broken());
  for (int attempt = 0; attempt < 2; ++attempt) {
    Result<std::vector<Row>> after = (*db)->query_all("SELECT CONNECTION_ID()");
    ASSERT_FALSE(after.ok()) << "attempt " << attempt;
    EXPECT_NE(after.error().message.find("MariaDB: "), std::string::npos) << after.error().message;
  }
  EXPECT_TRUE((*db)->broken()) << "its owner knows to open another";
}

// What a failover or a server restart does to the app's SQL pool: the job on the lost connection
// fails, the next one runs on a new connection.
TEST(MariadbConnectionTest, APoolOpensANewConnectionForTheJobAfterOneWasLost) {
  MariadbBackend backend;
  auto pool = Pool::open(backend.options(), 1);
  ASSERT_TRUE(pool.ok()) << pool.error().message;
  std::vector<Result<int64_t>> ids;
  asio::io_context context;
  asio::co_spawn(
      context,
      [&]() -> Task<void> {
        std::function<Result<int64_t>(Connection&)> connection_id = [](Connection& db) -> Result<int64_t> {
          auto rows = db.query_all("SELECT CONNECTION_ID()");
          if (!rows.ok()) return rows.error();
          return rows->front().integer(0);
        };
        for (int job = 0; job < 3; ++job) {
          if (job == 1) {
            EXPECT_TRUE(admin->execute_script(fmt::format("KILL {}", ids.front().value())).ok());
          }
          auto copy = connection_id;
          ids.push_back(co_await (*pool)->run<int64_t>(std::move(copy)));
        }
      },
      asio::detached);
  context.run_for(std::chrono::seconds(60));
  ASSERT_EQ(ids.size(), 3u);
  ASSERT_TRUE(ids[0].ok()) << ids[0].error().message;
  EXPECT_FALSE(ids[1].ok()) << "the job on the killed connection fails";
  ASSERT_TRUE(ids[2].ok()) << ids[2].error().message;
  EXPECT_NE(*ids[2], *ids[0]) << "a new connection";
  (*pool)->stop();
}

TEST(MariadbConnectionTest, OverlongValuesAreErrorsNotTruncations) {
  MariadbBackend backend;
  Result<std::unique_ptr<Connection>> db = open(backend.options());
  ASSERT_TRUE(db.ok()) << db.error().message;
  ASSERT_TRUE((*db)->execute_script("CREATE TABLE short_text (t VARCHAR(4) NOT NULL)").ok());
  Result<int64_t> inserted =
      (*db)->execute("INSERT INTO short_text (t) VALUES (?)", {std::string("too long")});
  ASSERT_FALSE(inserted.ok());
  EXPECT_NE(inserted.error().message.find("Data too long"), std::string::npos) << inserted.error().message;
}

// A write transaction reads what others committed since it began (READ COMMITTED): a write that
// waited for a row lock computes its delta from what the write before it committed, even after a
// first read (REPEATABLE READ would freeze its reads at that first one).
TEST(MariadbConnectionTest, AWriteTransactionReadsWhatOthersCommittedMeanwhile) {
  MariadbBackend backend;
  Result<std::unique_ptr<Connection>> db = open(backend.options());
  Result<std::unique_ptr<Connection>> other = open(backend.options());
  ASSERT_TRUE(db.ok() && other.ok());
  ASSERT_TRUE((*db)->execute_script("CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL)").ok());
  ASSERT_TRUE((*db)->execute("INSERT INTO counter (id, n) VALUES (1, 0)").ok());
  ASSERT_TRUE((*db)->begin().ok());
  Result<std::vector<Row>> first = (*db)->query_all("SELECT n FROM counter WHERE id = 1");
  ASSERT_TRUE(first.ok() && first->size() == 1);
  EXPECT_EQ(first->front().integer(0), 0);
  ASSERT_TRUE((*other)->execute("UPDATE counter SET n = 5 WHERE id = 1").ok());
  Result<std::vector<Row>> again = (*db)->query_all("SELECT n FROM counter WHERE id = 1");
  ASSERT_TRUE(again.ok() && again->size() == 1);
  EXPECT_EQ(again->front().integer(0), 5);
  ASSERT_TRUE((*db)->commit().ok());
}

}  // namespace
}  // namespace reel::sql::testing
