// Client: the Redis connections of one event loop: a writer connection to the primary and, when
// configured, a reader connection to a read replica (page reads go there), and a connection to the
// primary of the sessions and limits (a node of their own, docs/capacity.md) with, when
// configured, one to its replica for session lookups. Each is an auto-pipelining Connection, so
// one Client per event loop serves every request on that loop; a connection is opened only when
// its endpoint is configured.
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
  std::optional<ConnectionOptions> read;             // a read replica; nullopt: reads go to `write`
  std::optional<ConnectionOptions> sessions{};       // the sessions primary; nullopt: `write`
  std::optional<ConnectionOptions> sessions_read{};  // its replica; nullopt: the sessions primary
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
  // The primary of sessions and limits, or the writer when they have no node of their own.
  Connection& sessions() { return sessions_ ? *sessions_ : writer_; }
  // Where session lookups may read: the sessions replica, or sessions().
  Connection& session_reader() { return session_reader_ ? *session_reader_ : sessions(); }

 private:
  Connection writer_;
  std::unique_ptr<Connection> reader_;
  std::unique_ptr<Connection> sessions_;
  std::unique_ptr<Connection> session_reader_;
};

}  // namespace reel::redis
