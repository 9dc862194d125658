// ReadModel: what pages and the API read, as plain values, behind an interface so the request
// handler is a pure function of the request and this interface (tests use a fake).
// The Redis implementation (projection/redis_read_model.h) answers every call in at most two
// Redis round trips and never touches SQL.
//
// Failure: an Error means the read model is unavailable (Redis down or timing out): callers answer
// 503. "Not found" is not an error: it is an empty optional or a listing with found == false.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "common/result.h"

namespace reel::projection {

// trending: forward-decayed recent views, kept by the view aggregator (z:trending).
enum class Sort { newest, views, rating, duration, trending };
enum class Period { day, week, month, all };
enum class ListKind { all, category, tag, channel };
// Duration buckets, the filter's values in URLs and the API: short under 4 minutes, medium 4 to
// 20 minutes, long over 20 minutes (YouTube's split); any = no filter.
enum class Duration { any, short_videos, medium, long_videos };
// The orders of search results: relevance (text score with popularity and freshness,
// search_query.h) or one of the lists' orders.
enum class SearchSort { relevance, newest, views, rating, duration };

// The names used in URLs, the API and rebuild's projection names ("newest", "day", ...), and
// back; the parsers return nullopt for any other text.
inline constexpr Sort all_sorts[] = {Sort::newest, Sort::views, Sort::rating, Sort::duration, Sort::trending};
inline constexpr Period all_periods[] = {Period::day, Period::week, Period::month, Period::all};

constexpr std::string_view sort_name(Sort sort) {
  switch (sort) {
    case Sort::newest:
      return "newest";
    case Sort::views:
      return "views";
    case Sort::rating:
      return "rating";
    case Sort::duration:
      return "duration";
    case Sort::trending:
      return "trending";
  }
  return "newest";
}

constexpr std::string_view period_name(Period period) {
  switch (period) {
    case Period::day:
      return "day";
    case Period::week:
      return "week";
    case Period::month:
      return "month";
    case Period::all:
      return "all";
  }
  return "all";
}

constexpr std::string_view duration_name(Duration duration) {
  switch (duration) {
    case Duration::any:
      return "any";
    case Duration::short_videos:
      return "short";
    case Duration::medium:
      return "medium";
    case Duration::long_videos:
      return "long";
  }
  return "any";
}

// The bucket's bounds in seconds: min <= duration < max.
struct DurationRange {
  int32_t min_s = 0;
  int32_t max_s = 0;
};
constexpr DurationRange duration_range(Duration duration) {
  switch (duration) {
    case Duration::short_videos:
      return {0, 240};
    case Duration::medium:
      return {240, 1200};
    case Duration::long_videos:
      return {1200, INT32_MAX};
    case Duration::any:
      break;
  }
  return {0, INT32_MAX};
}

constexpr std::string_view search_sort_name(SearchSort sort) {
  switch (sort) {
    case SearchSort::relevance:
      return "relevance";
    case SearchSort::newest:
      return "newest";
    case SearchSort::views:
      return "views";
    case SearchSort::rating:
      return "rating";
    case SearchSort::duration:
      return "duration";
  }
  return "relevance";
}

inline constexpr Duration all_durations[] = {Duration::any, Duration::short_videos, Duration::medium,
                                             Duration::long_videos};
inline constexpr SearchSort all_search_sorts[] = {
    SearchSort::relevance, SearchSort::newest, SearchSort::views, SearchSort::rating, SearchSort::duration};

inline std::optional<Duration> parse_duration(std::string_view text) {
  for (Duration duration : all_durations) {
    if (duration_name(duration) == text) return duration;
  }
  return std::nullopt;
}

inline std::optional<SearchSort> parse_search_sort(std::string_view text) {
  for (SearchSort sort : all_search_sorts) {
    if (search_sort_name(sort) == text) return sort;
  }
  return std::nullopt;
}

// How far back an upload period reaches, in seconds (a month is 30 days); 0 for Period::all.
constexpr int64_t period_seconds(Period period) {
  switch (period) {
    case Period::day:
      return 86'400;
    case Period::week:
      return 7 * 86'400;
    case Period::month:
      return 30 * 86'400;
    case Period::all:
      break;
  }
  return 0;
}

inline std::optional<Sort> parse_sort(std::string_view text) {
  for (Sort sort : all_sorts) {
    if (sort_name(sort) == text) return sort;
  }
  return std::nullopt;
}

inline std::optional<Period> parse_period(std::string_view text) {
  for (Period period : all_periods) {
    if (period_name(period) == text) return period;
  }
  return std::nullopt;
}

// One thumbnail card in a grid: only what a card shows.
struct Card {
  int64_t id = 0;
  std::string title;
  std::string slug;
  int32_t duration_s = 0;
  int64_t views = 0;
  double rating = -1;  // 0..100 percent liked; -1 when nobody voted
  int64_t published_at = 0;
  std::string thumb_url;
  std::string channel_name;          // the handle, for /channel/{name}
  std::string channel_display_name;  // shown on the card
  std::string preview_url;           // the hover preview clip; empty when the video has none
  // A hash of the packed value the card was decoded from (codec::decode_card), 0 for a card built
  // otherwise. Equal non-zero stamps mean equal fields, so caches compare the stamp alone.
  uint64_t stamp = 0;

