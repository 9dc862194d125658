// AuthTest: the fixture of the auth integration suites: the suite's redis-server (flushed per
// test) and a fresh SQLite database (RedisSqliteTest), an event loop with a Redis connection for
// the async calls, a one-connection sql::Pool and a hashing WorkPool, a ManualClock, a
// minimum-cost PasswordHasher and a SessionStore; helpers to register users and await tasks.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "auth/accounts.h"
#include "auth/password.h"
#include "auth/session_store.h"
#include "common/clock.h"
#include "common/work_pool.h"
#include "redis/connection.h"
#include "sql/pool.h"
#include "support/event_loop.h"
#include "support/redis_sqlite_test.h"
#include "writes/write_path.h"

namespace reel::auth::testing {

// Starts `connection` on `io` to the server of `options`, with a command timeout far above any
// wait of a test, so a call fails for the reason the test names.
inline void start_connection(std::optional<redis::Connection>& connection, asio::io_context& io,
                             redis::ConnectionOptions options) {
  options.command_timeout = std::chrono::minutes(10);
  connection.emplace(io.get_executor(), options);
  connection->start();
}

class AuthTest : public reel::testing::RedisSqliteTest {
 protected:
  void SetUp() override {
    RedisSqliteTest::SetUp();
    if (HasFatalFailure()) return;
    start_connection(connection_, io_, connection_options());
    auto pool = sql::Pool::open({sql_url_}, 1);
    ASSERT_TRUE(pool) << pool.error().message;
    pool_ = std::move(*pool);
    auto hasher = PasswordHasher::create(minimum_password_cost);
    ASSERT_TRUE(hasher) << hasher.error().message;
    hasher_.emplace(std::move(*hasher));
  }

  void TearDown() override {
    if (pool_) pool_->stop();
    hashing_.stop();
  }

  // The task's result; fails the test (and returns a default) when it does not finish.
  template <class T>
  T await(Task<T> task) {
    std::optional<T> result = reel::testing::run_task(io_, std::move(task));
    return result ? std::move(*result) : T{Error{"the task did not finish"}};
  }

  template <class T>
  Result<T> write(const std::function<Result<T>(writes::Transaction&)>& fn) {
    Result<writes::Written<T>> written = writes::write_blocking<T>(*db_, *redis_, fn, clock_.unix_seconds());
    if (!written.ok()) return written.error();
    EXPECT_TRUE(written->landed);
    return std::move(written->value);
  }

  // Registers `name` with `password` (email name@example.org unless given); fails the test
  // otherwise.
  catalog::User register_user(const std::string& name, const std::string& password = "correct horse",
                              std::string email = "") {
    if (email.empty()) email = name + "@example.org";
    Result<NewAccount> account = prepare_registration(name, email, password);
    EXPECT_TRUE(account) << account.error().message;
    if (!account) return {};
    const std::string hash = hasher_->hash(password).value();
    Result<Registered> registered = write<Registered>(
        [&](writes::Transaction& tx) { return register_account(tx, *account, hash, clock_.unix_seconds()); });
    EXPECT_TRUE(registered) << registered.error().message;
    if (!registered || !registered->user) {
      ADD_FAILURE() << name << " is taken";
      return {};
    }
    return *registered->user;
  }

  Result<std::optional<Session>> find_session(const std::string& id) {
    return await(sessions_.find(*connection_, id));
  }
  NewSession new_session(int64_t user_id, std::string_view presented = {}) {
    Result<NewSession> session = await(sessions_.create(*connection_, user_id, presented));
    EXPECT_TRUE(session) << session.error().message;
    return session ? *session : NewSession{};
  }
  // The session exists and belongs to `user_id`.
  bool signed_in(const std::string& id, int64_t user_id) {
    Result<std::optional<Session>> found = find_session(id);
    EXPECT_TRUE(found) << found.error().message;
    return found && *found && (*found)->user_id == user_id;
  }

  asio::io_context io_{1};
  std::optional<redis::Connection> connection_;
  std::unique_ptr<sql::Pool> pool_;
  WorkPool hashing_{"hashing", 1};
  ManualClock clock_{1'700'000'000};
  std::optional<PasswordHasher> hasher_;
  SessionStore sessions_{clock_};
};

}  // namespace reel::auth::testing
