#include "views/dedupe.h"

#include <bit>

namespace reel::views {

size_t round_up_pow2(size_t n) {
  return n <= 1 ? 1 : std::bit_ceil(n);
}

Deduper::Deduper(size_t capacity, int64_t window_seconds)
    : buckets_(round_up_pow2((capacity + ways - 1) / ways)),
      mask_(round_up_pow2((capacity + ways - 1) / ways) - 1),
      window_(window_seconds) {}

bool Deduper::admit(uint64_t fingerprint, int64_t time) {
  Bucket& b = buckets_[bucket_of(fingerprint)];
  const auto t = static_cast<uint32_t>(time);
  int victim = 0;
  for (int i = 0; i < ways; ++i) {
    if (b.fingerprint[i] == fingerprint) {
      const int64_t counted = b.time[i];
      if (time > counted - window_ && time < counted + window_) return false;
      if (time > counted) b.time[i] = t;  // keep the later of the two counted views
      return true;
    }
    if (b.fingerprint[i] == 0) {
      victim = i;
      break;
    }
    if (b.time[i] < b.time[victim]) victim = i;
  }
  if (b.fingerprint[victim] != 0 && time - static_cast<int64_t>(b.time[victim]) < window_) ++evictions_;
  b.fingerprint[victim] = fingerprint;
  b.time[victim] = t;
  return true;
}

}  // namespace reel::views
