// Stable hashing of viewer keys: the partition a viewer belongs to, and the fingerprints the
// deduper and the session table store. The functions are fixed forever (FNV-1a 64 over the key's
// bytes, then the splitmix64 finalizer), because several aggregators, possibly of different
// builds, must agree on which of them owns a viewer.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace reel::views {

// splitmix64's finalizer: a bijective mix of 64 bits.
constexpr uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr uint64_t viewer_hash(std::string_view viewer_key) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : viewer_key) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return mix64(h);
}

// The partition of a viewer hash among `count` partitions (0 .. count-1); 0 when count <= 1.
constexpr uint32_t partition_of(uint64_t hash, uint32_t count) {
  return count <= 1 ? 0 : static_cast<uint32_t>(hash % count);
}

// True when partition `index` of `count` takes this viewer's events. Every viewer belongs to
// exactly one partition, so aggregators started with i/n for i = 0..n-1 split the stream
// without overlap, and one viewer's views (its dedupe state and its co-view session) stay in
// one aggregator.
constexpr bool owns(std::string_view viewer_key, uint32_t index, uint32_t count) {
  return partition_of(viewer_hash(viewer_key), count) == index;
}

// The fingerprint of a (viewer, video) pair; never 0.
constexpr uint64_t view_fingerprint(uint64_t viewer, int64_t video_id) {
  const uint64_t fp = mix64(viewer ^ mix64(static_cast<uint64_t>(video_id) + 0x9e3779b97f4a7c15ULL));
  return fp == 0 ? 1 : fp;
}

// The fingerprint of a (viewer, search query) pair, for the same dedupe table as views; never 0.
// `query_hash` is viewer_hash() of the query's text; the constant keeps it apart from a video id's.
constexpr uint64_t search_fingerprint(uint64_t viewer, uint64_t query_hash) {
  const uint64_t fp = mix64(viewer ^ mix64(query_hash ^ 0x5bd1e9955bd1e995ULL));
  return fp == 0 ? 1 : fp;
}

}  // namespace reel::views
