// Filtered listings: a page of a list (global, category, tag or channel; in the sort's order)
// restricted by a duration bucket and an upload period, answered by one server-side Lua script
// (EVALSHA), so a cold page costs one round trip plus the cards' MGET, like an unfiltered one.
//
// Why a walk and not ZINTERSTORE: on the 1,000,000-video catalog an intersection of z:views:all
// with a duration bucket stores every match (a third of the catalog for "long" at ~1 µs each), while
// a page shows 30. The script reads the ordering list in its order, in chunks, checks each candidate
// against the filters with ZMSCORE (the global z:new for the period, z:duration for the duration),
// and keeps the first max_results matches. Plan (docs/benchmarks.md has the measured costs):
//   1. A filter on the ordering list's own score (period with sort=newest, duration with
//      sort=duration) is a score range of that list: its ranks come from two ZCOUNTs, and the walk
//      covers only that range. When no other filter is left, the page is read straight from the
//      list (ZREVRANGE), nothing is stored, and the total is exact (ZCOUNT).
//   2. Otherwise the selectivity of each remaining filter is estimated from its global list (ZCOUNT
//      of its range / ZCARD), giving the candidates an ordered walk should read to fill
//      max_results. When a filter has a list in the scope (the scope's newest list for the period;
//      the scope's duration list in the global and category scopes) whose range holds fewer
//      candidates than that and at most scan_cap, that range is walked whole instead, each
//      candidate's order read with ZMSCORE, and the matches sorted in the list's order: a week's
//      uploads sorted by rating read ~10,000 ids instead of the whole z:rating.
//   3. Else the ordered walk: chunks of `chunk` ids by rank, the most selective filter checked
//      first, until max_results matches, scan_cap candidates, or the range's end.
// The matches are stored in a result key (keys::filtered_list: score = position, plus one
// sentinel member holding the totals) that expires after `ttl`, so the next page and the next
// visitor with the same filters read it with one ZRANGE; an empty result is cached too.
//
// What `total` means: exact when the script walked every candidate (the range was shorter than
// scan_cap and fewer than max_results matched in it, or the scope's range of a filter was walked
// whole, or a lone range filter was counted); otherwise (`complete` false) the matches found, at
// most max_results: the walk stopped at max_results or at scan_cap. Only the first max_results
// matches can be paged (`pageable`); a range-only page can reach any depth.
// Freshness: a cached result is up to `ttl` old; the period's start is taken when it was built.
// Bounded work: every call reads at most scan_cap candidates (`scanned`), whatever the filters.
//
// Thread-safety: pure functions and an immutable script, shareable by every event loop.
// Failure: parse_filtered_page returns an Error for a Redis error reply (or a reply of the wrong
// shape); the caller retries with eval() once when the reply is NOSCRIPT (redis::Script).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "projection/read_model.h"
#include "redis/command.h"
#include "redis/reply.h"

namespace reel::projection {

struct FilterLimits {
  int64_t max_results = 1000;  // matches stored per result key: the pages that can be reached
  int64_t scan_cap = 10000;    // candidates one call reads at most
  int64_t chunk = 500;         // candidates read per ZREVRANGE / ZMSCORE
  std::chrono::seconds ttl{60};
};

// One filtered page's script call: query.filtered() must hold. `now` (Unix s, from the Clock)
// starts the period; `today` (YYYYMMDD) names the day list of sort=views&period=day.
class FilteredPageCall {
 public:
  FilteredPageCall(const ListQuery& query, int32_t today, int64_t now, const FilterLimits& limits);

  // The key the matches are cached under (the same for every page of the same filters).
  const std::string& result_key() const { return keys_.front(); }
  redis::Command evalsha() const;
  // The same call with the script's source, for a Redis that lost its script cache.
  redis::Command eval() const;

 private:
  std::vector<std::string> keys_;
  std::vector<std::string> args_;
};

struct FilteredPage {
  int64_t total = 0;             // see "What `total` means" above
  int64_t pageable = 0;          // how many of them pages can reach
  bool complete = true;          // total is exact
  bool cached = false;           // read from a result key an earlier call stored
  int64_t scanned = 0;           // candidates this call read (0 when cached)
  std::vector<std::string> ids;  // the page's video ids, in order
};

Result<FilteredPage> parse_filtered_page(const redis::Reply& reply);

}  // namespace reel::projection
