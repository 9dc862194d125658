#include "event_log/line_queue.h"

namespace reel::event_log {

bool LineQueue::push(std::string_view line) {
  std::lock_guard lock(mutex_);
  if (lines_.size() + line.size() + 1 > max_bytes_) return false;
  lines_.append(line);
  lines_.push_back('\n');
  wake_locked();
  return true;
}

void LineQueue::take(std::string& out) {
  out.clear();
  std::lock_guard lock(mutex_);
  lines_.swap(out);
  woken_ = false;
}

void LineQueue::on_ready(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_ = std::move(wake);
  woken_ = false;
  if (!lines_.empty()) wake_locked();
}

void LineQueue::wake_locked() {
  if (woken_ || !wake_) return;
  woken_ = true;
  wake_();
}

}  // namespace reel::event_log
