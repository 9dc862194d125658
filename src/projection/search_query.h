// The search query planner: turns a SearchQuery into one server-side Lua script call (EVALSHA)
// that intersects the index's term sets (search_index.h) with the filters, ranks the matches and
// answers one page of ids, keeping the ranked ids in a short-lived result key that the next page
// and the next visitor with the same query read instead (the same call: one round trip).
//
// What a query matches: videos holding every required term (Query::required_terms(): all words
// and phrase terms not excluded, stop words left out), none of the excluded single terms, in the
// category, tag and channel asked (their z:…:new lists), with a duration in the bucket
// (duration_range on z:duration's score) and uploaded within the period (z:new's score >= now -
// period_seconds). A quoted phrase of several terms must also appear in that order in the title,
// and an excluded clause of several terms (-"behind the scenes", -hip-hop) must not: the index
// keeps no positions, so these are checked here in C++ (Analyzer::contains_in_order) on the
// cards' titles, not the descriptions (a description is ~100 times a title's bytes to read per
// candidate), for the first max_results candidates in rank order.
//
// Ranking. Sorts other than relevance: the list's score (z:new, z:views:all, z:rating,
// z:duration), highest first, as the listings. Relevance: the BM25 text score
//   text(v) = sum over required terms t of idf(t) * w(t, v)
// (ZINTERSTORE with WEIGHTS idf, AGGREGATE SUM; w is the stored weight, idf as
// search_index::idf, computed in the script from ZCARD st:{t} and search:videos), then, for the
// top rerank_depth by text (the first three pages; the rest of the top max_results follow in text
// order),
//   score(v) = text(v) * (1 + 0.1 * log10(1 + views)) * (0.7 + 0.3 * 2^(-age / 90 days))
// with views the all-time count (z:views:all) and age = now - published (z:new). Why: text stays
// the main signal — the popularity factor grows by 0.1 per tenfold views (x1.1 at 10 views, x1.6
// at a million), so a clearly better text match is not buried by a viral video, but between
// similar matches the watched one wins; freshness ranges from x1.0 (new) through x0.85 (90 days)
// to x0.7 (old), so new uploads surface without old classics vanishing. Equal scores: as Redis
// orders them (the id's text, descending). Why only the first pages: each re-ranked video costs
// two lookups in million-member lists (~1 us each, cache misses) and its share of a Lua sort;
// visitors rarely page past the third.
//
// The result key (keys::search_result): named by a hash of the canonical query
// (Query::canonical(), so "Funny cats" and "cats funny" share it), the filters, the sort and the
// script itself (a new version never reads an old version's results). It is a list (appending is
// ~10 times cheaper than a sorted set's insert, and pages are ranges of it): "#{total}
// {approximate}" first, then at most max_results ids in rank order, in one key so one expiry
// (result_ttl) removes both together. total counts (or, approximate, estimates) every
// match before the cap; pages = ceil(ids stored / per_page) (Answer::pageable). With
// checked clauses, total counts the candidates that passed (at most max_results).
//
// Budget (issue 12: a query never does unbounded work). The script counts its work in elements
// touched (looked up in another set, stored, removed, walked) and returns it. An intersection
// costs about one lookup per element of its smallest input per other input, so the script starts
// from the smallest input and examines all of it only while that costs at most lookup_budget
// (~0.6 ms: a lookup in a large term set costs ~0.3-0.4 us on a million-video Redis, cache misses);
// a larger smallest input is cut to its top slice_size by score (ZRANGESTORE … REV: for a term
// set the videos where the term weighs most, for a filter list the newest) and the result is
// flagged approximate (total is then estimated: the matches within the slice times the input's
// size over the slice's, "about 6,400 results"; pages reach the ids stored). The slice is kept for
// result_ttl under keys::search_slice(input) and shared by every query that cuts the same input
// (a common term is in many queries): copying it costs ~0.45 us per element, a third of a cold
// query when it was made per query. The script reads a slice's size rather than assuming it (a
// slice made by another version of the script may differ). Every cold query's work is below work_budget (a
// test runs one over ten sets of 200,000 videos). Cost measured on Redis 7 (docs/benchmarks.md): ~0.3-0.4 us
// per lookup in a term set, ~1 us in a million-member list.
//
// Round trips: a cached page, one EVALSHA (then one MGET of its cards, in the read model); a cold
// query the same; a cold query with checked clauses three: the script answers the ranked
// candidates, their cards are read (one MGET, which gives the titles and the page's cards), and
// the checked ids are stored (the same script, in its store mode). Plus one EVAL when Redis lost
// the script (NOSCRIPT).
//
// Bad input: the analyzer caps a query at 512 bytes and 16 terms, and its terms never hold key
// syntax; a filter name that is no valid_name (catalog/model.h) matches nothing without a call;
// every key is named by the caller, the script never scans; empty text, only stop words or only
// exclusions plan no call at all (Plan::empty_query).
//
// The script writes (result, slice and scratch keys), so it must run on the primary, not a
// read-only replica.
// Thread-safety: pure functions; script() is built once and immutable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "projection/read_model.h"
#include "redis/command.h"
#include "redis/reply.h"
#include "redis/script.h"
#include "search/analyzer.h"

