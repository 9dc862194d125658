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

redis::ConnectionOptions RedisSuiteTest::connection_options() {
  redis::ConnectionOptions options;
  options.endpoint = server().endpoint();
  return options;
}

Result<redis::BlockingClient> RedisSuiteTest::flushed_client() {
  // The client runs what `reel`'s tools run (rebuilds, seeds: batches of thousands of commands),
  // so it gets their command timeout, not a page's 2 s, which a loaded machine can exceed.
  redis::ConnectionOptions options = connection_options();
  options.command_timeout = std::chrono::seconds(60);
  auto client = redis::BlockingClient::connect(options);
  if (!client) return client.error();
  auto flushed = client->execute(redis::Command("FLUSHALL"));
  if (!flushed) return flushed.error();
  if (flushed->is_error()) return Error{"FLUSHALL: " + std::string(flushed->str())};
  return client;
}

}  // namespace reel::testing
