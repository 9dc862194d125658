// A redis-server of a benchmark's own: no AOF, its files in `dir`, a free loopback port, and a
// client of it. For benchmarks run by hand; the server stops when the PrivateRedis is destroyed.
// Thread-safety: as the BlockingClient (one thread at a time).
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include "common/result.h"
#include "redis/blocking_client.h"
#include "redis/server.h"

namespace reel::bench {

struct PrivateRedis {
  redis::RedisServer server;
  redis::ConnectionOptions options;  // the server's endpoint and `command_timeout`
  redis::BlockingClient client;
};

// An Error when the server does not start or the client cannot connect.
inline Result<PrivateRedis> start_private_redis(const std::string& dir,
                                                std::chrono::milliseconds command_timeout) {
  redis::RedisServerOptions server_options;
  server_options.dir = dir;
  server_options.append_only = false;
  auto server = redis::RedisServer::start(server_options);
  if (!server) return Error{"redis-server: " + server.error().message};
  redis::ConnectionOptions options;
  options.endpoint = server->endpoint();
  options.command_timeout = command_timeout;
  auto client = redis::BlockingClient::connect(options);
  if (!client) return Error{"redis client: " + client.error().message};
  return PrivateRedis{std::move(*server), options, std::move(*client)};
}

}  // namespace reel::bench