namespace reel::projection::search_query {

inline constexpr int64_t max_results = 1000;
inline constexpr std::chrono::seconds result_ttl{60};
inline constexpr int64_t rerank_depth = 90;
inline constexpr int64_t lookup_budget = 6'000;
inline constexpr int64_t slice_size = 1'000;
// The most elements a cold query touches. Intersecting a whole smallest input of n elements with
// k inputs costs n * (k + 1 + range filters + exclusions) <= lookup_budget, plus n for its free
// and n more for the walk's removals, so at most lookup_budget + 2 * lookup_budget / 3 (k >= 2);
// a sliced one slice_size * (terms + exclusions + 11) <= 27,000, terms and exclusions being at
// most 16 together (the analyzer's cap), its slice made included; ranking adds
// 3 * rerank_depth + max_results.
inline constexpr int64_t work_budget = 30'000;

// What a query asks, ready for the script.
struct Plan {
  bool empty_query = false;        // no term to search (empty, only stop words or only exclusions)
  bool no_match = false;           // a filter names nothing that can exist: zero results
  std::string digest;              // names the result key (keys::search_result)
  std::vector<std::string> terms;  // the required terms (what the page marks in titles)
  // Checked on the candidates' titles (see above): quoted phrases that must appear, excluded
  // clauses of several terms that must not.
  std::vector<search::QueryClause> checked;
  std::vector<std::string> keys;
  std::vector<std::string> args;
};

// The plan of `query` for the page of ranks [start, stop] (0-based, within max_results), with
// `now` (Unix seconds, from the Clock) for the period filter and freshness.
Plan plan(const SearchQuery& query, search::Analyzer& analyzer, int64_t now, int64_t start, int64_t stop);

// The script's answer.
struct Answer {
  int64_t total = 0;
  // The smallest input was cut to its top slice_size; total is then an estimate (the slice's
  // matches scaled by the input's size over the slice's).
  bool approximate = false;
  int64_t work = 0;      // elements touched; 0 when read from the result key
  bool cached = false;   // read from the result key
  int64_t pageable = 0;  // ranked ids stored (or, for candidates, answered): what pages reach
  // The page's ids, or, for a cold plan with checked clauses, every ranked candidate in rank
  // order (to check, then store with store_call).
  std::vector<std::string> ids;
};
// The answer to `plan`'s call; an Error for a Redis error reply or a reply of another shape.
Result<Answer> read_answer(const redis::Reply& reply);

// Whether a candidate's title passes the plan's checked clauses.
bool passes_checks(search::Analyzer& analyzer, std::string_view title,
                   const std::vector<search::QueryClause>& checked);

// The script call (keys, args) that stores the checked candidates `ids` (in rank order, from an
// Answer) as the plan's result, with the total and flag to report.
struct StoreCall {
  std::vector<std::string> keys;
  std::vector<std::string> args;
};
StoreCall store_call(const Plan& plan, const std::vector<std::string>& ids, int64_t total, bool approximate);

const redis::Script& script();

}  // namespace reel::projection::search_query
