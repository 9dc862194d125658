// FlatMap: an open-addressing hash map (linear probing, power-of-two table, at most half full)
// for the aggregator's pending counters: no allocation per insert once it has grown, iteration
// in insertion order, and a hard limit on its size.
// `Key` must be trivially copyable with operator==, and Key{} is reserved as the empty marker;
// `Hash` maps a Key to 64 well-mixed bits.
// Thread-safety: not thread-safe.
// Failure: find_or_insert() returns nullptr when the map holds max_size keys; nothing else fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "views/dedupe.h"  // round_up_pow2

namespace reel::views {

template <class Key, class Value, class Hash>
class FlatMap {
 public:
  explicit FlatMap(size_t max_size, size_t initial_size = 1024)
      : max_size_(max_size), slots_(round_up_pow2(initial_size * 2)) {}

  // The value of `key`, value-initialized when it is new; nullptr when full.
  Value* find_or_insert(const Key& key) {
    size_t mask = slots_.size() - 1;
    for (size_t i = Hash{}(key)&mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.key == key) return &slot.value;
      if (slot.key == Key{}) {
        if (order_.size() >= max_size_) return nullptr;
        if ((order_.size() + 1) * 2 > slots_.size()) {
          grow();
          return find_or_insert(key);
        }
        slot.key = key;
        order_.push_back(static_cast<uint32_t>(i));
        return &slot.value;
      }
    }
  }

  // Starts loading the slot where `key` would be, ahead of find_or_insert().
  void prefetch(const Key& key) const { __builtin_prefetch(&slots_[Hash{}(key) & (slots_.size() - 1)]); }

  size_t size() const { return order_.size(); }
  bool empty() const { return order_.empty(); }

  // fn(key, value) for every entry in insertion order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (uint32_t i : order_) fn(slots_[i].key, slots_[i].value);
  }

  // Empties the map, keeping its table (cost proportional to the entries, not the table).
  void clear() {
    for (uint32_t i : order_) slots_[i] = Slot{};
    order_.clear();
  }

 private:
  struct Slot {
    Key key{};
    Value value{};
  };

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    std::vector<uint32_t> order;
    order.swap(order_);
    order_.reserve(order.size() * 2);
    for (uint32_t i : order) *find_or_insert(old[i].key) = old[i].value;
  }

  size_t max_size_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> order_;  // slot indices in insertion order
};

}  // namespace reel::views
