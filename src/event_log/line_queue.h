// LineQueue: the in-process hop of view events in `reel up`, from the web server's event loops
// (EventLog::to_queue) to the aggregator's loop (views::open_queue_source). Nothing is lost up to
// max_bytes waiting; past that, push() refuses the line and the EventLog counts it as dropped (a
// burst beyond the bound, with the aggregator stalled, is the only loss, and it is counted).
// The consumer is told when lines wait (on_ready), once per batch, not once per line.
//
// Thread-safety: every member may be called from any thread; the wake callback runs on a
// producer's thread (or on_ready's caller), under the queue's lock, so it must only post work
// elsewhere (asio::post), never call back into the queue.
// Ownership: shared by the writing EventLog and the reading Source.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace reel::event_log {

class LineQueue {
 public:
  explicit LineQueue(size_t max_bytes = 64 * 1024 * 1024) : max_bytes_(max_bytes) {}

  // Queues `line` and a newline; false (nothing queued) when that would pass max_bytes.
  bool push(std::string_view line);
  // Moves every queued line (each ending in '\n') into `out`, which is cleared first.
  void take(std::string& out);
  // Sets the consumer's wake-up (empty: none). Called at once when lines already wait.
  void on_ready(std::function<void()> wake);

 private:
  void wake_locked();

  const size_t max_bytes_;
  std::mutex mutex_;
  std::string lines_;
  std::function<void()> wake_;
  bool woken_ = false;  // the consumer was told and has not taken the lines yet
};

}  // namespace reel::event_log
