#include "projection/search_query.h"

#include <fmt/format.h>
#include <sodium.h>

#include <array>
#include <set>

#include "catalog/model.h"
#include "projection/keys.h"

namespace reel::projection::search_query {
namespace {

// The planner. Modes (ARGV[1]):
//   page:       the page of the result key; when it is missing, plan, rank and store it first.
//   candidates: the same when cached; when cold, rank but store nothing and answer every ranked
//               candidate with its score (for the C++ checks, then `store`).
//   store:      store the ids and scores given as the result.
// page/candidates: KEYS = result, scratch, slice, search:videos, z:new, z:views:all, z:duration,
//   the sort's list (unused for relevance), then the term sets, the filter lists, the excluded
//   term sets. ARGV = mode, ttl, start, stop, max_results, lookup_budget, slice_size,
//   relevance (1/0), now, period start ('' none), duration min and max ('' none), the three counts.
// store: KEYS = result; ARGV = mode, ttl, total, approximate, then id, score pairs.
// Reply: total, approximate, work, cached, then the page's ids (candidates: id, score pairs).
constexpr std::string_view planner_lua = R"lua(
local mode, result, ttl = ARGV[1], KEYS[1], tonumber(ARGV[2])
local chunk = 500

local function store(total, approx, ids, scores)
  redis.call('DEL', result)
  redis.call('ZADD', result, 'inf', '#' .. total .. ' ' .. approx)
  for i = 1, #ids, chunk do
    local args = {}
    for j = i, math.min(i + chunk - 1, #ids) do
      args[#args + 1] = scores[j]
      args[#args + 1] = ids[j]
    end
    redis.call('ZADD', result, unpack(args))
  end
  redis.call('EXPIRE', result, ttl)
end

if mode == 'store' then
  local ids, scores = {}, {}
  for i = 5, #ARGV, 2 do
    ids[#ids + 1] = ARGV[i]
    scores[#scores + 1] = ARGV[i + 1]
  end
  store(ARGV[3], ARGV[4], ids, scores)
  return 1
end

local start, stop, max_results = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])

-- A cached result: its first member (+inf) is "#total approx", the ids follow.
local head = redis.call('ZREVRANGE', result, 0, 0)
if head[1] then
  local total, approx = string.match(head[1], '^#(%d+) (%d)$')
  if total then
    local reply = {tonumber(total), tonumber(approx), 0, 1}
    if stop >= start then
      for _, id in ipairs(redis.call('ZREVRANGE', result, start + 1, stop + 1)) do reply[#reply + 1] = id end
    end
    return reply
  end
end

local scratch, slice_key = KEYS[2], KEYS[3]
local budget, slice = tonumber(ARGV[6]), tonumber(ARGV[7])
local relevance, now = ARGV[8] == '1', tonumber(ARGV[9])
local period_min, duration_min, duration_max = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local nterms, nfilters, nexcluded = tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15])
local work, approx = 0, 0

local function answer(total, ids, scores)
  redis.call('DEL', scratch, slice_key)
  if mode == 'candidates' then
    local reply = {total, approx, work, 0}
    for i = 1, #ids do
      reply[#reply + 1] = ids[i]
      reply[#reply + 1] = scores[i]
    end
    return reply
  end
  store(total, approx, ids, scores)
  work = work + #ids
  local reply = {total, approx, work, 0}
  for i = start + 1, math.min(stop + 1, #ids) do reply[#reply + 1] = ids[i] end
  return reply
end

-- The inputs of the intersection with their weights: the terms (idf, for relevance), the filter
-- lists (0) and the sort's list (1, so the score is the sort's).
local indexed = tonumber(redis.call('GET', KEYS[4])) or 0
local inputs, weights, sizes = {}, {}, {}
local function add(key, weight, size)
  inputs[#inputs + 1], weights[#weights + 1], sizes[#sizes + 1] = key, weight, size
end
for i = 1, nterms do
  local key = KEYS[8 + i]
  local n = redis.call('ZCARD', key)
  local all = math.max(indexed, n)  -- search_index::idf
  local idf = math.log(1 + (all - n + 0.5) / (n + 0.5))
  add(key, relevance and idf or 0, n)
end
for i = 1, nfilters do
  local key = KEYS[8 + nterms + i]
  add(key, 0, redis.call('ZCARD', key))
end
if not relevance then add(KEYS[8], 1, redis.call('ZCARD', KEYS[8])) end
work = work + #inputs

local smallest = 1
for i = 2, #inputs do
  if sizes[i] < sizes[smallest] then smallest = i end
end
if sizes[smallest] == 0 then return answer(0, {}, {}) end

local ranges = (period_min and 1 or 0) + (duration_min and 1 or 0)
-- Per element of the smallest input: a lookup in each other input, a store, a walk per range
-- filter, a lookup per excluded term.
local per_element = #inputs + 1 + ranges + nexcluded
local scanned = sizes[smallest]
-- One term and nothing else: its set is already the answer, ranked by weight (idf applied below).
local alone = #inputs == 1 and nexcluded == 0 and ranges == 0
if not alone and scanned * per_element > budget then
  redis.call('ZRANGESTORE', slice_key, inputs[smallest], 0, slice - 1, 'REV')
  inputs[smallest], scanned, approx = slice_key, slice, 1
  work = work + slice
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
  if nexcluded > 0 and total > 0 then
    local diff = {'ZDIFFSTORE', scratch, nexcluded + 1, scratch}
    for i = 1, nexcluded do diff[#diff + 1] = KEYS[8 + nterms + nfilters + i] end
    work = work + total * (nexcluded + 1)
    total = redis.call(unpack(diff))
  end
  -- A range on the sort's own list (newest within a period, longest within a bucket): the
  -- scratch scores are that list's, so the range is cut without a walk.
  if not relevance and total > 0 then
    local removed = 0
    if period_min and KEYS[8] == KEYS[5] then
      removed = redis.call('ZREMRANGEBYSCORE', scratch, '-inf', '(' .. ARGV[10])
      period_min, ranges = nil, ranges - 1
    elseif duration_min and KEYS[8] == KEYS[7] then
      removed = redis.call('ZREMRANGEBYSCORE', scratch, '-inf', '(' .. ARGV[11])
        + redis.call('ZREMRANGEBYSCORE', scratch, ARGV[12], '+inf')
      duration_min, ranges = nil, ranges - 1
    end
    work = work + removed
    total = total - removed
  end
  if ranges > 0 and total > 0 then
    local drop = {}
    for first = 0, total - 1, chunk do
      local ids = redis.call('ZRANGE', scratch, first, first + chunk - 1)
      local born = period_min and redis.call('ZMSCORE', KEYS[5], unpack(ids))
      local length = duration_min and redis.call('ZMSCORE', KEYS[7], unpack(ids))
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

local top = redis.call('ZRANGE', source, 0, max_results - 1, 'REV', 'WITHSCORES')
local ids, scores = {}, {}
for i = 1, #top, 2 do
  ids[#ids + 1] = top[i]
  scores[#scores + 1] = top[i + 1]
end
work = work + #ids
if relevance and #ids > 0 then
  local views = redis.call('ZMSCORE', KEYS[6], unpack(ids))
  local born = redis.call('ZMSCORE', KEYS[5], unpack(ids))
  local ranked = {}
  for i, id in ipairs(ids) do
    local text = tonumber(scores[i]) * source_weight
    local age = math.max(0, now - (tonumber(born[i]) or now))
    local popularity = 1 + 0.1 * math.log10(1 + (tonumber(views[i]) or 0))
    local freshness = 0.7 + 0.3 * 2 ^ (-age / 7776000)
    ranked[i] = {id, text * popularity * freshness}
  end
  -- Equal scores in the order ZREVRANGE gives them (members descending as text), so the first
  -- page answered from here and the next ones read from the result key agree.
  table.sort(ranked, function(a, b)
    if a[2] ~= b[2] then return a[2] > b[2] end
    return a[1] > b[1]
  end)
  for i, entry in ipairs(ranked) do
    ids[i] = entry[1]
    scores[i] = string.format('%.17g', entry[2])
  end
  work = work + 2 * #ids
end
return answer(total, ids, scores)
)lua";

std::string digest_of(std::string_view text) {
  std::array<unsigned char, 16> digest{};
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  std::string hex;
  hex.reserve(2 * digest.size());
  for (unsigned char byte : digest) fmt::format_to(std::back_inserter(hex), "{:02x}", byte);
  return hex;
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
  static const redis::Script planner{std::string(planner_lua)};
  return planner;
}

Plan plan(const SearchQuery& query, search::Analyzer& analyzer, int64_t now, int64_t start, int64_t stop) {
  Plan plan;
  const search::Query parsed = analyzer.parse_query(query.text);
  const std::vector<std::string> terms = parsed.required_terms();
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

  plan.keys = {keys::search_result(plan.digest),        keys::search_scratch(plan.digest),
               keys::search_scratch_slice(plan.digest), std::string(keys::search_videos()),
               keys::list(all, Sort::newest),           keys::list(all, Sort::views),
               keys::list(all, Sort::duration),         keys::list(all, list_sort(query.sort))};
  for (const auto& term : terms) plan.keys.push_back(keys::search_term(term));
  for (auto& filter : filters) plan.keys.push_back(std::move(filter));
  for (const auto& term : excluded) plan.keys.push_back(keys::search_term(term));

  const bool by_duration = query.duration != Duration::any;
  const DurationRange range = duration_range(query.duration);
  plan.args = {plan.checked.empty() ? "page" : "candidates",
               std::to_string(result_ttl.count()),
               std::to_string(start),
               std::to_string(stop),
               std::to_string(max_results),
               std::to_string(lookup_budget),
               std::to_string(slice_size),
               query.sort == SearchSort::relevance ? "1" : "0",
               std::to_string(now),
               period_text,
               by_duration ? std::to_string(range.min_s) : std::string(),
               by_duration ? std::to_string(range.max_s) : std::string(),
               std::to_string(terms.size()),
               std::to_string(plan.keys.size() - 8 - terms.size() - excluded.size()),
               std::to_string(excluded.size())};
  return plan;
}

Result<Answer> read_answer(const Plan& plan, const redis::Reply& reply) {
  if (reply.is_error()) return Error{"redis: search: " + std::string(reply.str())};
  const auto& items = reply.elements();
  if (!reply.is_array() || items.size() < 4) return Error{"redis: search: the planner answered no result"};
  Answer answer;
  answer.total = items[0].integer();
  answer.approximate = items[1].integer() != 0;
  answer.work = items[2].integer();
  answer.cached = items[3].integer() != 0;
  const bool pairs = !answer.cached && !plan.checked.empty();
  for (size_t i = 4; i < items.size(); ++i) {
    if (pairs && (i - 4) % 2 == 1) {
      answer.scores.emplace_back(items[i].str());
    } else {
      answer.ids.emplace_back(items[i].str());
    }
  }
  return answer;
}

bool passes_checks(search::Analyzer& analyzer, std::string_view title,
                   const std::vector<search::QueryClause>& checked) {
  for (const auto& clause : checked) {
    if (analyzer.contains_in_order(title, clause) == clause.excluded) return false;
  }
  return true;
}

StoreCall store_call(const Plan& plan, const std::vector<std::string>& ids,
                     const std::vector<std::string>& scores, int64_t total, bool approximate) {
  StoreCall call;
  call.keys = {keys::search_result(plan.digest)};
  call.args = {"store", std::to_string(result_ttl.count()), std::to_string(total), approximate ? "1" : "0"};
  for (size_t i = 0; i < ids.size() && i < scores.size(); ++i) {
    call.args.push_back(ids[i]);
    call.args.push_back(scores[i]);
  }
  return call;
}

}  // namespace reel::projection::search_query
