// Connection: one auto-pipelining connection to one Redis endpoint, living on one event loop.
//
// Every coroutine on that loop shares it: execute() appends its commands to the outgoing buffer;
// whatever has been queued when the writer runs goes out in one write, and the replies are read
// back in order and handed to their callers. A batch passed to one execute() call is written
// contiguously, so MULTI ... EXEC inside one batch is never interleaved with other callers'
// commands.
//
// Thread-safety: not thread-safe; call only from the executor it was created with.
// Failure: execute() returns an Error (never throws) when the connection is down, the command
// timeout passes, or the connection is lost with the batch in flight; Redis error replies are
// values inside the returned vector. A lost connection is re-established in the background with
// exponential backoff (connect_backoff_min .. connect_backoff_max); while it is down, execute()
// fails at once ("redis unavailable: <cause>") rather than queueing. command_timeout bounds a whole
// execute() call; when it passes, the connection is closed and replaced, because later replies
// would no longer match their callers, so every other call in flight on it fails too.
// Performance: a page's commands cost one write and one or a few reads, shared with every other
// caller queued at the same moment; a batch's replies are parsed straight into Reply values.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/result.h"
#include "redis/command.h"
#include "redis/reply.h"

namespace reel::redis {

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
};

// Parses "host:port" (port required); returns an Error naming the text on failure.
Result<Endpoint> parse_endpoint(std::string_view text);

struct ConnectionOptions {
  Endpoint endpoint{};
  std::string password{};  // AUTH when not empty
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{2000};
  std::chrono::milliseconds connect_backoff_min{50};
  std::chrono::milliseconds connect_backoff_max{2000};
};

// Counters since the connection object was created. A round trip is one write of queued
// commands followed by reading all of their replies.
struct ConnectionStats {
  uint64_t round_trips = 0;
  uint64_t commands = 0;
  uint64_t errors = 0;      // failed execute() calls (not Redis error replies)
  uint64_t reconnects = 0;  // connections re-established after a loss
};

class Connection {
 public:
  Connection(asio::any_io_executor executor, ConnectionOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts connecting in the background; execute() before the first connect completes waits for
  // it (up to connect_timeout). execute() before start() fails. Calling start() again is a no-op.
  void start();
  // Closes the socket and stops reconnecting; pending and later calls fail with an Error. A stopped
  // connection cannot be started again. The destructor calls stop().
  void stop();

  // One reply per command, in order. See the file comment for failures.
  Task<Result<std::vector<Reply>>> execute(std::vector<Command> commands);
  // Shorthand for a single command.
  Task<Result<Reply>> execute(Command command);

  // These two may be called from any thread (relaxed atomics).
  bool connected() const;
  ConnectionStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace reel::redis
