// Service: `reel views` on one event loop. Its sources feed the aggregator; a timer flushes the
// aggregator to Redis every flush_interval (a failed flush is retried by the next tick, so while
// Redis is down the aggregator keeps merging in bounded memory); another timer runs the upkeep
// (the week and month windows moved on, views/windows.h; trending trim and rebase) every
// maintenance_interval, and once at start.
// The CLI owns the loop, the Connection, the aggregator and the signal handling, and runs the
// daily-rows drain (Aggregator::drain_daily_views) on a thread of its own.
//
// Thread-safety: everything runs on the executor given; call start() and drain() there.
// Ownership: the Service owns its sources; the clock, aggregator and connection must outlive it.
// Failure: flush and upkeep errors are logged (once per streak) and retried; drain() returns an
// Error when pending views could not be flushed before its timeout (they are then lost), which is
// also what happens when a rebuild holds view counting (views/flush.h) for longer than that.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "common/asio.h"
#include "common/clock.h"
#include "common/result.h"
#include "redis/connection.h"
#include "views/aggregator.h"
#include "views/flush.h"
#include "views/source.h"

namespace reel::views {

struct ServiceOptions {
  std::chrono::milliseconds flush_interval{1000};
  std::chrono::milliseconds maintenance_interval{300000};
  FlushOptions flush;
  MaintenanceOptions maintenance;
};

class Service {
 public:
  Service(asio::any_io_executor executor, const Clock& clock, Aggregator& aggregator,
          redis::Connection& redis, ServiceOptions options = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  void add_source(std::unique_ptr<Source> source);
  // The views stream as a source, its cursor kept by a journal of partition `partition` ("I/N")
  // that every flush goes through (views/journal.h). Call before start(), at most once.
  void add_stream_source(StreamInput input, std::string partition);
  // Starts the sources and timers. `on_sources_ended` runs once every source has ended by itself
  // (end of stdin); network and follow sources end only through drain().
  void start(std::function<void()> on_sources_ended = {});
  // Stops the sources, then flushes until nothing is pending or in flight (retrying every
  // flush_interval), for at most `timeout`, at least once (so a stream cursor is brought up to
  // date); stops the timers.
  Task<Status> drain(std::chrono::milliseconds timeout);

  const FlushStats& flush_stats() const { return flusher_.stats(); }
  // Lines the sources dropped as oversized before parsing.
  uint64_t oversized_lines() const;
  // Datagrams the kernel dropped on the UDP sources; may be read from any thread once started.
  uint64_t dropped_datagrams() const;

 private:
  struct Timers;
  Task<void> flush_loop();
  Task<void> maintenance_loop();
  void source_ended(size_t index, const Status& status);

  asio::any_io_executor executor_;
  const Clock& clock_;
  Aggregator& aggregator_;
  redis::Connection& redis_;
  ServiceOptions options_;
  RedisFlusher flusher_;
  std::unique_ptr<StreamJournal> journal_;
  std::vector<std::unique_ptr<Source>> sources_;
  size_t sources_running_ = 0;
  std::function<void()> on_sources_ended_;
  std::shared_ptr<Timers> timers_;
};

}  // namespace reel::views
