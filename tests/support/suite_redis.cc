#include "support/suite_redis.h"

namespace reel::testing {

Status SuiteRedis::start() {
  dir_ = std::make_unique<TempDir>();
  redis::RedisServerOptions options;
  options.dir = dir_->path();
  auto server = redis::RedisServer::start(options);
  if (!server) return server.error();
  server_.emplace(std::move(*server));
  return {};
}

Status SuiteRedis::stop() {
  Status stopped;
  if (server_) stopped = server_->stop();
  server_.reset();
  dir_.reset();
  return stopped;
}

}  // namespace reel::testing
