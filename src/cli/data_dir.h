// DataDir: the folder the embedded mode keeps everything in — reel.toml (settings, including
// where its Redis listens), reel.db (SQLite), redis/ (AOF), media/, log/. Every command given
// --data-dir works on the same folder whether or not `reel up` is running on it.
// Thread-safety: not thread-safe. Failure: Errors name the path and the reason.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "config/config.h"
#include "purge/purger.h"
#include "redis/blocking_client.h"
#include "redis/server.h"
#include "redis/supervisor.h"

namespace reel::cli {

class DataDir {
 public:
  enum class Purpose { use, restore };
  // Opens the folder, creating it and its reel.toml (with a free Redis port) when new. A folder
  // that a `reel restore` did not finish (restore.incomplete) is refused, except to restore.
  static Result<DataDir> open(const std::string& path, Purpose purpose = Purpose::use);

  const std::string& path() const { return path_; }
  const config::Config& config() const { return config_; }
  config::Config& config() { return config_; }
  std::string redis_dir() const { return path_ + "/redis"; }
  // Sets (true) or clears the mark of a restore in progress.
  Status mark_restoring(bool restoring) const;

  // Starts this folder's redis-server as a child of this process.
  Result<redis::RedisServer> start_redis() const;
  // The same, kept running: restarted from its AOF whenever it dies (`reel up`).
  Result<std::unique_ptr<redis::RedisSupervisor>> supervise_redis() const;

 private:
  // How this folder's redis-server runs (AOF on, data in redis_dir(), the configured port).
  Result<redis::RedisServerOptions> redis_options() const;
  Error cannot_start_redis(const Error& why) const;

  std::string path_;
  config::Config config_;
};

// The connection settings for `endpoint` from the [redis] section. Tools pass a longer
// `min_command_timeout`: one of their pipelined batches carries thousands of commands.
redis::ConnectionOptions redis_connection_options(const config::Config& config,
                                                  const redis::Endpoint& endpoint,
                                                  std::chrono::milliseconds min_command_timeout = {});

// The connection settings of an optional [redis] endpoint (`key` names it in errors): nullopt when
// `value` is empty; an Error for a malformed address.
Result<std::optional<redis::ConnectionOptions>> optional_redis_endpoint(const config::Config& config,
                                                                        std::string_view key,
                                                                        const std::string& value);

// The purger of [varnish] purge_nodes (purge/purger.h); null when none are set. An Error names a
// bad node address.
Result<std::unique_ptr<purge::Purger>> open_purger(const config::Config& config);

// A Redis connection for a command-line tool, with the redis-server it had to start (if the
// data dir's Redis was not running), stopped when this is destroyed.
struct RedisLease {
  std::optional<redis::RedisServer> server;  // set when this process started it
  std::unique_ptr<redis::BlockingClient> client;
};

// Connects to the configured Redis; with a data dir whose Redis is not running, starts it first.
Result<RedisLease> connect_redis(const config::Config& config, const DataDir* data_dir);

}  // namespace reel::cli
