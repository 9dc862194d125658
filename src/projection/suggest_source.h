// SuggestSource: the process's current search::Suggester, rebuilt from Redis in the background.
// A refresh reads the top `dictionary_terms` terms of the dictionary by how many videos hold them
// (search:terms, ZREVRANGE in chunks of 1,000) with their shown words (search:words, HMGET of the
// same chunks) and the top `popular_searches` popular searches (search:popular, the same chunks),
// one command per round trip, builds a Suggester off the request path and swaps it in. Requests
// call current() and keep the snapshot they got for as long as they use it.
//
// Use (`reel serve`): construct one per process, call start(); each route calls
//   auto suggester = source.current();   // never null; empty until the first refresh
//   suggester->did_you_mean(search::thread_analyzer(), q);
//   suggester->complete(search::thread_analyzer(), prefix, 10);
//
// Cost: a refresh moves about 2 MB for 100,000 terms and builds in ~180 ms of CPU, on a thread
// of its own at idle priority (common/periodic_thread.h), so it takes only CPU the event loops
// leave; each chunk holds Redis about half a millisecond, and none is pipelined behind another,
// so other clients' commands run between them (docs/benchmarks.md §18, §25).
//
// Thread-safety: current() may be called from any thread at any time (an atomic shared_ptr);
// refresh() from one thread at a time (the background thread, or a test before start()).
// Failure: a refresh that cannot reach Redis or gets an unexpected reply returns an Error and
// keeps the previous snapshot; the background thread logs it (a warning) and tries again at the
// next interval. Missing keys are an empty dictionary or no popular searches, not an error.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include "common/periodic_thread.h"
#include "common/result.h"
#include "redis/blocking_client.h"
#include "redis/connection.h"
#include "search/suggester.h"

namespace reel::projection {

struct SuggestSourceOptions {
  size_t dictionary_terms = 100'000;
  size_t popular_searches = 10'000;
  std::chrono::milliseconds interval{60'000};
  search::SuggesterOptions suggester{};
};

class SuggestSource {
 public:
  SuggestSource(redis::ConnectionOptions redis, SuggestSourceOptions options = {});
  ~SuggestSource();
  SuggestSource(const SuggestSource&) = delete;
  SuggestSource& operator=(const SuggestSource&) = delete;

  // The latest snapshot; never null.
  std::shared_ptr<const search::Suggester> current() const {
    return current_.load(std::memory_order_acquire);
  }

  // Reads Redis and swaps in a new snapshot now.
  Status refresh();

  // Refreshes at once, then every `interval`, on a thread of its own until destruction. Once only.
  void start();

 private:
  Result<search::Suggester> read();

  const redis::ConnectionOptions redis_options_;
  const SuggestSourceOptions options_;
  std::optional<redis::BlockingClient> redis_;  // the refreshing thread's; connected on first use
  std::atomic<std::shared_ptr<const search::Suggester>> current_;
  std::optional<PeriodicThread> thread_;  // last: stopped before the members it uses go
};

}  // namespace reel::projection
