#include "views/aggregator.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/days.h"
#include "common/text.h"
#include "views/hash.h"

namespace reel::views {
namespace {

constexpr int64_t seconds_per_day = 86400;

std::string random_instance() {
  if (sodium_init() < 0) std::abort();  // libsodium cannot work on this machine
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  return to_hex(bytes);
}

}  // namespace

uint64_t Aggregator::VideoDayHash::operator()(const VideoDay& k) const {
  return mix64(static_cast<uint64_t>(k.video_id) * 31 + static_cast<uint64_t>(k.day));
}

uint64_t Aggregator::PairHash::operator()(const Pair& k) const {
  return mix64(static_cast<uint64_t>(k.a) ^ mix64(static_cast<uint64_t>(k.b)));
}

Aggregator::Aggregator(const Clock& clock, AggregatorOptions options)
    : clock_(clock),
      options_(std::move(options)),
      parser_(options_.parser),
      deduper_(options_.dedupe_capacity, options_.dedupe_window_seconds),
      sessions_(options_.session_capacity, options_.session_window_seconds, options_.coview_depth),
      lambda_(std::log(2.0) / options_.trending_half_life_seconds),
      videos_(options_.max_pending_videos),
      pairs_(options_.max_pending_pairs),
      daily_(options_.max_daily_rows) {
  if (options_.instance.empty()) options_.instance = random_instance();
  options_.chunk_entries = std::max<size_t>(options_.chunk_entries, 1);
  new_pairs_.reserve(64 * session_depth);
}

Counters Aggregator::counters() const {
  Counters c = counters_;
  std::lock_guard lock(daily_mutex_);
  c.daily_views_dropped = daily_views_dropped_;
  return c;
}

Skip Aggregator::ingest_line(std::string_view line) {
  return ingest_line(line, clock_.unix_seconds());
}

Skip Aggregator::ingest_line(std::string_view line, int64_t now) {
  if (line.ends_with('\r')) line.remove_suffix(1);
  ++counters_.lines;
  Event event;
  Skip outcome = parser_.parse(line, &event);
  if (outcome == Skip::counted) outcome = accept(event.view, now);
  if (outcome == Skip::search) outcome = accept(event.search, now);
  ++counters_.outcomes[static_cast<size_t>(outcome)];
  return outcome;
}

void Aggregator::ingest_lines(std::string_view lines) {
  // Lines go in batches: parse and check a batch, prefetching the dedupe and session buckets of
  // each view, then admit them in order, so the cache misses of a batch overlap. A search is taken
  // at once (its query lives in the parser until the next parse); its table entries are apart from
  // the views', so the order between them does not matter.
  constexpr size_t batch = 16;
  struct Parsed {
    ViewEvent event;
    uint64_t viewer;
    Skip outcome;
  };
  Parsed parsed[batch];
  Event event;
  const int64_t now = clock_.unix_seconds();
  while (!lines.empty()) {
    size_t n = 0;
    while (n < batch && !lines.empty()) {
      const size_t end = lines.find('\n');
      std::string_view line = lines.substr(0, end);
      lines.remove_prefix(end == std::string_view::npos ? lines.size() : end + 1);
      if (line.ends_with('\r')) line.remove_suffix(1);
      if (line.empty()) continue;
      ++counters_.lines;
      Skip outcome = parser_.parse(line, &event);
      if (outcome == Skip::search) {
        ++counters_.outcomes[static_cast<size_t>(accept(event.search, now))];
        continue;
      }
      Parsed& p = parsed[n++];
      p.outcome = outcome;
      if (p.outcome != Skip::counted) continue;
      p.event = event.view;
      p.viewer = viewer_hash(p.event.viewer);  // the viewer text may not outlive the next parse
      p.outcome = check(p.event.time, p.event.agent, p.viewer, now);
      if (p.outcome != Skip::counted) continue;
      deduper_.prefetch(view_fingerprint(p.viewer, p.event.video_id));
      sessions_.prefetch(p.viewer | 1);
      videos_.prefetch({p.event.video_id, static_cast<int32_t>(p.event.time / seconds_per_day)});
    }
    for (size_t i = 0; i < n; ++i) {
      Parsed& p = parsed[i];
      if (p.outcome == Skip::counted) p.outcome = admit(p.event, p.viewer, now);
      ++counters_.outcomes[static_cast<size_t>(p.outcome)];
    }
    for (const Pair& pair : new_pairs_) pairs_.prefetch(pair);
    add_new_pairs();
  }
}

void Aggregator::add_new_pairs() {
  for (const Pair& pair : new_pairs_) {
    if (int64_t* count = pairs_.find_or_insert(pair)) {
      ++*count;
      ++counters_.coview_pairs;
    } else {
      ++counters_.coview_pairs_dropped;
    }
  }
  new_pairs_.clear();
}

Skip Aggregator::ingest(const ViewEvent& event, int64_t now) {
  ++counters_.lines;
  Skip outcome = Skip::malformed;
  if (event.video_id <= 0 || event.video_id >= max_video_id) {
    outcome = Skip::bad_video_id;
  } else if (event.viewer.size() > max_viewer_bytes) {
    outcome = Skip::oversized;
  } else if (!event.viewer.empty()) {
    outcome = accept(event, now);
  }
  ++counters_.outcomes[static_cast<size_t>(outcome)];
  return outcome;
}

double Aggregator::trend_weight(int64_t time) {
  if (time != weight_time_) {
    weight_time_ = time;
    weight_ = std::exp(lambda_ * static_cast<double>(time - ref_));
  }
  return weight_;
}

Skip Aggregator::accept(const ViewEvent& event, int64_t now) {
  const uint64_t viewer = viewer_hash(event.viewer);
  Skip outcome = check(event.time, event.agent, viewer, now);
  if (outcome == Skip::counted) outcome = admit(event, viewer, now);
  add_new_pairs();
  return outcome;
}

Skip Aggregator::accept(const SearchEvent& event, int64_t now) {
  const uint64_t viewer = viewer_hash(event.viewer);
  if (Skip outcome = check(event.time, event.agent, viewer, now); outcome != Skip::counted) return outcome;
  if (!deduper_.admit(search_fingerprint(viewer, viewer_hash(event.query)), event.time))
    return Skip::duplicate;
  auto it = searches_.find(event.query);
  if (it == searches_.end()) {
    if (searches_.size() >= options_.max_pending_searches) return Skip::pending_full;
    it = searches_.emplace(std::string(event.query), Pending{}).first;
  }
  start_generation(now);
  it->second.views += 1;
  it->second.trend += trend_weight(event.time);
  return Skip::search;
}

Skip Aggregator::check(int64_t time, Agent agent, uint64_t viewer, int64_t now) const {
  if (partition_of(viewer, options_.partition_count) != options_.partition_index) return Skip::not_owned;
  if (time < now - options_.max_age_seconds) return Skip::too_old;
  if (time > now + options_.max_future_seconds) return Skip::in_future;
  if (agent == Agent::bot) return Skip::bot;
  return Skip::counted;
}

void Aggregator::start_generation(int64_t now) {
  if (have_ref_) return;
  have_ref_ = true;
  ref_ = now;
  weight_time_ = std::numeric_limits<int64_t>::min();
}

Skip Aggregator::admit(const ViewEvent& event, uint64_t viewer, int64_t now) {
  if (!deduper_.admit(view_fingerprint(viewer, event.video_id), event.time)) return Skip::duplicate;

  Pending* pending =
      videos_.find_or_insert({event.video_id, static_cast<int32_t>(event.time / seconds_per_day)});
  if (pending == nullptr) return Skip::pending_full;
  start_generation(now);
  pending->views += 1;
  pending->trend += trend_weight(event.time);

  sessions_.record(viewer | 1, event.video_id, event.time, [&](int64_t other) {
    new_pairs_.push_back(event.video_id < other ? Pair{event.video_id, other} : Pair{other, event.video_id});
  });
  return Skip::counted;
}

const std::vector<FlushChunk>& Aggregator::seal() {
  if (!in_flight_.empty() || (videos_.empty() && pairs_.empty() && searches_.empty())) return in_flight_;
  auto new_chunk = [&] {
    FlushChunk& chunk = in_flight_.emplace_back();
    chunk.token = options_.instance + ":" + std::to_string(++sequence_);
    chunk.trend_ref = ref_;
    ++counters_.chunks_sealed;
    return &chunk;
  };
  FlushChunk* chunk = nullptr;  // the last chunk; earlier ones may move as chunks are added
  int32_t last_epoch_day = -1, last_day = 0;
  videos_.for_each([&](const VideoDay& key, const Pending& pending) {
    if (chunk == nullptr || chunk->videos.size() >= options_.chunk_entries) {
      chunk = new_chunk();
      chunk->videos.reserve(std::min(options_.chunk_entries, videos_.size()));
    }
    if (key.day != last_epoch_day) {
      last_epoch_day = key.day;
      last_day = utc_day(int64_t{key.day} * seconds_per_day);
    }
    chunk->videos.push_back({key.video_id, last_day, pending.views, pending.trend});
  });
  chunk = nullptr;
  pairs_.for_each([&](const Pair& key, int64_t count) {
    if (chunk == nullptr || chunk->pairs.size() >= options_.chunk_entries) {
      chunk = new_chunk();
      chunk->pairs.reserve(std::min(options_.chunk_entries, pairs_.size()));
    }
    chunk->pairs.push_back({key.a, key.b, count});
  });
  chunk = nullptr;
  for (auto& [query, pending] : searches_) {
    if (chunk == nullptr || chunk->searches.size() >= options_.chunk_entries) {
      chunk = new_chunk();
      chunk->searches.reserve(std::min(options_.chunk_entries, searches_.size()));
    }
    chunk->searches.push_back({query, pending.views, pending.trend});
  }
  videos_.clear();
  pairs_.clear();
  searches_.clear();
  have_ref_ = false;
  ++generations_;
  return in_flight_;
}

void Aggregator::restore(std::vector<FlushChunk> chunks) {
  if (in_flight_.empty()) in_flight_ = std::move(chunks);
}

void Aggregator::applied(std::string_view token, const ChunkResult& result) {
  auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                         [&](const FlushChunk& c) { return c.token == token; });
  if (it == in_flight_.end()) return;
  ++counters_.chunks_applied;
  if (result.replayed) ++counters_.chunks_replayed;
  counters_.script_errors += static_cast<uint64_t>(result.errors);
  if (!(result.replayed && it->restored)) {
    std::lock_guard lock(daily_mutex_);
    for (const VideoIncrement& v : it->videos) {
      if (std::find(result.unknown_videos.begin(), result.unknown_videos.end(), v.video_id) !=
          result.unknown_videos.end()) {
        counters_.unknown_video_views += static_cast<uint64_t>(v.views);
        continue;
      }
      add_daily_locked(v.video_id, v.day, v.views);
    }
  }
  // Chunks are independent, so the last one may take the applied one's place.
  if (it != in_flight_.end() - 1) *it = std::move(in_flight_.back());
  in_flight_.pop_back();
}

