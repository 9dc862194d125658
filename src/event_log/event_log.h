// EventLog: where the web server sends one line per view event (views/event.h), without ever
// blocking an event loop. Targets, as written in [views] sink:
//   "syslog"            the local syslog socket /dev/log (the production path: the node's
//   "syslog:PATH"       syslog-ng forwards to the aggregator), as unix datagrams
//   "udp:HOST:PORT"     datagrams straight to an aggregator (`reel up` runs one in-process)
//   "file:PATH"         appended to a file by a writer thread (for tests and small sites)
//   "none"              events are discarded (and counted as dropped)
// and, in-process (`reel up`: no config text names it), to_queue(): a LineQueue read by an
// aggregator in the same process, lossless up to its bound (line_queue.h).
// A datagram target sends with MSG_DONTWAIT: when the socket buffer is full or the receiver is
// gone the line is dropped and counted, never queued. The file target queues up to
// `max_queued_bytes` for its thread and drops beyond that.
//
// Thread-safety: write() and stats() may be called from any thread at once.
// Ownership: the EventLog owns its socket or file and writer thread; the destructor writes what
// the file queue still holds, then closes.
// Failure: open() returns an Error for an unknown target, an unresolvable address or a file that
// cannot be opened; write() reports a drop as false and never fails otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "event_log/line_queue.h"

namespace reel::event_log {

struct Options {
  std::string target = "none";
  size_t max_queued_bytes = 4 * 1024 * 1024;  // file target
};

struct Stats {
  uint64_t sent = 0;
  uint64_t dropped = 0;
};

class EventLog {
 public:
  virtual ~EventLog() = default;
  static Result<std::unique_ptr<EventLog>> open(const Options& options);
  // Writes to `queue`; a line the full queue refuses is dropped and counted.
  static std::unique_ptr<EventLog> to_queue(std::shared_ptr<LineQueue> queue);

  // Sends one line (no newline: the target adds its framing). False when it was dropped.
  virtual bool write(std::string_view line) = 0;
  virtual Stats stats() const = 0;
  // The target as configured, for logs.
  virtual std::string describe() const = 0;
};

}  // namespace reel::event_log
