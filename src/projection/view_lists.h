// How long view lists live and how trending decays: shared by `reel rebuild` (which restores the
// lists from SQL's daily counts) and `reel views` (which keeps them current), so both write the
// same thing.
// Thread-safety: constants.
#pragma once

#include <cstdint>

namespace reel::projection {

// z:views:day:{d} (and per category) expire this many days after the day starts.
inline constexpr int64_t day_list_ttl_days = 35;
// Trending scores are sums of exp(lambda * (t - t0)) with lambda = ln 2 / this half-life.
inline constexpr double trending_half_life_seconds = 86400;
// Days of daily counts a rebuild folds into trending (older views weigh 2^-7 or less).
inline constexpr int trending_rebuild_days = 7;

}  // namespace reel::projection
