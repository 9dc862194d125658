// Client: the Redis connections of one event loop: a writer connection to the primary and, when
// configured, a reader connection to a read replica (page reads go there). Each is an
// auto-pipelining Connection, so one Client per event loop serves every request on that loop.
//
// Thread-safety: as Connection: use only from the executor it was created with.
// Failure: see Connection; a missing or unreachable replica does not fail writes.
#pragma once

#include <memory>
#include <optional>

#include "common/asio.h"
#include "redis/connection.h"

namespace reel::redis {

struct ClientOptions {
  ConnectionOptions write;
  std::optional<ConnectionOptions> read;  // a read replica; nullopt: reads go to `write`
};

class Client {
 public:
  Client(asio::any_io_executor executor, ClientOptions options);

  // Starts (stops) every connection; see Connection::start() and stop().
  void start();
  void stop();

  // The primary: for writes and for reads that must see them.
  Connection& writer() { return writer_; }
  // The read replica, or the writer when none is configured.
  Connection& reader() { return reader_ ? *reader_ : writer_; }

 private:
  Connection writer_;
  std::unique_ptr<Connection> reader_;
};

}  // namespace reel::redis
