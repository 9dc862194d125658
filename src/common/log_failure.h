// log_failure: for a failure the caller cannot act on — a clean-up after another failure, a
// best-effort status record, an UNWATCH — so it is logged with its reason (spdlog, warn) instead of
// being dropped without a trace. Where a failure changes what happens next, handle it instead.
// Thread-safety: as spdlog's default logger (thread-safe).
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "common/result.h"

namespace reel {

// Logs "<what> failed: <message>" when `result` holds an Error; nothing otherwise.
template <class T>
void log_failure(const Result<T>& result, std::string_view what) {
  if (!result) spdlog::warn("{} failed: {}", what, result.error().message);
}

}  // namespace reel
