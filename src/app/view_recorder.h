// ViewRecorder: turns a beacon request into one view event line for the EventLog, and a search
// into one search event line (views/event.h), for popular searches. It writes nothing to Redis or
// SQL: counting is the aggregator's job (`reel views`), which dedupes both per viewer.
//
// The event carries the time, the video id, a viewer key (a keyed hash of the client address and
// user agent: logs never hold an address), the referrer class (the request's own Host counts as
// internal) and the user-agent class. The client address is the peer's, or, behind
// `trusted_proxy_hops` proxies, the entry that many places from the right of X-Forwarded-For.
// A search event carries the time, the same viewer key and user-agent class, the query as
// search::shown_query() spells it and the result count.
//
// Thread-safety: record() may run on every event loop at once (the EventLog is thread-safe and
// the rest is immutable). Ownership: the log and clock must outlive the recorder.
// Failure: record() and record_search() return false when the log dropped the line (counted in
// its stats); record_search() also when the query has nothing to show (empty once folded).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "event_log/event_log.h"
#include "http/message.h"
#include "views/event.h"

namespace reel::app {

struct ViewRecorderOptions {
  std::string secret;    // [views] secret
  std::string hostname;  // this server, for the syslog header
  int trusted_proxy_hops = 0;
};

class ViewRecorder {
 public:
  ViewRecorder(event_log::EventLog& log, const Clock& clock, ViewRecorderOptions options);

  bool record(const http::Request& request, int64_t video_id) const;
  // One search of `query` (as typed: it is folded, trimmed and cut here) that found `results`
  // videos. Call it for the first page of a search with results, so paging and empty searches
  // count nothing.
  bool record_search(const http::Request& request, std::string_view query, int64_t results) const;
  event_log::Stats stats() const { return log_.stats(); }

 private:
  // The viewer key of the request's client, written to `out`.
  void write_viewer(const http::Request& request, std::string_view user_agent, char out[16]) const;

  event_log::EventLog& log_;
  const Clock& clock_;
  ViewRecorderOptions options_;
  views::ViewerKeyer keyer_;
};

// The client's address: the peer, or the entry `hops` places from the right of the
// X-Forwarded-For list (1 = the last entry, written by the nearest proxy). Falls back to the
// peer when the header has fewer entries.
std::string_view client_address(const http::Request& request, int hops);

}  // namespace reel::app
