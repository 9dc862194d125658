// views: `reel views`, the view aggregator process, and the same pipeline run in-process by
// `reel up`. Lines come from the inputs (stdin, UDP, TCP, followed files), go through
// views::Aggregator and are flushed to Redis by views::Service every [views] flush_ms; a thread
// of its own writes the daily per-video counts to SQL every `sql_interval` (so history survives
// a Redis loss and `reel rebuild` can restore the counters from it).
//
// Thread-safety: run() blocks the calling thread; stop() may be called from any thread (and from
// a signal handler through the pipeline's own signal set when handle_signals is set).
// Ownership: the pipeline owns its event loop, Redis connection, sources and SQL thread.
// With metrics_listen, an HTTP server on a thread of its own answers GET /metrics while it runs.
// Failure: open() returns an Error for a bad input or metrics address, a port in use or an
// unreachable SQL store; run() returns an Error when pending views could not be flushed before the drain
// timeout (they are lost, and the message says how many).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "event_log/line_queue.h"

namespace reel::cli {

struct ViewsInputs {
  bool from_stdin = false;
  bool from_stream = false;                     // the views stream in [redis] write (views/journal.h); alone
  std::vector<std::string> udp;                 // HOST:PORT to listen on
  std::vector<std::string> tcp;                 // HOST:PORT to listen on
  std::vector<std::string> follow;              // files to follow (tail -F)
  std::shared_ptr<event_log::LineQueue> queue;  // the in-process hop of `reel up`; null: none
  std::string metrics_listen;    // HOST:PORT answering GET /metrics (render_metrics); empty: none
  uint32_t partition_index = 0;  // this aggregator takes partition index of count
  uint32_t partition_count = 1;
  bool handle_signals = false;  // stop on SIGTERM/SIGINT (the standalone command)
  std::chrono::milliseconds sql_interval{10000};
  std::chrono::milliseconds drain_timeout{10000};
};

class ViewsPipeline {
 public:
  static Result<std::unique_ptr<ViewsPipeline>> open(const config::Config& config, const ViewsInputs& inputs);
  ~ViewsPipeline();

  // Runs until stop() or until every input has ended (end of stdin), then flushes what is
  // pending to Redis and the daily counts to SQL.
  Status run();
  void stop();
  // The bound ports of the network inputs, in the order given (useful with port 0).
  std::vector<uint16_t> ports() const;
  // Appends the pipeline's Prometheus metrics (the datagrams the kernel dropped on the UDP
  // inputs); callable from any thread while it runs.
  void render_metrics(std::string& out) const;

 private:
  struct Impl;
  explicit ViewsPipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses "I/N" (1 <= I <= N <= 1024) into a zero-based index and a count.
Result<std::pair<uint32_t, uint32_t>> parse_partition(std::string_view text);

}  // namespace reel::cli