  // Same fields: by stamp when both have one, else field by field (the stamp included, so a
  // stamped and an unstamped card never match).
  bool same_as(const Card& other) const { return (stamp != 0 && stamp == other.stamp) || *this == other; }

  bool operator==(const Card&) const = default;
};

struct CategoryLink {
  std::string slug;
  std::string name;
};

struct ListQuery {
  ListKind kind = ListKind::all;
  std::string name;  // category slug, tag name or channel name
  Sort sort = Sort::newest;
  // With Sort::views: the window the views were counted in (z:views:week, ...). With any other
  // sort: only videos uploaded within the period (a filter, like duration).
  Period period = Period::all;
  Duration duration = Duration::any;  // a filter
  int page = 1;                       // 1-based
  int per_page = 30;

  // Whether a filter narrows the list (then it is read through the filtered-list planner).
  bool filtered() const {
    return duration != Duration::any || (period != Period::all && sort != Sort::views);
  }
};

struct Listing {
  bool found = true;  // false: no such category, tag or channel
  std::string title;  // category name, tag, channel display name; empty for kind == all
  std::vector<Card> cards;
  int64_t total = 0;  // items in the whole list
  int page = 1;
  int pages = 0;            // ceil(total / per_page)
  int64_t subscribers = 0;  // a channel's listings: how many follow the channel
  std::vector<CategoryLink> nav;
};

// A search: the visitor's text and the filters, all combined (every condition must hold).
struct SearchQuery {
  std::string text;  // as typed; the analyzer cuts it into terms, phrases and exclusions
  SearchSort sort = SearchSort::relevance;
  std::string category;  // a category slug; empty: any
  std::string tag;       // empty: any
  std::string channel;   // a channel name (handle); empty: any
  Duration duration = Duration::any;
  Period period = Period::all;  // uploaded within; all: any time
  int page = 1;                 // 1-based
  int per_page = 30;
};

struct SearchResults {
  std::vector<Card> cards;   // the page's cards, best first
  int64_t total = 0;         // matches (capped: see search_query.h)
  bool approximate = false;  // total is an estimate (a query over very common words)
  int page = 1;
  int pages = 0;
  bool empty_query = false;        // the text held no searchable word (empty, only stop words, symbols)
  std::vector<std::string> terms;  // the query's required terms, as analyzed (to mark in titles)
  std::vector<CategoryLink> nav;
};

struct Home {
  std::vector<Card> popular;  // most viewed today (all time when today is empty)
  std::vector<Card> newest;
  std::vector<CategoryLink> nav;
};

struct Rendition {
  int32_t height = 0;
  std::string url;
};

struct VideoPage {
  int64_t id = 0;
  std::string title;
  std::string slug;
  std::string description;
  int32_t duration_s = 0;
  int64_t views = 0;
  int64_t likes = 0;
  int64_t dislikes = 0;
  int64_t comments = 0;  // comments and replies
  double rating = -1;
  int64_t published_at = 0;
  std::string channel_name;
  std::string channel_display_name;
  std::vector<std::string> tags;
  std::vector<CategoryLink> categories;
  std::string poster_url;
  std::vector<Rendition> files;  // MP4 renditions, highest first
  std::string hls_url;           // the HLS master playlist; empty when there is none
  std::string sprite_vtt_url;    // WebVTT of seek-preview tiles; empty when there is none
  std::string preview_url;       // the short muted hover preview; empty when there is none
  std::vector<Card> related;
  std::vector<CategoryLink> nav;
};

// An upload's processing state (the job:{id} record), for a video not listed yet.
struct UploadStatus {
  std::string state;  // "queued", "processing", "ready", "failed"
  int32_t progress = 0;
  std::string error;
};

class ReadModel {
 public:
  virtual ~ReadModel() = default;
  // Shared and immutable, like a listing.
  virtual Task<Result<std::shared_ptr<const Home>>> home() = 0;
  // Shared and immutable: an event loop hands the same kept page to every request within a second.
  virtual Task<Result<std::shared_ptr<const Listing>>> listing(const ListQuery& query) = 0;
  // Shared and immutable, like a listing.
  virtual Task<Result<std::shared_ptr<const SearchResults>>> search(const SearchQuery& query) = 0;
  virtual Task<Result<std::optional<VideoPage>>> video(int64_t id) = 0;
  // Whether a video is listed (ready), for the view beacon; an Error when Redis is unreachable.
  virtual Task<Result<bool>> video_exists(int64_t id) = 0;
  // The processing state of an upload, nullopt when there is no record of it.
  virtual Task<Result<std::optional<UploadStatus>>> upload_status(int64_t id) = 0;
  // True when the store answers (for /readyz).
  virtual Task<bool> ready() = 0;
};

}  // namespace reel::projection
