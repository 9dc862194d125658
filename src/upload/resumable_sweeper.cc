#include "upload/resumable_sweeper.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace reel::upload {

std::chrono::milliseconds ResumableSweeper::default_interval(std::chrono::seconds max_idle) {
  const std::chrono::milliseconds share = max_idle / 24;
  return std::clamp<std::chrono::milliseconds>(share, std::chrono::minutes(1), std::chrono::hours(1));
}

ResumableSweeper::ResumableSweeper(ResumableStore& store, std::chrono::seconds max_idle,
                                   std::chrono::milliseconds interval)
    : store_(store), max_idle_(max_idle), thread_(interval, [this] { return sweep(); }) {
  // PeriodicThread ticks after its first interval; sweeping at start is the first tick's job too,
  // but a server started after a long stop should not wait an hour for it.
  sweep();
}

bool ResumableSweeper::sweep() {
  Result<size_t> removed = store_.expire(max_idle_);
  if (!removed) {
    spdlog::warn("uploads: sweeping abandoned resumable uploads failed (retried in a while): {}",
                 removed.error().message);
  } else if (*removed > 0) {
    removed_.fetch_add(*removed, std::memory_order_relaxed);
    spdlog::info("uploads: removed {} resumable upload(s) idle for over {} s", *removed, max_idle_.count());
  }
  return true;
}

}  // namespace reel::upload
