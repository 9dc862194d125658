// Sessions: each viewer's last few videos (session_depth) within a session window (1 hour by
// default), for co-view pairs. In fixed memory: a set-associative table of viewer slots
// (4 per bucket, 72 bytes each, capacity rounded up to 4 x a power of two); when a bucket is full
// the slot whose latest view is oldest is reused, so a viewer evicted mid-session starts a new
// session (fewer pairs, never wrong ones).
// Thread-safety: not thread-safe; one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "views/table_memory.h"

namespace reel::views {

constexpr int session_depth = 5;

class Sessions {
 public:
  // `depth`: how many earlier videos a view pairs with (clamped to 1..session_depth).
  Sessions(size_t capacity, int64_t window_seconds, int depth = session_depth);

  // Records that `viewer` (views/hash.h viewer_hash, not 0) watched `video` at `time`, and calls
  // `on_pair(other)` for every other video among the viewer's last `depth` watched within the
  // window of `time`, most recent first. Watching a video again moves it to the
  // front without a pair with itself.
  template <class Fn>
  void record(uint64_t viewer, int64_t video, int64_t time, Fn&& on_pair) {
    Slot& slot = find(viewer);
    for (int i = 0; i < depth_ && slot.video[i] != 0; ++i) {
      const int64_t age = time - static_cast<int64_t>(slot.time[i]);
      if (slot.video[i] != video && age < window_ && age > -window_) on_pair(slot.video[i]);
    }
    push_front(slot, video, time);
  }

  // Starts loading the viewer's bucket into the cache, ahead of record().
  void prefetch(uint64_t viewer) const {
    const char* bucket = reinterpret_cast<const char*>(&slots_[(viewer & mask_) * ways]);
    for (size_t offset = 0; offset < ways * sizeof(Slot); offset += 64) __builtin_prefetch(bucket + offset);
  }

  size_t capacity() const { return (mask_ + 1) * ways; }
  size_t memory_bytes() const { return (mask_ + 1) * ways * sizeof(Slot); }

 private:
  static constexpr int ways = 4;
  struct Slot {
    uint64_t viewer;
    int64_t video[session_depth];  // most recent first; 0 = none
    uint32_t time[session_depth];
    uint32_t latest;
  };

  Slot& find(uint64_t viewer);
  static void push_front(Slot& slot, int64_t video, int64_t time);

  TableMemory<Slot> slots_;
  size_t mask_;  // buckets - 1
  int64_t window_;
  int depth_;
};

}  // namespace reel::views
