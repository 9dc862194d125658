// Metrics: request counters by route and status and a latency histogram, rendered in the
// Prometheus text format. Thread-safety: record() and render() are safe from any thread
// (relaxed atomics); other components append their own lines through add_source().
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace reel::http {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;
  void record(std::string_view route, int status, std::chrono::nanoseconds latency);
  // A source appends Prometheus text lines (with # HELP/# TYPE) when /metrics is rendered.
  // Sources are registered before the server runs.
  void add_source(std::function<void(std::string& out)> source);
  std::string render() const;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace reel::http
