// ResumableSweeper: removes abandoned resumable uploads on a schedule, so the disk they take is
// bounded by what clients send within `max_idle` (default 24 h) rather than growing for ever. A
// sweep is ResumableStore::expire(max_idle): sessions without a create or append for that long,
// and the leftovers of creates and cancels cut short by a crash. The first sweep runs at start
// (uploads abandoned while the server was down go at once), then one every `interval`.
// A failed sweep is logged and retried at the next interval; a sweep that removed sessions logs
// how many.
// Thread-safety: the sweeps run on a thread of the sweeper's own; the store is thread-safe.
// Ownership: the store must outlive the sweeper (declare the sweeper after it).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>

#include "common/periodic_thread.h"
#include "upload/resumable.h"

namespace reel::upload {

class ResumableSweeper {
 public:
  // The default interval: a twenty-fourth of `max_idle`, between a minute and an hour.
  static std::chrono::milliseconds default_interval(std::chrono::seconds max_idle);

  ResumableSweeper(ResumableStore& store, std::chrono::seconds max_idle, std::chrono::milliseconds interval);

  // Sessions removed since start.
  size_t removed() const { return removed_.load(std::memory_order_relaxed); }

 private:
  bool sweep();

  ResumableStore& store_;
  const std::chrono::seconds max_idle_;
  std::atomic<size_t> removed_{0};
  PeriodicThread thread_;  // last: stopped (joined) before the members it uses go
};

}  // namespace reel::upload
