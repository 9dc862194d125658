// serve: runs the HTTP server of `reel serve` and `reel up` until SIGTERM/SIGINT, then drains.
// Pages read Redis only (a connection per event loop); SQL is not opened.
// Failure: an Error when templates, the static or media root, or the listen address are unusable.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "config/config.h"
#include "event_log/event_log.h"

namespace reel::cli {

// This machine's name (for syslog headers and worker names); "-" when it cannot be read.
std::string host_name();

// Where uploads wait for the worker: [paths] uploads, else "uploads" beside the media root.
std::string uploads_dir(const config::Config& config);

// What `reel up` adds to the server it runs beside its own aggregator and Redis.
struct ServeExtras {
  // Where the beacon's lines go instead of [views] sink (the in-process queue); null: the sink.
  std::unique_ptr<event_log::EventLog> view_log;
  // Appends more Prometheus text to /metrics, on any event loop's thread; empty: nothing.
  std::function<void(std::string& out)> metrics;
};

// `on_listening` is called once the socket is bound, with the URL it serves.
Status serve(const config::Config& config, const std::function<void(const std::string& url)>& on_listening,
             ServeExtras extras = {});

}  // namespace reel::cli
