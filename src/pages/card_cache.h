// CardCache: the rendered HTML of recently shown cards, so a grid costs a lookup and a copy per
// card instead of a template render. A card's HTML is a pure function of the card's fields, the
// age text ("3 days ago", from the clock), the expiry of its signed media links (which changes
// once per link step) and the card template, so an entry is reused only when all four match: the
// fields are compared in full (they come fresh from Redis on every request), the age text and
// expiry are recomputed, and the cache belongs to one Renderer at a time.
//
// Ownership and lifetime: begin_page() starts a page; the strings returned by find() and store()
// stay valid until the next begin_page(), so a page may hold views into the cache while it
// renders. A card is kept from its second rendering on (random pages deep in a long list would
// otherwise churn the cache for nothing). Entries are dropped only in begin_page(), all at once
// when the cache holds more than `capacity` cards (a grid of hot cards refills it within a few
// pages).
// Thread-safety: none; the renderer keeps one per thread (each event loop is one thread).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "projection/read_model.h"

namespace reel::pages {

class CardCache {
 public:
  explicit CardCache(size_t capacity) : capacity_(capacity) {}

  // Starts a page rendered by the renderer `owner` (a process-unique id): entries of another
  // renderer, or all entries when there are more than the capacity, are dropped.
  void begin_page(uint64_t owner);
  // The HTML stored for a card with exactly these fields, age text and link expiry, or nullptr.
  // `variant` names a rendering other than the plain one (the search page's marked titles: its
  // query's terms); each (card, variant) is an entry of its own.
  const std::string* find(const projection::Card& card, std::string_view age, int64_t links_expire,
                          std::string_view variant = {});
  // Stores `html` for the card and variant and returns the stored copy. When this page already
  // used that entry (the same video twice on one page), it is left alone and `html` is kept in a
  // page-lifetime slot instead, so earlier views stay valid.
  const std::string& store(const projection::Card& card, std::string_view age, int64_t links_expire,
                           std::string html, std::string_view variant = {});

  size_t size() const { return entries_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  // A video id and the hash of a variant (0 for the plain card); the entry holds the variant
  // itself, so two variants whose hashes collide only evict each other.
  struct Key {
    int64_t id = 0;
    size_t variant = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const { return std::hash<int64_t>()(key.id) ^ (key.variant * 31); }
  };
  static Key key_of(int64_t id, std::string_view variant) {
    return {id, variant.empty() ? 0 : std::hash<std::string_view>()(variant)};
  }
  struct Entry {
    projection::Card card;
    std::string age;
    int64_t links_expire = 0;
    std::string variant;
    std::string html;
    uint64_t page = 0;  // the page that last used it
  };
  size_t capacity_;
  uint64_t owner_ = 0;
  uint64_t page_ = 0;
  std::unordered_map<Key, Entry, KeyHash> entries_;  // node-based, so values never move
  std::unordered_set<Key, KeyHash> seen_once_;       // rendered once and not kept (yet)
  std::deque<std::string> page_only_;  // see store(); cleared per page (a deque never moves its strings)
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace reel::pages
