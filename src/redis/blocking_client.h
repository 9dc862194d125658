// BlockingClient: a synchronous Redis client for command-line tools (seed, rebuild, admin). It owns
// a private event loop and one Connection, and runs the loop only while a call is in progress.
//
// execute(batch) sends the whole batch in one pipelined write and reads all replies back, so a
// batch of 10,000+ commands costs one round trip; ConnectionOptions::command_timeout bounds the
// whole batch, so give big batches a generous one.
//
// Thread-safety: not thread-safe; one thread at a time.
// Failure: connect() returns an Error when Redis does not answer PING; execute() returns an Error
// when the connection is lost during the call or cannot be re-established within connect_timeout
// (a call made while it is down first waits up to that long for the reconnect); Redis error
// replies are values.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "common/result.h"
#include "redis/command.h"
#include "redis/connection.h"
#include "redis/reply.h"

namespace reel::redis {

class BlockingClient {
 public:
  // Connects and checks the server with a PING.
  static Result<BlockingClient> connect(ConnectionOptions options);

  BlockingClient(BlockingClient&& other) noexcept = default;
  BlockingClient& operator=(BlockingClient&& other) noexcept;
  ~BlockingClient();

  // One reply per command, in order, from one pipelined round trip.
  Result<std::vector<Reply>> execute(std::vector<Command> commands);
  Result<Reply> execute(Command command);

  ConnectionStats stats() const { return connection_->stats(); }
  // What it was connected with: for a second client to the same Redis (a thread of its own needs
  // one, as this one is not thread-safe).
  const ConnectionOptions& options() const { return options_; }

 private:
  BlockingClient(std::unique_ptr<asio::io_context> io, std::unique_ptr<Connection> connection,
                 ConnectionOptions options);
  // Runs the event loop until the connection is up or options_.connect_timeout has passed.
  void await_connection();

  // Declared in this order so the connection is destroyed before its event loop.
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<Connection> connection_;
  ConnectionOptions options_;
};

// Runs `transaction` (one MULTI ... EXEC) only while `key` does not exist: WATCH key, EXISTS key,
// then the transaction, which Redis aborts when the key is written in between. true when it ran;
// false when the key existed or appeared (nothing was applied); an Error "<what> failed: ..."
// when Redis failed or a command answered with an error. A clean-up UNWATCH that fails is logged.
Result<bool> execute_unless_exists(BlockingClient& client, const std::string& key,
                                   std::vector<Command> transaction, std::string_view what);

}  // namespace reel::redis
