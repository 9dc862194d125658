#include "http/metrics.h"

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace reel::http {

namespace {

struct Bucket {
  std::string_view label;  // the `le` label, in seconds
  int64_t upper_ns;
};
constexpr std::array<Bucket, 13> buckets = {{{"0.0005", 500'000},
                                             {"0.001", 1'000'000},
                                             {"0.0025", 2'500'000},
                                             {"0.005", 5'000'000},
                                             {"0.01", 10'000'000},
                                             {"0.025", 25'000'000},
                                             {"0.05", 50'000'000},
                                             {"0.1", 100'000'000},
                                             {"0.25", 250'000'000},
                                             {"0.5", 500'000'000},
                                             {"1", 1'000'000'000},
                                             {"2.5", 2'500'000'000},
                                             {"5", 5'000'000'000}}};

// The counters of one (route, status) pair. The key fields are written once, under the insert
// mutex, before `published` is set with release order; readers that see `published` read them
// without a lock. Counters are relaxed: /metrics needs no ordering between them.
struct alignas(64) Slot {
  std::atomic<bool> published{false};
  size_t hash = 0;
  std::string route;
  int status = 0;
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> latency_sum_ns{0};
  std::array<std::atomic<uint64_t>, buckets.size() + 1> bucket_counts{};  // last: above 5 s
};

// Distinct (route, status) pairs the table holds; further pairs are counted in `overflow`.
constexpr size_t slot_count = 1024;

size_t key_hash(std::string_view route, int status) {
  return std::hash<std::string_view>{}(route) ^ (static_cast<size_t>(status) * 0x9E3779B97F4A7C15ull);
}

void append_escaped_label(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

}  // namespace

struct Metrics::Impl {
  std::unique_ptr<Slot[]> slots = std::make_unique<Slot[]>(slot_count);
  Slot overflow;
  std::mutex insert_mutex;
  mutable std::mutex sources_mutex;
  std::vector<std::function<void(std::string&)>> sources;

  Impl() {
    overflow.route = "overflow";
    overflow.published.store(true, std::memory_order_release);
  }

  static bool matches(const Slot& slot, size_t hash, std::string_view route, int status) {
    return slot.hash == hash && slot.status == status && slot.route == route;
  }

  // The slot of (route, status): lock-free when the pair was seen before; takes the insert mutex
  // only to add a new pair.
  Slot& find(std::string_view route, int status) {
    const size_t hash = key_hash(route, status);
    for (size_t probe = 0; probe < slot_count; ++probe) {
      Slot& slot = slots[(hash + probe) % slot_count];
      if (!slot.published.load(std::memory_order_acquire)) break;
      if (matches(slot, hash, route, status)) return slot;
    }
    std::lock_guard lock(insert_mutex);
    for (size_t probe = 0; probe < slot_count; ++probe) {
      Slot& slot = slots[(hash + probe) % slot_count];
      if (!slot.published.load(std::memory_order_relaxed)) {
        slot.hash = hash;
        slot.route.assign(route);
        slot.status = status;
        slot.published.store(true, std::memory_order_release);
        return slot;
      }
      if (matches(slot, hash, route, status)) return slot;
    }
    return overflow;
  }
};

Metrics::Metrics() : impl_(new Impl) {}

Metrics::~Metrics() {
  delete impl_;
}

void Metrics::record(std::string_view route, int status, std::chrono::nanoseconds latency) {
  Slot& slot = impl_->find(route, status);
  const int64_t latency_ns = latency.count() < 0 ? 0 : latency.count();
  size_t bucket = 0;
  while (bucket < buckets.size() && latency_ns > buckets[bucket].upper_ns) ++bucket;
  slot.requests.fetch_add(1, std::memory_order_relaxed);
  slot.latency_sum_ns.fetch_add(static_cast<uint64_t>(latency_ns), std::memory_order_relaxed);
  slot.bucket_counts[bucket].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::add_source(std::function<void(std::string& out)> source) {
  std::lock_guard lock(impl_->sources_mutex);
  impl_->sources.push_back(std::move(source));
}

std::string Metrics::render() const {
  struct Histogram {
    std::array<uint64_t, buckets.size() + 1> counts{};
    uint64_t requests = 0;
    uint64_t sum_ns = 0;
  };
  // Sorted by route, then status, so the output is stable.
  std::map<std::pair<std::string, int>, uint64_t> requests;
  std::map<std::string, Histogram> histograms;
  auto collect = [&](const Slot& slot) {
    const uint64_t count = slot.requests.load(std::memory_order_relaxed);
    if (count == 0) return;
    requests[{slot.route, slot.status}] += count;
    Histogram& histogram = histograms[slot.route];
    histogram.requests += count;
    histogram.sum_ns += slot.latency_sum_ns.load(std::memory_order_relaxed);
    for (size_t i = 0; i < histogram.counts.size(); ++i) {
      histogram.counts[i] += slot.bucket_counts[i].load(std::memory_order_relaxed);
    }
  };
  for (size_t i = 0; i < slot_count; ++i) {
    if (impl_->slots[i].published.load(std::memory_order_acquire)) collect(impl_->slots[i]);
  }
  collect(impl_->overflow);

  std::string out;
  out.reserve(4096);
  auto sink = std::back_inserter(out);
  out += "# HELP reel_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE reel_http_requests_total counter\n";
  for (const auto& [key, count] : requests) {
    out += "reel_http_requests_total{route=\"";
    append_escaped_label(out, key.first);
    fmt::format_to(sink, "\",status=\"{}\"}} {}\n", key.second, count);
  }
  out +=
      "# HELP reel_http_request_duration_seconds Time from a request's first byte to its response written.\n";
  out += "# TYPE reel_http_request_duration_seconds histogram\n";
  for (const auto& [route, histogram] : histograms) {
    std::string label;
    append_escaped_label(label, route);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < buckets.size(); ++i) {
      cumulative += histogram.counts[i];
      fmt::format_to(sink, "reel_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", label,
                     buckets[i].label, cumulative);
    }
    fmt::format_to(sink, "reel_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", label,
                   histogram.requests);
    fmt::format_to(sink, "reel_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", label,
                   static_cast<double>(histogram.sum_ns) / 1e9);
    fmt::format_to(sink, "reel_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", label,
                   histogram.requests);
  }
  std::lock_guard lock(impl_->sources_mutex);
  for (const auto& source : impl_->sources) source(out);
  return out;
}

}  // namespace reel::http
