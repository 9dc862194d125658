// A fixture base for suites that work through a redis::Connection on an event loop: the suite's
// redis-server and a client of it, flushed before each test (FlushedRedisTest), for setting up
// and checking, and a started Connection on io_ (drive it with event_loop.h). Subclasses call
// SetUp() first and return when it failed (HasFatalFailure()).
// Thread-safety: none needed (gtest runs a test's setup and body on one thread).
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "common/asio.h"  // before any other Asio header
#include "redis/connection.h"
#include "support/suite_redis.h"

namespace reel::testing {

class RedisLoopTest : public FlushedRedisTest {
 protected:
  void SetUp() override {
    FlushedRedisTest::SetUp();
    if (HasFatalFailure()) return;
    connection_.emplace(io_.get_executor(), connection_options());
    connection_->start();
  }

  asio::io_context io_;
  std::optional<redis::Connection> connection_;
};

}  // namespace reel::testing
