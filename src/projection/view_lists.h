// How long view lists live, which periods are windows over the day lists, and how trending
// decays: shared by `reel rebuild` (which restores the lists from SQL's daily counts) and `reel
// views` (which keeps them current), so both write the same thing.
// Thread-safety: constants and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/days.h"
#include "projection/keys.h"

namespace reel::projection {

// z:views:day:{d} (and per category) expire this many days after the day starts.
inline constexpr int64_t day_list_ttl_days = 35;
// The period view lists kept as windows over the day lists (views/windows.h): each holds the views
// of its last `days` days, today included.
struct ViewWindow {
  Period period;
  int days;
  // The window's first day when it ends on `today` (YYYYMMDD).
  int32_t first_day(int32_t today) const { return days_before(today, days - 1); }
};
inline constexpr ViewWindow view_windows[] = {{Period::week, 7}, {Period::month, 30}};

// The scopes that have period view lists: the whole catalog, then each category of `slugs` (the
// scopes point into `slugs`, which must outlive them).
inline std::vector<keys::Scope> view_list_scopes(const std::vector<std::string>& slugs) {
  std::vector<keys::Scope> scopes{{ListKind::all, {}}};
  for (const auto& slug : slugs) scopes.push_back({ListKind::category, slug});
  return scopes;
}

// Trending scores are sums of exp(lambda * (t - t0)) with lambda = ln 2 / this half-life.
inline constexpr double trending_half_life_seconds = 86400;
// Days of daily counts a rebuild folds into trending (older views weigh 2^-7 or less).
inline constexpr int trending_rebuild_days = 7;

}  // namespace reel::projection
