// UTC calendar days as YYYYMMDD integers, the unit of daily view counts and day lists.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

namespace reel {

// The UTC day (YYYYMMDD) of a Unix time.
int32_t utc_day(int64_t unix_seconds);
// Unix time of the start of a UTC day.
int64_t day_start(int32_t day);
// The day `n` days before `day`.
int32_t days_before(int32_t day, int n);
// The day `n` days after `day`.
int32_t days_after(int32_t day, int n);

}  // namespace reel
