// Kept<Key, Value>: values an event loop read from Redis and reuses for a short time (cards, list
// pages), so a hot grid costs no round trip at all. The policy is the same for every kind of
// value, hence one class:
// - a value is kept from its second read on: a long tail read once is not worth the copy;
// - a kept value is used while younger than `ttl`, then read again (offer() refreshes it);
// - memory is bounded by a direct-mapped table: each key has one slot of bit_ceil(capacity), and
//   keeping a key replaces whatever its slot held. No offer() ever drops more than that one value,
//   so the cost of an offer() is flat: an earlier version cleared the whole map when it passed its
//   capacity, ~200,000 frees of 50,000 cards at once, a pause of several ms in the event loop
//   (docs/benchmarks.md §24). A slot's value is assigned in place, reusing its strings' buffers;
// - an entry past its TTL stays until its slot is taken, so while Redis is unreachable a loop can
//   still serve it (find_within with the grace period: stale rather than nothing).
// Two hot keys that share a slot take turns in it: an occasional extra read, never a wrong value
// (a slot holds its key and is compared on find).
// Thread-safety: none; one per event loop (the read model's own thread).
#pragma once

#include <bit>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace reel::projection {

template <class Key, class Value>
class Kept {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // `capacity` > 0: values kept at most (rounded up to a power of two, the slot count).
  Kept(std::chrono::milliseconds ttl, size_t capacity)
      : ttl_(ttl),
        shift_(64 - std::countr_zero(std::bit_ceil(capacity < 2 ? size_t{2} : capacity))),
        slots_(size_t{1} << (64 - shift_)),
        seen_once_(slots_.size(), 0) {}

  // The kept value for `key` if it is younger than the TTL at `now`, else nullptr. The pointer is
  // valid until the next offer() or erase().
  const Value* find(const Key& key, TimePoint now) const { return find_within(key, now, ttl_); }

  // The kept value for `key` if it was read less than `max_age` before `now`, else nullptr (same
  // validity as find()). With a max_age past the TTL: a stale value, for when Redis cannot answer.
  const Value* find_within(const Key& key, TimePoint now, std::chrono::milliseconds max_age) const {
    const Slot* slot = slots_[index(mix(key))].get();
    return slot != nullptr && slot->key == key && now - slot->read_at < max_age ? &slot->value : nullptr;
  }

  // `value` was just read from Redis at `now`: refreshes a kept entry, keeps it on its second read
  // (the first read of a key only marks its slot as seen).
  void offer(const Key& key, const Value& value, TimePoint now) {
    const uint64_t mixed = mix(key);
    const uint64_t fingerprint = mixed | 1;  // never 0, the mark of "nothing seen"
    const size_t at = index(mixed);
    std::unique_ptr<Slot>& slot = slots_[at];
    const bool kept = slot != nullptr && slot->key == key;
    if (!kept && seen_once_[at] != fingerprint) {
      seen_once_[at] = fingerprint;
      return;
    }
    seen_once_[at] = 0;
    if (slot == nullptr) {
      slot = std::make_unique<Slot>(Slot{key, value, now});
      return;
    }
    if (!kept) slot->key = key;
    slot->value = value;
    slot->read_at = now;
  }

  // Forgets `key` (the value is gone from Redis).
  void erase(const Key& key) {
    std::unique_ptr<Slot>& slot = slots_[index(mix(key))];
    if (slot != nullptr && slot->key == key) slot.reset();
  }

  // Values held now, fresh or not (for tests: never more than the slot count).
  size_t size() const {
    size_t held = 0;
    for (const auto& slot : slots_) held += slot != nullptr;
    return held;
  }

 private:
  struct Slot {
    Key key;
    Value value;
    TimePoint read_at;
  };

  // A 64-bit hash with well-spread high bits: std::hash of an integer is the integer itself, and
  // the slot index takes the high bits (Fibonacci hashing), so sequential ids fill distinct slots.
  static uint64_t mix(const Key& key) { return uint64_t{std::hash<Key>{}(key)} * 0x9E3779B97F4A7C15ull; }
  size_t index(uint64_t mixed) const { return static_cast<size_t>(mixed >> shift_); }

  std::chrono::milliseconds ttl_;
  int shift_;                                 // 64 - log2(slot count)
  std::vector<std::unique_ptr<Slot>> slots_;  // allocated on first use, then reused in place
  std::vector<uint64_t> seen_once_;           // per slot: the fingerprint of a key read once, or 0
};

}  // namespace reel::projection
