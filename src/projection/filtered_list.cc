#include "projection/filtered_list.h"

#include <string_view>

#include "projection/keys.h"
#include "redis/script.h"

namespace reel::projection {
namespace {

// KEYS: 1 the result key, 2 the ordering list, 3 z:new (the period check), 4 z:duration (the duration
// check), 5 the scope's newest list, 6 the scope's duration list.
// ARGV: 1 ttl (s), 2 max_results, 3 scan_cap, 4 chunk, 5 first rank, 6 last rank of the page,
// 7 the period's start (Unix s; '' without a period filter), 8 the duration's minimum (s; '' without
// a duration filter), 9 its maximum, excluded ('+inf' for none), 10 the filter on the ordering
// list's own score ('period', 'duration' or ''), 11 '1' when KEYS[6] exists in the scope.
// Returns {total, pageable, complete (0/1), cached (0/1), scanned, id...}. The result key holds
// the matches with score = position (0, 1, ...) and the sentinel '#total:complete' at score -1.
constexpr std::string_view filtered_lua = R"lua(
-- The result key is a short-lived cache of the primary's own, as the search planner's: neither
-- logged in the AOF nor replicated (search_query.cc says why).
redis.set_repl(redis.REPL_NONE)
local result, order = KEYS[1], KEYS[2]
local ttl, max_results = tonumber(ARGV[1]), tonumber(ARGV[2])
local scan_cap, chunk = tonumber(ARGV[3]), tonumber(ARGV[4])
local first, last = tonumber(ARGV[5]), tonumber(ARGV[6])

local function cached_page()
  local head = redis.call('ZRANGE', result, 0, 0)
  if not head[1] then return nil end
  local total, complete = string.match(head[1], '^#(%d+):(%d)$')
  local out = {tonumber(total), redis.call('ZCARD', result) - 1, tonumber(complete), 1, 0}
  for _, id in ipairs(redis.call('ZRANGE', result, first + 1, last + 1)) do out[#out + 1] = id end
  return out
end
local page = cached_page()
if page then return page end

-- A filter: scores in [lo, hi) of the check list (global) and, when it has one, the scope's list.
local function filter(name, check, source, lo, hi)
  local f = {name = name, check = check, source = source, lo_text = lo, lo = tonumber(lo)}
  if hi == '+inf' then
    f.hi, f.hi_text, f.below = math.huge, '+inf', '+inf'
  else
    f.hi, f.hi_text, f.below = tonumber(hi), hi, '(' .. hi
  end
  return f
end
local filters = {}
if ARGV[7] ~= '' then filters[#filters + 1] = filter('period', KEYS[3], KEYS[5], ARGV[7], '+inf') end
if ARGV[8] ~= '' then
  filters[#filters + 1] = filter('duration', KEYS[4], ARGV[11] == '1' and KEYS[6] or nil, ARGV[8], ARGV[9])
end
local function holds(f, score)
  if not score then return false end
  score = tonumber(score)
  return score >= f.lo and score < f.hi
end
-- Ranks of the range [f.lo, f.hi) in `key`, highest first: [start, start + count).
local function ranks(key, f)
  local start = 0
  if f.hi ~= math.huge then start = redis.call('ZCOUNT', key, f.hi_text, '+inf') end
  return start, redis.call('ZCOUNT', key, f.lo_text, f.below)
end

local size = redis.call('ZCARD', order)
if size == 0 then return {0, 0, 1, 0, 0} end  -- no such list: nothing to store
local start, span, range = 0, size, nil
local checks = {}
for _, f in ipairs(filters) do
  if f.name == ARGV[10] then
    range = f
    start, span = ranks(order, f)
  else
    checks[#checks + 1] = f
  end
end

if #checks == 0 then
  local out = {span, span, 1, 0, 0}
  if first < span then
    local stop = math.min(last, span - 1)
    for _, id in ipairs(redis.call('ZREVRANGE', order, start + first, start + stop)) do out[#out + 1] = id end
  end
  return out
end

-- The plan: selectivities from the global lists, then the cheapest way to the matches.
local selectivity = 1
for _, f in ipairs(checks) do
  local all = redis.call('ZCARD', f.check)
  f.share = 0
  if all > 0 then f.share = redis.call('ZCOUNT', f.check, f.lo_text, f.below) / all end
  selectivity = selectivity * f.share
  if f.source then f.start, f.size = ranks(f.source, f) end
end
table.sort(checks, function(a, b) return a.share < b.share end)
local ordered_reads = span
if selectivity > 0 then ordered_reads = math.min(span, math.ceil(max_results / selectivity)) end
local source = nil
for _, f in ipairs(checks) do
  if f.source and f.size <= scan_cap and f.size < ordered_reads and (not source or f.size < source.size) then
    source = f
  end
end

-- Keeps the ids of `got` that pass every check but `skip`, in order.
local function passing(got, skip)
  for _, f in ipairs(checks) do
    if f ~= skip and #got > 0 then
      local scores = redis.call('ZMSCORE', f.check, unpack(got))
      local kept = {}
      for i = 1, #got do
        if holds(f, scores[i]) then kept[#kept + 1] = got[i] end
      end
      got = kept
    end
  end
  return got
end

local ids, total, complete, scanned = {}, 0, 1, 0
if selectivity == 0 then
  -- no video at all is in some filter's range: nothing matches
elseif source then
  -- The scope's range of the source filter, walked whole; the matches sorted in the list's order
  -- (ZREVRANGE's: score, then member, both descending).
  local matches = {}
  for rank = source.start, source.start + source.size - 1, chunk do
    local got = redis.call('ZREVRANGE', source.source, rank, math.min(rank + chunk, source.start + source.size) - 1)
    scanned = scanned + #got
    got = passing(got, source)
    if #got > 0 then
      local scores = redis.call('ZMSCORE', order, unpack(got))
      for i = 1, #got do
        if scores[i] and (not range or holds(range, scores[i])) then
          matches[#matches + 1] = {tonumber(scores[i]), got[i]}
        end
      end
    end
  end
  table.sort(matches, function(a, b)
    if a[1] ~= b[1] then return a[1] > b[1] end
    return a[2] > b[2]
  end)
  total = #matches
  for i = 1, math.min(total, max_results) do ids[i] = matches[i][2] end
else
  local rank, stop = start, start + span
  while rank < stop and total < max_results and scanned < scan_cap do
    local n = math.min(chunk, stop - rank, scan_cap - scanned)
    local got = redis.call('ZREVRANGE', order, rank, rank + n - 1)
    if #got == 0 then break end
    rank = rank + #got
    scanned = scanned + #got
    for _, id in ipairs(passing(got, nil)) do
      total = total + 1
      if #ids < max_results then ids[#ids + 1] = id end
    end
  end
  if rank < stop then
    complete = 0
    total = #ids
  end
end

local args = {-1, '#' .. total .. ':' .. complete}
for i, id in ipairs(ids) do
  args[#args + 1] = i - 1
  args[#args + 1] = id
end
redis.call('ZADD', result, unpack(args))
redis.call('EXPIRE', result, ttl)
local out = {total, #ids, complete, 0, scanned}
for i = first + 1, math.min(last + 1, #ids) do out[#out + 1] = ids[i] end
return out
)lua";

const redis::Script& filtered_script() {
  static const redis::Script script{std::string(filtered_lua)};
  return script;
}

}  // namespace

FilteredPageCall::FilteredPageCall(const ListQuery& query, int32_t today, int64_t now,
                                   const FilterLimits& limits) {
  const keys::Scope scope{query.kind, query.name};
  const keys::Scope everything{ListKind::all, {}};
  // With sort=views the period picks the view window (the ordering list); otherwise it filters.
  const bool period_filter = query.period != Period::all && query.sort != Sort::views;
  const std::string order = keys::list(scope, query.sort, query.period, today);
  keys_ = {keys::filtered_list(order, query.duration, period_filter ? query.period : Period::all),
           order,
           keys::list(everything, Sort::newest),
           keys::list(everything, Sort::duration),
           keys::list(scope, Sort::newest),
           keys::list(scope, Sort::duration)};

  const int64_t first = int64_t{query.page - 1} * query.per_page;
  std::string range_filter;
  if (period_filter && query.sort == Sort::newest) range_filter = "period";
  if (query.duration != Duration::any && query.sort == Sort::duration) range_filter = "duration";
  const DurationRange bucket = duration_range(query.duration);
  const bool scope_has_durations = query.kind == ListKind::all || query.kind == ListKind::category;
  args_ = {std::to_string(limits.ttl.count()),
           std::to_string(limits.max_results),
           std::to_string(limits.scan_cap),
           std::to_string(limits.chunk),
           std::to_string(first),
           std::to_string(first + query.per_page - 1),
           period_filter ? std::to_string(now - period_seconds(query.period)) : std::string(),
           query.duration != Duration::any ? std::to_string(bucket.min_s) : std::string(),
           bucket.max_s == INT32_MAX ? std::string("+inf") : std::to_string(bucket.max_s),
           range_filter,
           scope_has_durations ? "1" : "0"};
}

redis::Command FilteredPageCall::evalsha() const {
  return filtered_script().evalsha_command(keys_, args_);
}

redis::Command FilteredPageCall::eval() const {
  return filtered_script().eval_command(keys_, args_);
}

Result<FilteredPage> parse_filtered_page(const redis::Reply& reply) {
  if (reply.is_error()) return Error{"redis: filtered list: " + std::string(reply.str())};
  const auto& elements = reply.elements();
  if (elements.size() < 5) return Error{"redis: filtered list: a reply of the wrong shape"};
  FilteredPage page;
  page.total = elements[0].integer();
  page.pageable = elements[1].integer();
  page.complete = elements[2].integer() == 1;
  page.cached = elements[3].integer() == 1;
  page.scanned = elements[4].integer();
  page.ids.reserve(elements.size() - 5);
  for (size_t i = 5; i < elements.size(); ++i) page.ids.emplace_back(elements[i].str());
  return page;
}

}  // namespace reel::projection
