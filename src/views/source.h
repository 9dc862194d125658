// Sources: where `reel views` reads its lines from, each an Asio coroutine on one executor that
// hands runs of complete lines to a handler (normally Aggregator::ingest_lines):
//   stdin (or any fd):  a pipe, socket or tty through Asio; a regular file read to its end;
//   follow FILE:        tail -F semantics: new lines as they are appended, the file reopened when
//                       it is replaced (rotation: the old file is read to its end first) and read
//                       again from the start when it is truncated; polled every poll_interval;
//   UDP HOST:PORT:      one or more lines per datagram;
//   TCP HOST:PORT:      newline-delimited lines from up to max_clients connections at once
//                       (syslog-ng's network() destination); further connections are closed;
//   a LineQueue:        the in-process hop of `reel up` (event_log/line_queue.h), lossless;
//   the views stream:   a Redis stream (syslog-ng's redis() destination XADDs each line) read
//                       from this partition's committed cursor with XREAD; lossless across an
//                       aggregator crash, since what was read past the cursor is read again
//                       (views/journal.h says how the cursor moves only with applied views).
// UDP is the one input that can lose lines unseen (the kernel drops datagrams when the receive
// buffer is full): the source reads the socket's drop count (SO_MEMINFO) into dropped_datagrams().
// Lines longer than max_line_bytes are dropped where they would have to be buffered (counted in
// oversized_lines()); the aggregator's parser bounds the rest.
//
// Thread-safety: a Source is started, stopped and destroyed on its executor's thread, and its
// handlers run there. Ownership: the caller owns the Source; stop() (and the destructor) close
// its descriptors, and no handler runs after stop() returns.
// Failure: opening returns an Error (a port in use, a missing file for stdin); a read error later
// ends the source with that Error through the end handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/asio.h"
#include "common/host_port.h"
#include "common/result.h"
#include "event_log/line_queue.h"
#include "redis/connection.h"
#include "views/event.h"

namespace reel::views {

// Called with one or more complete lines, each ending in '\n' except the last one at the end of
// a stream or of a UDP datagram.
using LineHandler = std::function<void(std::string_view lines)>;
// Called once when a source ends by itself (end of stdin: ok; a read error: the Error).
using EndHandler = std::function<void(Status)>;

// Splits a byte stream into runs of complete lines, keeping a partial last line for the next
// feed(). A line that grows past max_line while partial is dropped up to its newline.
// Thread-safety: one thread.
class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line = max_line_bytes) : max_line_(max_line) {}

  void feed(std::string_view bytes, const LineHandler& on_lines);
  // End of stream: hands over a partial last line, if any.
  void finish(const LineHandler& on_lines);
  // Forgets a partial line (the file it came from was truncated).
  void reset();
  uint64_t oversized() const { return oversized_; }

 private:
  size_t max_line_;
  std::string partial_;
  bool discarding_ = false;
  uint64_t oversized_ = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Starts reading; call once.
  virtual void start(LineHandler on_lines, EndHandler on_end) = 0;
  // Stops reading and closes; idempotent.
  virtual void stop() = 0;
  // "stdin", "follow /var/log/x", "udp 127.0.0.1:5514", "tcp 127.0.0.1:5514".
  virtual std::string describe() const = 0;
  // The bound port of a network source (useful with port 0), else 0.
  virtual uint16_t port() const { return 0; }
  virtual uint64_t oversized_lines() const = 0;
  // Datagrams the kernel dropped before this source read them (UDP); any thread may read it.
  virtual uint64_t dropped_datagrams() const { return 0; }
};

Result<std::unique_ptr<Source>> open_fd_source(asio::any_io_executor executor, int fd = 0);

struct FollowOptions {
  std::chrono::milliseconds poll_interval{250};
  bool from_start = false;  // false: start at the current end, as tail -n0 -F
};
Result<std::unique_ptr<Source>> open_follow_source(asio::any_io_executor executor, std::string path,
                                                   FollowOptions options = {});

Result<std::unique_ptr<Source>> open_udp_source(asio::any_io_executor executor, const HostPort& address);
// stop() hands over what is still queued: by then the writers have stopped (`reel up` stops its
// web server before its aggregator). Lines are taken `gather` after the first of them was queued,
// all at once (they only wait for the next flush anyway).
std::unique_ptr<Source> open_queue_source(asio::any_io_executor executor,
                                          std::shared_ptr<event_log::LineQueue> queue,
                                          std::chrono::milliseconds gather = std::chrono::milliseconds(20));

Result<std::unique_ptr<Source>> open_tcp_source(asio::any_io_executor executor, const HostPort& address,
                                                size_t max_clients = 64);

// How far a stream source has read: the id of the last entry whose line went to the handler, set
// in the same step as the handing over (so everything ingested is up to it, nothing beyond).
// Empty until the source has read its partition's cursor. Read on the source's executor only.
struct StreamPosition {
  std::string last_id;
};

struct StreamSourceOptions {
  std::string partition = "1/1";  // the cursor's name in views:cursors ("I/N" of --partition)
  size_t entries_per_read = 5000;
  std::chrono::milliseconds block{1000};       // XREAD BLOCK: how long a read waits for entries
  std::chrono::milliseconds retry_after{500};  // after a failed read (Redis away)
};

struct StreamInput {
  std::unique_ptr<Source> source;
  std::shared_ptr<const StreamPosition> position;
};

// Reads the views stream on a connection of its own (XREAD blocks it), starting after the
// partition's cursor in views:cursors; a partition without one first sets it to the stream's
// start ("0-0"), so no other partition's trim removes entries it has not read. Redis being
// away is waited out (one message per streak on stderr), never an end: the source ends only by
// stop(). An entry's first field value is its line; entries of another shape are skipped.
StreamInput open_stream_source(asio::any_io_executor executor, redis::ConnectionOptions connection,
                               StreamSourceOptions options);

}  // namespace reel::views
