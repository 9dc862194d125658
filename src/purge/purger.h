// Purger: drops the pages Varnish caches when what they show changes (deploy/varnish/reel.vcl,
// varnish-modules' xkey). Pages carry their objects' names as xkey tags (app/router.cc: a watch
// page "video:12", a listing each of its cards' videos and "lists"); a write names the objects it
// changed (common/change_sink.h) and the Purger sends `PURGE /` with `xkey-purge: NAMES` to every
// Varnish node, so a cached page is gone well within a second of the change.
//
// Names are gathered for `batch` and sent together (a popular video voted on a hundred times a
// second costs one purge per batch, not a hundred). Each batch is sent once more `repeat` later:
// Varnish may refetch a purged page from an app server that reads a Redis replica which has not
// yet replayed the write, and would keep that copy for the page's whole max-age; the second purge
// bounds such a page's staleness by `repeat` (plus the replica's lag, milliseconds).
//
// Thread-safety: changed() from any thread; it only queues (never blocks on the network). One
// thread of its own sends; the destructor sends what is queued, then stops it.
// Failure: a node that cannot be reached or refuses is logged (at most once a minute per node) and
// counted (stats().failed); its pages then age out by their max-age (30 s). Nothing is retried
// beyond the repeat.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "common/change_sink.h"
#include "common/host_port.h"
#include "common/periodic_thread.h"
#include "common/result.h"

namespace reel::purge {

struct PurgerOptions {
  std::vector<HostPort> nodes;              // every Varnish node
  std::chrono::milliseconds batch{50};      // names gathered this long go in one purge
  std::chrono::milliseconds repeat{500};    // each batch is sent again after this; 0: never
  std::chrono::milliseconds timeout{1000};  // per node and request
};

// "HOST:PORT, HOST:PORT" ([varnish] purge_nodes) as nodes; an Error names the bad entry.
Result<std::vector<HostPort>> parse_nodes(std::string_view text);

// True for the objects pages are tagged with (app/request_input.h, PageTags): videos, playlists
// and all_lists_object. Changes of any other object (accounts, channels' followers) are not sent.
bool tags_pages(std::string_view object);

// Sends one `PURGE /` with `xkey-purge: keys` to `node`; an Error unless it answers 200.
Status send_purge(const HostPort& node, std::string_view keys, std::chrono::milliseconds timeout);

class Purger final : public ChangeSink {
 public:
  explicit Purger(PurgerOptions options);
  ~Purger() override;
  Purger(const Purger&) = delete;
  Purger& operator=(const Purger&) = delete;

  void changed(std::span<const std::string> objects) override;

  struct Stats {
    uint64_t purges = 0;  // PURGE requests answered 200 (one per node and batch)
    uint64_t failed = 0;  // PURGE requests that failed
  };
  Stats stats() const {
    return {purges_.load(std::memory_order_relaxed), failed_.load(std::memory_order_relaxed)};
  }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Repeat {
    TimePoint due;
    std::string keys;
  };
  bool send_due();
  void send_to_all(const std::string& keys);

  const PurgerOptions options_;
  std::mutex mutex_;
  std::set<std::string> pending_;  // guarded by mutex_
  std::deque<Repeat> repeats_;     // the sending thread's only
  std::vector<TimePoint> last_logged_;
  std::atomic<uint64_t> purges_{0};
  std::atomic<uint64_t> failed_{0};
  std::optional<PeriodicThread> thread_;  // last: stopped first
};

}  // namespace reel::purge