void Aggregator::held(std::string_view token, std::string_view hold) {
  auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                         [&](const FlushChunk& c) { return c.token == token; });
  if (it == in_flight_.end()) return;
  ++counters_.chunks_held;
  it->held_by = hold;
}

void Aggregator::hold_settled(std::string_view hold) {
  {
    std::lock_guard lock(daily_mutex_);
    if (settled_hold_ == hold) return;
    settled_hold_ = hold;
  }
  if (on_hold_settled_) on_hold_settled_();
}

void Aggregator::daily_views_written(const std::string& settled_hold) {
  if (settled_hold.empty()) return;
  std::lock_guard lock(daily_mutex_);
  confirmed_hold_ = settled_hold;
}

std::string Aggregator::confirmed_hold() const {
  std::lock_guard lock(daily_mutex_);
  return confirmed_hold_;
}

void Aggregator::add_daily_locked(int64_t video_id, int32_t day, int64_t views) {
  if (int64_t* row = daily_.find_or_insert({video_id, day})) {
    *row += views;
  } else {
    daily_views_dropped_ += static_cast<uint64_t>(views);
  }
}

std::vector<catalog::DailyViews> Aggregator::drain_daily_views(std::string* settled_hold) {
  std::lock_guard lock(daily_mutex_);
  if (settled_hold != nullptr) *settled_hold = settled_hold_;
  std::vector<catalog::DailyViews> rows;
  rows.reserve(daily_.size());
  daily_.for_each([&](const VideoDay& key, int64_t views) {
    rows.push_back({key.video_id, key.day, views});
  });
  daily_.clear();
  return rows;
}

void Aggregator::return_daily_views(const std::vector<catalog::DailyViews>& rows) {
  std::lock_guard lock(daily_mutex_);
  for (const auto& row : rows) add_daily_locked(row.video_id, row.day, row.views);
}

}  // namespace reel::views
