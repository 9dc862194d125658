// A redis-server shared by the tests of one suite (starting one takes a while), in a temporary
// directory of its own: start it from SetUpTestSuite(), stop it from TearDownTestSuite(); each
// test flushes what it needs. A missing redis-server fails the suite.
// Thread-safety: none needed (gtest runs a suite's setup and teardown on one thread).
#pragma once

#include <memory>
#include <optional>

#include "redis/server.h"
#include "support/fixtures.h"

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

}  // namespace reel::testing
