// The search routes of the Router: /search, /api/v1/search, /api/v1/suggest and /opensearch.xml.
#include <algorithm>

#include "api/json.h"
#include "app/router.h"
#include "catalog/model.h"
#include "common/text.h"
#include "http/url.h"
#include "search/analyzer.h"

namespace reel::app {
namespace {

using projection::Duration;
using projection::Period;
using projection::SearchSort;

// "Did you mean" is offered for a query with this many results or fewer.
constexpr int64_t few_results = 3;
constexpr size_t completions_shown = 8;
// A completion prefix is at most this long (the box's text; longer input completes nothing).
constexpr size_t max_prefix_bytes = 100;

struct ParsedSearch {
  projection::SearchQuery query;
  std::string error;  // non-empty: what is wrong
};

ParsedSearch parse_search_query(std::string_view query_string) {
  ParsedSearch out;
  auto& q = out.query;
  if (auto error =
          malformed_param(query_string, {"q", "sort", "category", "tag", "channel", "duration", "period"})) {
    out.error = std::move(*error);
    return out;
  }
  if (auto text = http::query_param(query_string, "q")) q.text = std::move(*text);
  if (auto text = http::query_param(query_string, "sort"); text && !text->empty()) {
    auto sort = projection::parse_search_sort(*text);
    if (!sort) {
      out.error = "Unknown sort order: use relevance, newest, views, rating or duration.";
      return out;
    }
    q.sort = *sort;
  }
  struct Filter {
    std::string_view name;
    std::string* value;
    std::string_view error;
  };
  for (auto [name, value, error] : {Filter{"category", &q.category, "There is no such category."},
                                    Filter{"tag", &q.tag, "There is no such tag."},
                                    Filter{"channel", &q.channel, "There is no such channel."}}) {
    auto text = http::query_param(query_string, name);
    if (!text || text->empty()) continue;
    if (!catalog::valid_name(*text)) {
      out.error = error;
      return out;
    }
    *value = std::move(*text);
  }
  for (auto error : {read_duration(query_string, &q.duration), read_period(query_string, &q.period),
                     read_page(query_string, &q.page)}) {
    if (error) {
      out.error = std::move(*error);
      return out;
    }
  }
  return out;
}

// Why a query found nothing to look up, in words for the visitor.
std::string empty_query_message(std::string_view text) {
  if (trim(text).empty()) return "Type what you are looking for: words from a title, a tag, a channel.";
  return "Nothing in this search can be looked up: it holds only very common words (like “the”), "
         "exclusions or symbols. Add a word that says what you are looking for.";
}

}  // namespace

Task<http::Response> Router::search(const http::Request& request, bool api) {
  auto parsed = parse_search_query(request.query());
  if (!parsed.error.empty()) co_return error(400, parsed.error, api);
  auto found = co_await frame_for(request, api);
  if (!found) co_return error(503, busy_message, false);
  pages::Frame frame = std::move(*found);
  auto read = co_await s_.model.search(parsed.query);
  if (!read) co_return error(503, busy_message, api);
  const projection::SearchResults& results = **read;
  if (results.empty_query && api) co_return error(400, empty_query_message(parsed.query.text), true);
  if (parsed.query.page > 1 && parsed.query.page > results.pages) {
    co_return error(404, "That page is past the end of the results.", api);
  }
  std::optional<std::string> suggestion;
  if (!results.empty_query && results.total <= few_results && s_.suggestions != nullptr) {
    suggestion = s_.suggestions->did_you_mean(parsed.query.text);
  }
  http::Response response;
  if (api) {
    response = http::Response::json(200, api::search_document(results, suggestion));
    response.route = "api_search";
  } else {
    pages::SearchPage page{parsed.query, {}, std::move(suggestion), {}};
    search::Analyzer& analyzer = search::thread_analyzer();
    const std::vector<std::string>& terms = results.terms;  // the model's analysis of the query
    if (results.empty_query) {
      page.message = empty_query_message(parsed.query.text);
    } else {
      for (const std::string& term : terms) page.marker.variant.append(term).push_back('\n');
      page.marker.marks = [&analyzer, &terms](std::string_view title) {
        std::vector<pages::TitleMark> marks;
        for (const search::ByteRange& range : analyzer.highlight(title, terms))
          marks.push_back({range.begin, range.end});
        return marks;
      };
    }
    response = http::Response::html(200, s_.pages.search(results, page, s_.clock.unix_seconds(), frame));
    response.route = "search";
  }
  // Each first page of a search with results is one search event for popular searches (the
  // aggregator dedupes per visitor and query). So that every search reaches here, search answers
  // are never kept by a shared cache: the result key in Redis and the loop's kept pages are the
  // cache (a browser may keep its own copy for a moment).
  if (parsed.query.page == 1 && results.total > 0)
    s_.views.record_search(request, parsed.query.text, results.total);
  co_return page_response(std::move(response), frame, {}, Sharing::browser_only);
}

http::Response Router::suggest(const http::Request& request) const {
  auto prefix = http::query_param(request.query(), "q");
  if (!prefix) return error(400, "Give the text typed so far as q.", true);
  std::vector<std::string> suggestions;
  if (s_.suggestions != nullptr && prefix->size() <= max_prefix_bytes) {
    suggestions = s_.suggestions->complete(*prefix, completions_shown);
  }
  const bool opensearch = http::query_param(request.query(), "format") == "opensearch";
  http::Response response =
      http::Response::json(200, opensearch ? api::opensearch_suggestions_document(*prefix, suggestions)
                                           : api::suggestions_document(suggestions));
  if (opensearch) response.set("Content-Type", "application/x-suggestions+json");
  // The same for everybody, and the popular searches move slowly.
  response.set("Cache-Control", "public, max-age=300");
  response.route = "api_suggest";
  return response;
}

http::Response Router::opensearch(const http::Request& request) const {
  std::string origin = s_.site_url;
  if (origin.empty()) {
    // The Host the visitor used, when it is a plain host[:port]; anything else falls back to
    // localhost rather than echo arbitrary text into a cached document.
    std::string_view host = request.header("Host").value_or("");
    const bool plain =
        !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '-' || c == ':' || c == '[' || c == ']';
        });
    const bool https = request.header("X-Forwarded-Proto") == std::optional<std::string_view>("https");
    origin = std::string(https ? "https://" : "http://") + std::string(plain ? host : "localhost");
  }
  http::Response response = http::Response::text(200, s_.pages.opensearch(origin));
  response.set("Content-Type", "application/opensearchdescription+xml");
  response.set("Cache-Control", "public, max-age=86400");
  response.route = "opensearch";
  return response;
}

}  // namespace reel::app
