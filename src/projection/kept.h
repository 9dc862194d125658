// Kept<Key, Value>: values an event loop read from Redis and reuses for a short time (cards, list
// pages), so a hot grid costs no round trip at all. The policy is the same for every kind of
// value, hence one class:
// - a value is kept from its second read on: a long tail read once is not worth the copy;
// - a kept value is used while younger than `ttl`, then read again (offer() refreshes it);
// - past `capacity` entries everything is dropped at the next offer(), bounding memory per loop;
// - an entry past its TTL stays until then, so while Redis is unreachable a loop can still serve
//   it (find_within with the grace period: stale rather than nothing).
// Thread-safety: none; one per event loop (the read model's own thread).
#pragma once

#include <chrono>
#include <unordered_map>
#include <unordered_set>

namespace reel::projection {

template <class Key, class Value>
class Kept {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  Kept(std::chrono::milliseconds ttl, size_t capacity) : ttl_(ttl), capacity_(capacity) {}

  // The kept value for `key` if it is younger than the TTL at `now`, else nullptr. The pointer is
  // valid until the next offer() or erase().
  const Value* find(const Key& key, TimePoint now) const { return find_within(key, now, ttl_); }

  // The kept value for `key` if it was read less than `max_age` before `now`, else nullptr (same
  // validity as find()). With a max_age past the TTL: a stale value, for when Redis cannot answer.
  const Value* find_within(const Key& key, TimePoint now, std::chrono::milliseconds max_age) const {
    auto it = values_.find(key);
    return it != values_.end() && now - it->second.read_at < max_age ? &it->second.value : nullptr;
  }

  // `value` was just read from Redis at `now`: refreshes a kept entry, keeps it on its second read.
  void offer(const Key& key, const Value& value, TimePoint now) {
    if (values_.size() > capacity_) values_.clear();
    if (seen_once_.size() > capacity_) seen_once_.clear();
    if (auto it = values_.find(key); it != values_.end()) {
      it->second = Entry{value, now};
    } else if (seen_once_.erase(key) > 0) {
      values_.emplace(key, Entry{value, now});
    } else {
      seen_once_.insert(key);
    }
  }

  // Forgets `key` (the value is gone from Redis).
  void erase(const Key& key) { values_.erase(key); }

 private:
  struct Entry {
    Value value;
    TimePoint read_at;
  };
  std::chrono::milliseconds ttl_;
  size_t capacity_;
  std::unordered_map<Key, Entry> values_;
  std::unordered_set<Key> seen_once_;  // read once and not kept (yet)
};

}  // namespace reel::projection
