// A redis-server shared by the tests of one suite (starting one takes a while), in a temporary
// directory of its own: start it from SetUpTestSuite(), stop it from TearDownTestSuite(); each
// test flushes what it needs (flushed_client()). A missing redis-server fails the suite.
// Thread-safety: none needed (gtest runs a suite's setup and teardown on one thread).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "redis/blocking_client.h"
#include "redis/server.h"
#include "support/fixtures.h"
#include "support/redis_info.h"

namespace reel::testing {

class SuiteRedis {
 public:
  // Error when redis-server does not start.
  Status start();
  // Stops it (if started) and removes its directory; Error when it did not stop cleanly.
  Status stop();
  // Null until start() succeeded.
  const redis::RedisServer* server() const { return server_ ? &*server_ : nullptr; }

 private:
  std::unique_ptr<TempDir> dir_;
  std::optional<redis::RedisServer> server_;
};

// The bytes the server at `client` has logged for its AOF, for tests of what is logged: those
// written (INFO persistence's aof_current_size) and those still in its buffer (aof_buffer_length).
// The buffer counts because with appendfsync everysec Redis postpones the write, up to 2 s, while
// a background fsync runs, which a loaded machine makes common. An Error when it cannot say (no
// AOF, no answer).
inline Result<int64_t> aof_bytes(redis::BlockingClient& client) {
  auto info = info_text(client, "persistence");  // one reply: a flush cannot fall between the two
  if (!info) return info.error();
  const auto enabled = number_after(*info, "aof_enabled:");
  const auto written = number_after(*info, "aof_current_size:");
  const auto buffered = number_after(*info, "aof_buffer_length:");
  if (enabled != 1 || !written || !buffered) return Error{"the server keeps no AOF"};
  return *written + *buffered;
}

// A fixture base for suites that share one SuiteRedis: it starts in SetUpTestSuite() and stops in
// TearDownTestSuite(); SetUp() fails the test when it did not start (call it from an override).
class RedisSuiteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = redis_.start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }
  static void TearDownTestSuite() { EXPECT_TRUE(redis_.stop().ok()); }
  void SetUp() override { ASSERT_NE(redis_.server(), nullptr) << "redis-server did not start"; }

  // The suite's server; valid in tests (after SetUp()).
  static const redis::RedisServer& server() { return *redis_.server(); }
  // Connection settings for the suite's server.
  static redis::ConnectionOptions connection_options();
  // A client of the suite's server after FLUSHALL, so a test starts from an empty Redis, with the
  // command timeout `reel` gives its tools (60 s); an Error when it cannot connect or flush.
  static Result<redis::BlockingClient> flushed_client();

 private:
  static inline SuiteRedis redis_;
};

// RedisSuiteTest with a client of the suite's server, flushed before each test (flushed_client()).
// Subclasses call SetUp() first and return when it failed (HasFatalFailure()).
class FlushedRedisTest : public RedisSuiteTest {
 protected:
  void SetUp() override {
    RedisSuiteTest::SetUp();
    if (HasFatalFailure()) return;
    auto client = flushed_client();
    ASSERT_TRUE(client) << client.error().message;
    redis_.emplace(std::move(*client));
  }

  std::optional<redis::BlockingClient> redis_;
};

}  // namespace reel::testing
