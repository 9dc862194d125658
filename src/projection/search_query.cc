#include "projection/search_query.h"

#include <fmt/format.h>
#include <sodium.h>

#include <array>
#include <set>

#include "catalog/model.h"
#include "common/text.h"
#include "projection/keys.h"
#include "projection/search_index.h"

namespace reel::projection::search_query {
namespace {

// The planner. Modes (ARGV[1]):
//   page:       the page of the result key; when it is missing, plan, rank and store it first.
//   candidates: the same when cached; when cold, rank but store nothing and answer every ranked
//               candidate (for the C++ checks, then `store`).
//   store:      store the ids given, in their order, as the result.
// page/candidates: KEYS = result, scratch, search:videos, z:new, z:views:all, z:duration, the
//   sort's list (unused for relevance), then the term sets, the filter lists, the excluded term
//   sets, then the slice keys of the inputs (terms, filters, sort list). ARGV = mode, ttl, start,
//   stop, max_results, lookup_budget, slice_size, rerank_depth, relevance (1/0), now, period start
//   ('' none), duration min and max ('' none), the three counts.
// store: KEYS = result; ARGV = mode, ttl, total, approximate, then the ids.
// Reply: total, approximate, work, cached, pageable (the ids stored or answered), then the page's
// ids (candidates: every ranked id). An approximate total is estimated: the matches in the slice
// times the cut input's size over the slice's.
constexpr std::string_view planner_lua = R"lua(
-- Every key this script writes (result, scratch, slices) is a short-lived cache of the primary's
-- own: its writes go to neither the AOF nor the replicas. Logged, each cold query appended its
-- intersection to the AOF (~300 KB/s at 400 cold queries/s): a restart replayed them all (232 s
-- of a 275 s load on the 1 M catalog) and the AOF's growth forked Redis for a rewrite (224 ms
-- with 7 GB) every so often (docs/benchmarks.md §24).
redis.set_repl(redis.REPL_NONE)
local mode, result, ttl = ARGV[1], KEYS[1], tonumber(ARGV[2])
local chunk = 500

-- The result is a list: "#total approx", then the ids in rank order.
local function store(total, approx, ids)
  redis.call('UNLINK', result)
  redis.call('RPUSH', result, '#' .. total .. ' ' .. approx)
  for i = 1, #ids, chunk do redis.call('RPUSH', result, unpack(ids, i, math.min(i + chunk - 1, #ids))) end
  redis.call('EXPIRE', result, ttl)
end

if mode == 'store' then
  local ids = {}
  for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
  store(ARGV[3], ARGV[4], ids)
  return 1
end

local start, stop, max_results = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])

local head = redis.call('LINDEX', result, 0)
if head then
  local total, approx = string.match(head, '^#(%d+) (%d)$')
  if total then
    local reply = {tonumber(total), tonumber(approx), 0, 1, redis.call('LLEN', result) - 1}
    if stop >= start then
      for _, id in ipairs(redis.call('LRANGE', result, start + 1, stop + 1)) do reply[#reply + 1] = id end
    end
    return reply
  end
end

local scratch = KEYS[2]
local budget, slice, depth = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local relevance, now = ARGV[9] == '1', tonumber(ARGV[10])
local period_min, duration_min, duration_max = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local nterms, nfilters, nexcluded = tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16])
local first_slice = 7 + nterms + nfilters + nexcluded
local work, approx, cut_from = 0, 0, 0

