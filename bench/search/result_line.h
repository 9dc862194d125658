// The one machine-readable line the search benchmarks print, in wrk's format (bench/wrk/report.lua,
// parsed by bench/lib.sh and bench/search/run.sh):
//   RESULT rps=... p50=... p99=... bytes_per_req=... errors=N   (latencies in milliseconds)
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace reel::bench {

// Prints the line for `latencies_ms` (sorted here; the q-quantile is the element at q * size).
inline void print_result(std::vector<double>& latencies_ms, double requests_per_second,
                         double bytes_per_request, int64_t errors) {
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto at = [&](double q) {
    if (latencies_ms.empty()) return 0.0;
    return latencies_ms[std::min(latencies_ms.size() - 1,
                                 static_cast<size_t>(q * static_cast<double>(latencies_ms.size())))];
  };
  std::printf("RESULT rps=%.0f p50=%.3f p99=%.3f bytes_per_req=%.0f errors=%lld\n", requests_per_second,
              at(0.5), at(0.99), bytes_per_request, static_cast<long long>(errors));
}

}  // namespace reel::bench
