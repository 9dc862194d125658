// Script: a Lua script run with EVALSHA, falling back to EVAL when Redis does not have it cached
// (NOSCRIPT after a restart or SCRIPT FLUSH); EVAL caches it again for the next EVALSHA.
//
// Thread-safety: immutable after construction; one Script may be shared by every event loop.
// Failure: run() returns the Connection's Error when the call fails; a Redis error reply (including
// a runtime error in the script) is a value, as with any command.
#pragma once

#include <string>
#include <vector>

#include "common/asio.h"
#include "common/result.h"
#include "redis/command.h"
#include "redis/connection.h"
#include "redis/reply.h"

namespace reel::redis {

class Script {
 public:
  // Computes the SHA1 Redis will know the script by.
  explicit Script(std::string source);

  const std::string& source() const { return source_; }
  // Lower-case hex SHA1 of the source, as SCRIPT LOAD returns it.
  const std::string& sha1() const { return sha1_; }

  // EVALSHA sha1 numkeys keys... args...; to place a script call inside a pipelined batch.
  Command evalsha_command(const std::vector<std::string>& keys, const std::vector<std::string>& args) const;
  // EVAL source numkeys keys... args...
  Command eval_command(const std::vector<std::string>& keys, const std::vector<std::string>& args) const;
  // True for the reply EVALSHA gets when Redis does not have the script.
  static bool is_noscript(const Reply& reply);

  // EVALSHA, then EVAL on NOSCRIPT: one round trip normally, two after Redis lost its script cache.
  // The Script and the Connection must outlive the returned task.
  Task<Result<Reply>> run(Connection& connection, std::vector<std::string> keys,
                          std::vector<std::string> args) const;

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace reel::redis