local function answer(total, ids)
  redis.call('UNLINK', scratch)
  if cut_from > 0 then total = math.max(#ids, math.floor(total * cut_from / slice + 0.5)) end
  local reply = {total, approx, work, 0, #ids}
  if mode == 'candidates' then
    for i = 1, #ids do reply[#reply + 1] = ids[i] end
    return reply
  end
  store(total, approx, ids)
  reply[3] = work + #ids
  for i = start + 1, math.min(stop + 1, #ids) do reply[#reply + 1] = ids[i] end
  return reply
end

-- The inputs of the intersection with their weights and slice keys: the terms (idf, for
-- relevance), the filter lists (0) and the sort's list (1, so the score is the sort's).
local indexed = tonumber(redis.call('GET', KEYS[3])) or 0
local inputs, weights, sizes, slices = {}, {}, {}, {}
local function add(key, weight, size)
  local n = #inputs + 1
  inputs[n], weights[n], sizes[n], slices[n] = key, weight, size, KEYS[first_slice + n]
end
for i = 1, nterms do
  local key = KEYS[7 + i]
  local n = redis.call('ZCARD', key)
  add(key, relevance and idf(indexed, n) or 0, n)
end
for i = 1, nfilters do
  local key = KEYS[7 + nterms + i]
  add(key, 0, redis.call('ZCARD', key))
end
-- Another sort: its list (every video) joins the intersection only beside a single input, where
-- most of what is scanned matches; beside several the matches are few, so they are scored from
-- the list after the intersection instead (a lookup in a million-member list costs ~1 us, in a
-- term set ~0.3 us).
local rescore = false
if not relevance then
  if #inputs == 1 then
    add(KEYS[7], 1, redis.call('ZCARD', KEYS[7]))
  else
    rescore = true
  end
end
work = work + #inputs

local smallest = 1
for i = 2, #inputs do
  if sizes[i] < sizes[smallest] then smallest = i end
end
if sizes[smallest] == 0 then return answer(0, {}) end

local ranges = (period_min and 1 or 0) + (duration_min and 1 or 0)
-- Per element of the smallest input: a lookup in each other input, a store, a walk per range
-- filter, a lookup per excluded term.
local per_element = #inputs + 1 + ranges + nexcluded
local scanned = sizes[smallest]
-- One term and nothing else: its set is already the answer, ranked by weight (idf applied below).
local alone = #inputs == 1 and nexcluded == 0 and ranges == 0
if not alone and scanned > slice and scanned * per_element > budget then
  -- The input's top slice, shared by every query that cuts the same input within its TTL.
  -- Its size is read, not assumed: a slice made by another version of the script may differ.
  local cut = slices[smallest]
  local kept = redis.call('ZCARD', cut)
  if kept == 0 then
    kept = redis.call('ZRANGESTORE', cut, inputs[smallest], 0, slice - 1, 'REV')
    redis.call('EXPIRE', cut, ttl)
    work = work + kept
  end
  inputs[smallest], approx, cut_from, slice, scanned = cut, 1, scanned, kept, kept
end

local source, source_weight, total
if alone then
  source, source_weight, total = inputs[1], weights[1], sizes[1]
else
  local args = {'ZINTERSTORE', scratch, #inputs}
  for _, key in ipairs(inputs) do args[#args + 1] = key end
  args[#args + 1] = 'WEIGHTS'
  for _, weight in ipairs(weights) do args[#args + 1] = weight end
  total = redis.call(unpack(args))
  work = work + scanned * (#inputs - 1) + 2 * total  -- stored, and freed at the end
  source, source_weight = scratch, 1
  if rescore and total > 0 then
    -- The sort's scores for the matches; a video missing from the sort's list does not match.
    -- All ids first: the updates reorder the set under any walk by rank.
    local matches, unsorted = redis.call('ZRANGE', scratch, 0, -1), {}
    for first = 1, #matches, chunk do
      local ids = {unpack(matches, first, math.min(first + chunk - 1, #matches))}
      local scores = redis.call('ZMSCORE', KEYS[7], unpack(ids))
      local scored = {}
      for j, id in ipairs(ids) do
        if scores[j] then
          scored[#scored + 1] = scores[j]
          scored[#scored + 1] = id
        else
          unsorted[#unsorted + 1] = id
        end
      end
      if #scored > 0 then redis.call('ZADD', scratch, 'XX', unpack(scored)) end
    end
    for i = 1, #unsorted, chunk do
      redis.call('ZREM', scratch, unpack(unsorted, i, math.min(i + chunk - 1, #unsorted)))
    end
    work = work + 2 * total
    total = total - #unsorted
  end
  if nexcluded > 0 and total > 0 then
    local diff = {'ZDIFFSTORE', scratch, nexcluded + 1, scratch}
    for i = 1, nexcluded do diff[#diff + 1] = KEYS[7 + nterms + nfilters + i] end
    work = work + total * (nexcluded + 1)
    total = redis.call(unpack(diff))
  end
  -- A range on the sort's own list (newest within a period, longest within a bucket): the
  -- scratch scores are that list's, so the range is cut without a walk.
  if not relevance and total > 0 then
    local removed = 0
    if period_min and KEYS[7] == KEYS[4] then
      removed = redis.call('ZREMRANGEBYSCORE', scratch, '-inf', '(' .. ARGV[11])
      period_min, ranges = nil, ranges - 1
    elseif duration_min and KEYS[7] == KEYS[6] then
      removed = redis.call('ZREMRANGEBYSCORE', scratch, '-inf', '(' .. ARGV[12])
        + redis.call('ZREMRANGEBYSCORE', scratch, ARGV[13], '+inf')
      duration_min, ranges = nil, ranges - 1
    end
    work = work + removed
    total = total - removed
  end
  if ranges > 0 and total > 0 then
    local drop = {}
    for first = 0, total - 1, chunk do
      local ids = redis.call('ZRANGE', scratch, first, first + chunk - 1)
      local born = period_min and redis.call('ZMSCORE', KEYS[4], unpack(ids))
      local length = duration_min and redis.call('ZMSCORE', KEYS[6], unpack(ids))
      for j, id in ipairs(ids) do
        local keep = true
        if born then
          local published = tonumber(born[j])
          keep = published ~= nil and published >= period_min
        end
        if keep and length then
          local seconds = tonumber(length[j])
          keep = seconds ~= nil and seconds >= duration_min and seconds < duration_max
        end
        if not keep then drop[#drop + 1] = id end
      end
    end
    for i = 1, #drop, chunk do redis.call('ZREM', scratch, unpack(drop, i, math.min(i + chunk - 1, #drop))) end
    work = work + total * ranges + #drop
    total = total - #drop
  end
end

-- The ranked ids: the top max_results by score; for relevance the first rerank_depth of them
-- ordered again by text x popularity x freshness (search_query.h), the rest left in text order.
local ids = {}
local reranked = relevance and math.min(depth, max_results) or 0
if reranked > 0 then
  local top = redis.call('ZRANGE', source, 0, reranked - 1, 'REV', 'WITHSCORES')
  local n = #top / 2
  if n > 0 then
    local head = {}
    for i = 1, n do head[i] = top[2 * i - 1] end
    local views = redis.call('ZMSCORE', KEYS[5], unpack(head))
    local born = redis.call('ZMSCORE', KEYS[4], unpack(head))
    local ranked = {}
    for i = 1, n do
      local text = tonumber(top[2 * i]) * source_weight
      local age = math.max(0, now - (tonumber(born[i]) or now))
      local popularity = 1 + 0.1 * math.log10(1 + (tonumber(views[i]) or 0))
      local freshness = 0.7 + 0.3 * 2 ^ (-age / 7776000)
      ranked[i] = {head[i], text * popularity * freshness}
    end
    -- Equal scores in the order ZREVRANGE gives them (members descending as text).
    table.sort(ranked, function(a, b)
      if a[2] ~= b[2] then return a[2] > b[2] end
      return a[1] > b[1]
    end)
    for i = 1, n do ids[i] = ranked[i][1] end
    work = work + 3 * n
  end
end
-- The rest, unless the head already held every match.
if #ids == reranked and reranked < max_results then
  for _, id in ipairs(redis.call('ZRANGE', source, reranked, max_results - 1, 'REV')) do ids[#ids + 1] = id end
end
work = work + #ids
return answer(total, ids)
)lua";

std::string digest_of(std::string_view text) {
  std::array<unsigned char, 16> digest{};
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  return to_hex(digest);
}

Sort list_sort(SearchSort sort) {
  switch (sort) {
    case SearchSort::views:
      return Sort::views;
    case SearchSort::rating:
      return Sort::rating;
    case SearchSort::duration:
      return Sort::duration;
    case SearchSort::relevance:
    case SearchSort::newest:
      break;
  }
  return Sort::newest;
}

// The terms excluded one by one (single-term excluded clauses; stop words hold no set).
std::vector<std::string> excluded_terms(const search::Query& query) {
  std::set<std::string> terms;
  for (const auto& clause : query.clauses) {
    if (clause.excluded && clause.terms.size() == 1 && !clause.terms[0].stop_word) {
      terms.insert(clause.terms[0].term);
    }
  }
  return {terms.begin(), terms.end()};
}

std::vector<search::QueryClause> checked_clauses(const search::Query& query) {
  std::vector<search::QueryClause> checked;
  for (const auto& clause : query.clauses) {
    const bool phrase = clause.quoted && !clause.excluded;
    if (clause.terms.size() >= 2 && (phrase || clause.excluded)) checked.push_back(clause);
  }
  return checked;
}

}  // namespace

const redis::Script& script() {
  static const redis::Script planner{std::string(search_index::idf_lua) + std::string(planner_lua)};
  return planner;
}

Plan plan(const SearchQuery& query, search::Analyzer& analyzer, int64_t now, int64_t start, int64_t stop) {
  Plan plan;
  const search::Query parsed = analyzer.parse_query(query.text);
  plan.terms = parsed.required_terms();
  const std::vector<std::string>& terms = plan.terms;
  if (terms.empty()) {
    plan.empty_query = true;
    return plan;
  }
  for (const std::string* name : {&query.category, &query.tag, &query.channel}) {
    if (!name->empty() && !catalog::valid_name(*name)) plan.no_match = true;
  }
  if (plan.no_match) return plan;

  const std::string period_text =
      period_seconds(query.period) > 0 ? std::to_string(now - period_seconds(query.period)) : std::string();
  plan.digest =
      digest_of(fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", script().sha1(),
                            parsed.canonical(), search_sort_name(query.sort), query.category, query.tag,
                            query.channel, duration_name(query.duration), period_name(query.period)));
  plan.checked = checked_clauses(parsed);

  const keys::Scope all{ListKind::all, {}};
  std::vector<std::string> filters;
  if (!query.category.empty())
    filters.push_back(keys::list({ListKind::category, query.category}, Sort::newest));
  if (!query.tag.empty()) filters.push_back(keys::list({ListKind::tag, query.tag}, Sort::newest));
  if (!query.channel.empty()) filters.push_back(keys::list({ListKind::channel, query.channel}, Sort::newest));
  const std::vector<std::string> excluded = excluded_terms(parsed);

  const std::string sort_list = keys::list(all, list_sort(query.sort));
  plan.keys = {keys::search_result(plan.digest),
               keys::search_scratch(plan.digest),
               std::string(keys::search_videos()),
               keys::list(all, Sort::newest),
               keys::list(all, Sort::views),
               keys::list(all, Sort::duration),
               sort_list};
  for (const auto& term : terms) plan.keys.push_back(keys::search_term(term));
  for (const auto& filter : filters) plan.keys.push_back(filter);
  for (const auto& term : excluded) plan.keys.push_back(keys::search_term(term));
  // The slice keys of the inputs, in the script's order: terms, filters, the sort's list.
  for (const auto& term : terms) plan.keys.push_back(keys::search_slice(keys::search_term(term)));
  for (const auto& filter : filters) plan.keys.push_back(keys::search_slice(filter));
  plan.keys.push_back(keys::search_slice(sort_list));

  const bool by_duration = query.duration != Duration::any;
  const DurationRange range = duration_range(query.duration);
  plan.args = {plan.checked.empty() ? "page" : "candidates",
               std::to_string(result_ttl.count()),
               std::to_string(start),
               std::to_string(stop),
               std::to_string(max_results),
               std::to_string(lookup_budget),
               std::to_string(slice_size),
               std::to_string(rerank_depth),
               query.sort == SearchSort::relevance ? "1" : "0",
               std::to_string(now),
               period_text,
               by_duration ? std::to_string(range.min_s) : std::string(),
               by_duration ? std::to_string(range.max_s) : std::string(),
               std::to_string(terms.size()),
               std::to_string(filters.size()),
               std::to_string(excluded.size())};
  return plan;
}

Result<Answer> read_answer(const redis::Reply& reply) {
  if (reply.is_error()) return Error{"redis: search: " + std::string(reply.str())};
  const auto& items = reply.elements();
  if (!reply.is_array() || items.size() < 5) return Error{"redis: search: the planner answered no result"};
  Answer answer;
  answer.total = items[0].integer();
  answer.approximate = items[1].integer() != 0;
  answer.work = items[2].integer();
  answer.cached = items[3].integer() != 0;
  answer.pageable = items[4].integer();
  answer.ids.reserve(items.size() - 5);
  for (size_t i = 5; i < items.size(); ++i) answer.ids.emplace_back(items[i].str());
  return answer;
}

bool passes_checks(search::Analyzer& analyzer, std::string_view title,
                   const std::vector<search::QueryClause>& checked) {
  for (const auto& clause : checked) {
    if (analyzer.contains_in_order(title, clause) == clause.excluded) return false;
  }
  return true;
}

StoreCall store_call(const Plan& plan, const std::vector<std::string>& ids, int64_t total, bool approximate) {
  StoreCall call;
  call.keys = {keys::search_result(plan.digest)};
  call.args = {"store", std::to_string(result_ttl.count()), std::to_string(total), approximate ? "1" : "0"};
  call.args.insert(call.args.end(), ids.begin(), ids.end());
  return call;
}

}  // namespace reel::projection::search_query
