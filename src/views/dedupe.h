// Deduper: one view per (viewer, video) per window (30 minutes by default), in fixed memory.
//
// A set-associative table of 64-bit (viewer, video) fingerprints with the time of the view that
// was counted: buckets of 5 entries, one 64-byte cache line each, so a lookup touches one line.
// Memory is fixed at construction: capacity rounded up to 5 x a power of two entries, 12.8 bytes
// per entry (the default 5,242,880 entries take 64 MiB).
//
// When a bucket is full, the entry with the oldest time is evicted. An evicted pair that is still
// inside its window can then count again, so at worst a repeat view counts twice; evictions()
// says how often that was possible. It does not happen while the pairs seen within one window
// stay well below the capacity (size it at about twice the peak distinct viewer-video pairs per
// window of one partition). A 64-bit fingerprint collision (probability ~n/2^64) would make two
// pairs share one entry.
//
// Events may arrive out of order: a view counts when it is at least a window away from the latest
// counted view of the pair, earlier or later.
// Thread-safety: not thread-safe; one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "views/table_memory.h"

namespace reel::views {

class Deduper {
 public:
  Deduper(size_t capacity, int64_t window_seconds);

  // True when this is a new view (it is recorded); false for a repeat within the window.
  // `fingerprint` must not be 0 (views/hash.h view_fingerprint()).
  bool admit(uint64_t fingerprint, int64_t time);
  // Starts loading the fingerprint's bucket into the cache, ahead of admit().
  void prefetch(uint64_t fingerprint) const { __builtin_prefetch(&buckets_[bucket_of(fingerprint)]); }

  size_t capacity() const { return (mask_ + 1) * ways; }
  size_t memory_bytes() const { return (mask_ + 1) * sizeof(Bucket); }
  // Entries evicted while still inside their window.
  uint64_t evictions() const { return evictions_; }

 private:
  static constexpr int ways = 5;
  struct alignas(64) Bucket {
    uint64_t fingerprint[ways];
    uint32_t time[ways];  // Unix seconds (fits until 2106)
  };

  size_t bucket_of(uint64_t fingerprint) const { return (fingerprint >> 20 ^ fingerprint) & mask_; }

  TableMemory<Bucket> buckets_;
  size_t mask_;
  int64_t window_;
  uint64_t evictions_ = 0;
};

// The smallest power of two >= n (1 for n <= 1).
size_t round_up_pow2(size_t n);

}  // namespace reel::views
