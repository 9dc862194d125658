// A bounded client for the failure suites: reader threads that keep requesting pages through the
// site (HAProxy's public port), each at most one request per pace, and an optional writer that
// keeps creating playlists as a signed-in user, recording every outcome and when it happened,
// until stopped. The figures say what visitors saw around a fault.
// Thread-safety: the Load's methods may be called from any thread (the outcomes are locked).
// Failure: a request that fails is an outcome (counted), never an error of the Load.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace reel::testing {

using Steady = std::chrono::steady_clock;

// A signed-in account for the writer.
struct Writer {
  std::string cookie;  // "reel_session=..."
  std::string csrf;
};

// Registers `name` and signs it in through the site.
Result<Writer> sign_up(uint16_t site_port, const std::string& name);

struct LoadFigures {
  int64_t sent = 0;
  int64_t failed = 0;
  int64_t failed_started_after_fault = 0;  // not in flight when the fault happened
  int64_t writes_sent = 0;
  int64_t writes_acknowledged = 0;
  std::vector<std::string> acknowledged_titles;  // the playlists the site said it created
  // From the fault to the first success after the last failure (0 when nothing failed).
  double seconds_to_recover = 0;
  std::string a_failure;  // one failure's status or error, for messages
};

// "requests sent 812, failed 0, time to recover 0.0 s, writes acknowledged 40, found afterwards 40".
std::string describe(const LoadFigures& figures, size_t writes_found);

class Load {
 public:
  struct Options {
    uint16_t port = 0;
    // Targets the readers take in turn; "{n}" in one is replaced by a counter (a URL no cache
    // holds, so the request reaches an app server).
    std::vector<std::string> targets;
    int readers = 2;
    std::chrono::milliseconds pace{20};
    // Writes: one playlist a pace, titled `title_prefix` + a counter; none without a cookie.
    Writer writer;
    std::string title_prefix = "load-";
  };

  explicit Load(Options options);
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;
  ~Load();

  // Records now as the moment of the fault (for seconds_to_recover, the *_since_fault counts and
  // failed_started_after_fault): call it just before causing the fault.
  void mark_fault();
  int64_t reads_ok_since_fault() const;
  int64_t writes_ok_since_fault() const;
  int64_t reads_ok() const;
  // Stops the threads (each finishes its request) and sums up.
  LoadFigures stop();

 private:
  struct Outcome {
    Steady::time_point started;
    Steady::time_point at;
    bool ok;
    bool write;
  };
  void read_loop(int reader);
  void write_loop();
  void record(Steady::time_point started, bool ok, bool write, const std::string& failure);
  int64_t ok_since_fault(bool write) const;

  Options options_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> counter_{0};
  mutable std::mutex mutex_;
  std::vector<Outcome> outcomes_;
  std::vector<std::string> titles_;
  std::string a_failure_;
  std::optional<Steady::time_point> fault_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace reel::testing
