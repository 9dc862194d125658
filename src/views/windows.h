// The week and month view lists (z:views:week, z:views:month and each category's), kept
// incrementally instead of recomputed.
//
// Why: recomputing them as the union of their 7 and 30 day lists every few minutes costs Redis
// time in proportion to the videos viewed over the period: at 95,000-259,000 videos viewed a day
// the month's ZUNIONSTORE held Redis for 3.9-7.3 s (bench/views/windows_bench.cc, docs/benchmarks.md
// §27), and nothing else runs meanwhile. Kept incrementally, a day leaving a window costs a
// script call of ~1 ms per 100 of its members, once a day.
//
// How: each list has a window, its first day F, kept in the hash views:windows (field = the list's
// key). The list holds the sum of its scope's day lists from F on, that is:
//  - the flush script (views/flush.h) adds a view of day d to the week and month lists whose F is
//    at most d, beside the day list; a scope whose week has no window yet gets the day list only;
//  - once a day is before the week's F, its day lists are frozen: the flush adds nothing to them
//    any more (the aggregator refuses events older than 2 days, so this is a guard against skewed
//    clocks, not a loss), and nothing else writes them (withdraw takes a video out of the day lists
//    around today only, projection/projector.h);
//  - keep_windows() (part of views::maintain) moves F forward one day at a time: it first moves F
//    past day r in the hash (so r is frozen from then on, and no later view of r reaches the list),
//    then subtracts r's day list from the list, chunk by chunk (one script call per `chunk`
//    members, the progress kept in the hash as "F N", so any aggregator carries on where another
//    stopped), removing members that reach 0. Each call costs Redis about chunk ZINCRBYs;
//  - a list with no window, or one left so far behind that its oldest day lists may have expired
//    (day lists live day_list_ttl_days), is set whole in one script: the union of its day lists
//    from the target F, then F. That is the old union's cost, once: on the first upkeep after an
//    upgrade (`reel rebuild views` sets the windows too, without it) or after days without upkeep;
//  - `reel rebuild views` writes the windows' hash with the lists it swaps in (projection/rebuild.h).
// Every script does nothing while a rebuild holds view counting (views:hold): the rebuild swaps
// lists and windows in one after the other.
//
// Exactness: r's day list changes neither during its subtraction (frozen) nor between its views
// being added and subtracted (each of them was added to the list, since it came while r >= F),
// so the list stays the sum of its window's day lists; a video withdrawn meanwhile is absent from
// the list and its subtraction takes it to <= 0, which removes it.
//
// Thread-safety: keep_windows() runs on the Connection's event loop; any number of aggregators may
// run it at once (each script call checks the state it advances from, and a call that finds
// another state reports it). The free functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "common/result.h"
#include "redis/connection.h"

namespace reel::views {

// A window as views:windows stores it: its first day counted and, while the day before it is
// being subtracted, how many of that day's members are done.
struct WindowState {
  int32_t first = 0;
  std::optional<int64_t> retired_members;
  bool operator==(const WindowState&) const = default;
};
// nullopt for text that is not "F" or "F N".
std::optional<WindowState> parse_window(std::string_view value);

// The Lua function window_state(value) -> F, N as numbers (nil for what parse_window refuses; N nil
// for "F"), for scripts that read views:windows; the flush script starts with it.
const std::string& window_lua_helpers();

struct WindowOptions {
  int64_t chunk = 100;  // day-list members subtracted per script call (~1 ms of Redis at scale)
  // A window whose first day is more than this many days before today is set anew by a union:
  // its oldest day lists may be gone (they live day_list_ttl_days after their day starts).
  int stale_after_days = 33;
};

struct WindowStats {
  uint64_t set_whole = 0;     // lists set by a union
  uint64_t days_retired = 0;  // day lists subtracted whole
  uint64_t calls = 0;         // script calls made
  bool held = false;          // a rebuild held view counting: stopped, the rest waits
};

// Brings every week and month list (global, and each of `category_slugs`) to the window ending
// on the UTC day of `now` (7 and 30 days, today included). An Error when Redis is unavailable or
// answers with an error; what was done stays done, and the next call carries on.
Task<Result<WindowStats>> keep_windows(redis::Connection& connection, int64_t now,
                                       const std::vector<std::string>& category_slugs,
                                       const WindowOptions& options = {});

}  // namespace reel::views
