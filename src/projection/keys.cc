#include "projection/keys.h"

#include <fmt/format.h>

namespace reel::projection::keys {

std::string video(int64_t id) {
  return fmt::format("v:{}", id);
}
std::string card(int64_t id) {
  return fmt::format("card:{}", id);
}
std::string card(std::string_view id) {
  return fmt::format("card:{}", id);
}
std::string related(int64_t id) {
  return fmt::format("z:rel:{}", id);
}
std::string channel(std::string_view name) {
  return fmt::format("ch:{}", name);
}
std::string video_pattern() {
  return "v:*";
}
std::string card_pattern() {
  return "card:*";
}
std::string related_pattern() {
  return "z:rel:*";
}
std::string channel_pattern() {
  return "ch:*";
}
std::string_view nav() {
  return "nav:categories";
}
std::string_view search_term_prefix() {
  return "st:";
}
std::string search_term(std::string_view term) {
  return fmt::format("{}{}", search_term_prefix(), term);
}
std::string search_terms_pattern() {
  return "st:*";
}
std::string search_record(int64_t video_id) {
  return fmt::format("sx:{}", video_id);
}
std::string search_records_pattern() {
  return "sx:*";
}
std::string_view search_videos() {
  return "search:videos";
}
std::string_view search_dictionary() {
  return "search:terms";
}
std::string_view search_words() {
  return "search:words";
}
std::string_view search_popular() {
  return "search:popular";
}
std::string search_result(std::string_view digest) {
  return fmt::format("q:{}", digest);
}
std::string search_scratch(std::string_view digest) {
  return fmt::format("q:{}:w", digest);
}
std::string search_slice(std::string_view input) {
  return fmt::format("qs:{}", input);
}
std::string_view shadow_prefix() {
  return "rebuild:";
}

namespace {

std::string_view scope_prefix(ListKind kind) {
  switch (kind) {
    case ListKind::all:
      return "z";
    case ListKind::category:
      return "z:cat:";
    case ListKind::tag:
      return "z:tag:";
    case ListKind::channel:
      return "z:ch:";
  }
  return "z";
}

}  // namespace

std::string list(Scope scope, Sort sort, Period period, int32_t day) {
  std::string key(scope_prefix(scope.kind));
  if (scope.kind != ListKind::all) key.append(scope.name);
  switch (sort) {
    case Sort::newest:
      key += ":new";
      break;
    case Sort::rating:
      key += ":rating";
      break;
    case Sort::duration:
      key += ":duration";
      break;
    case Sort::trending:
      key += ":trending";
      break;
    case Sort::views:
      switch (period) {
        case Period::all:
          key += ":views:all";
          break;
        case Period::week:
          key += ":views:week";
          break;
        case Period::month:
          key += ":views:month";
          break;
        case Period::day:
          key += fmt::format(":views:day:{}", day);
          break;
      }
      break;
  }
  return key;
}

std::string video(std::string_view id) {
  return fmt::format("v:{}", id);
}
std::string coviews(int64_t id) {
  return fmt::format("z:cov:{}", id);
}
std::string coviews(std::string_view id) {
  return fmt::format("z:cov:{}", id);
}
std::string coviews_pattern() {
  return "z:cov:*";
}
std::string_view trending_epoch() {
  return "trending:epoch";
}
std::string views_batch(std::string_view token) {
  return fmt::format("views:batch:{}", token);
}
std::string_view views_windows() {
  return "views:windows";
}
std::string_view views_hold() {
  return "views:hold";
}
std::string_view views_aggregators() {
  return "views:aggregators";
}
std::string views_aggregator(std::string_view instance) {
  return fmt::format("views:aggregator:{}", instance);
}
std::string_view views_stream() {
  return "views:in";
}
std::string_view views_cursors() {
  return "views:cursors";
}
std::string views_generation(std::string_view partition) {
  return fmt::format("views:gen:{}", partition);
}

std::string trending(Scope scope) {
  std::string key(scope_prefix(scope.kind));
  if (scope.kind != ListKind::all) key.append(scope.name);
  return key + ":trending";
}

std::string_view media_jobs() {
  return "jobs:media";
}
std::string_view media_jobs_group() {
  return "workers";
}
std::string_view media_jobs_delayed() {
  return "jobs:media:delayed";
}
std::string job_progress(int64_t video_id) {
  return fmt::format("job:{}", video_id);
}
std::string withdrawn(int64_t video_id) {
  return fmt::format("withdrawn:{}", video_id);
}

HashField write_seq(std::string_view object) {
  const size_t colon = object.find(':');
  const std::string_view id = object.substr(colon + 1);
  // The bucket is the id without its last two digits ("0" for ids below 100).
  const std::string_view bucket = id.size() > 2 ? id.substr(0, id.size() - 2) : std::string_view("0");
  return {fmt::format("wseq:{}:{}", object.substr(0, colon), bucket), std::string(id)};
}

std::string write_seq_pattern() {
  return "wseq:*";
}

std::string filtered_list(std::string_view list, Duration duration, Period period) {
  return fmt::format("ql:{}:{}:{}", list, duration_name(duration), period_name(period));
}

}  // namespace reel::projection::keys
