// Aggregator: the in-memory half of `reel views`. It turns lines into counted views (parse,
// partition, age check, bot filter, dedupe), merges them into per-video increments and co-view
// pair increments until the next flush, and hands those out as flush chunks, each with an
// idempotency token, for views/flush.h to apply to Redis. Applied chunks become daily rows for
// SQL (drain_daily_views()). Search events go the same way into per-query increments for popular
// searches: the same checks, deduped per (viewer, query) in the same table and window as views,
// so one client counts once per query and window however often it searches.
//
// Memory is bounded, whatever the input and however long Redis is away:
//  - dedupe table and session table: fixed at construction (views/dedupe.h, views/sessions.h);
//  - pending increments merge per (video, UTC day), per co-view pair and per search query, at most
//    max_pending_videos, max_pending_pairs and max_pending_searches entries; a view or search
//    beyond that is dropped and counted (Skip::pending_full; pairs in
//    Counters::coview_pairs_dropped);
//  - chunks in flight: one sealed generation of pending increments at most. While chunks are
//    in flight (Redis down, or their reply lost) nothing new is sealed: new views keep merging
//    into pending, and the same chunks, with the same tokens, are offered again by seal();
//  - daily rows awaiting drain: at most max_daily_rows (video, day) rows; beyond that views are
//    left out of SQL and counted (Counters::daily_views_dropped).
//
// Trending weights use forward decay: a view at time t adds exp(lambda * (t - ref)) with
// lambda = ln 2 / half_life, where ref is the time the pending generation started; the flush
// script scales that by exp(lambda * (ref - t0)) with the trending epoch t0 kept in Redis, so the
// score of a video is sum(exp(lambda * (t_i - t0))), and old scores never need rewriting
// (views/flush.h says how t0 is rebased). A search's weight is the same, for search:popular.
//
// A rebuild of the view lists holds view counting (views/flush.h): chunks of video increments are
// refused and stay in flight (held()) while new views merge into pending as above. Once the
// flusher has settled a hold (hold_settled(): every chunk applied before it began is among the
// daily rows), the next drain that is written to SQL confirms it (daily_views_written()), and the
// flusher reports confirmed_hold() to Redis, which is what the rebuild waits for.
//
// Thread-safety: one thread (the event loop of `reel views`) ingests, seals and marks chunks
// applied, held or settled; drain_daily_views(), return_daily_views(), daily_views_written() and
// confirmed_hold() may be called from any other thread.
// Failure: nothing fails; skipped lines are counted by reason.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/model.h"
#include "common/clock.h"
#include "projection/view_lists.h"
#include "views/dedupe.h"
#include "views/event.h"
#include "views/flat_map.h"
#include "views/sessions.h"

namespace reel::views {

struct AggregatorOptions {
  ParserOptions parser;
  int64_t max_age_seconds = 2 * 86400;  // older events are Skip::too_old
  int64_t max_future_seconds = 300;     // events further ahead are Skip::in_future
  int64_t dedupe_window_seconds = 1800;
  size_t dedupe_capacity = size_t{5} << 20;  // (viewer, video) entries: 64 MiB
  int64_t session_window_seconds = 3600;
  int coview_depth = session_depth;  // a view pairs with up to this many earlier ones (1..session_depth)
  size_t session_capacity = size_t{1} << 19;  // viewers: 36 MiB
  size_t max_pending_videos = size_t{1} << 20;
  size_t max_pending_pairs = size_t{1} << 20;
  size_t max_pending_searches = size_t{1} << 16;  // distinct queries per flush
  size_t max_daily_rows = size_t{1} << 21;
  uint32_t partition_index = 0;  // this aggregator takes partition i of n (views/hash.h owns())
  uint32_t partition_count = 1;
  double trending_half_life_seconds = projection::trending_half_life_seconds;
  // Video or pair increments per chunk, i.e. per script call. Redis runs a script without serving
  // anyone else: a 200-entry chunk takes it ~5 ms (measured: 1 category and 5 tags a video).
  size_t chunk_entries = 200;
  std::string instance;  // token prefix; empty: 16 random hex digits
};

// `views` more views of a video on a UTC day (YYYYMMDD), with their summed trending weight.
struct VideoIncrement {
  int64_t video_id = 0;
  int32_t day = 0;
  int64_t views = 0;
  double trend = 0;  // sum of exp(lambda * (t - trend_ref))
};

// `count` more co-views of two videos (video_a < video_b); applied in both directions.
struct PairIncrement {
  int64_t video_a = 0;
  int64_t video_b = 0;
  int64_t count = 0;
};

// `searches` more searches for a query (as shown), with their summed weight as in VideoIncrement.
struct SearchIncrement {
  std::string query;
  int64_t searches = 0;
  double trend = 0;
};

// One script call's worth of increments: either videos, pairs or searches.
struct FlushChunk {
  std::string token;  // unique per chunk across aggregator processes (instance ":" sequence)
  int64_t trend_ref = 0;
  std::vector<VideoIncrement> videos;
  std::vector<PairIncrement> pairs;
  std::vector<SearchIncrement> searches;
  std::string held_by;  // the hold that refused it last (nothing applied); empty: never refused
  // Loaded back from the stream journal after a restart (views/journal.h): if it turns out to have
  // been applied before, its daily rows are taken to be in SQL already.
  bool restored = false;
};

// What Redis reported for an applied chunk.
struct ChunkResult {
  bool replayed = false;  // the token was already there: applied earlier, its reply was lost
  int64_t errors = 0;     // commands inside the script that failed (e.g. a key of the wrong type)
  std::vector<int64_t> unknown_videos;  // ids without a card: their views were not counted
  std::string held_by;  // non-empty: refused while this rebuild held view counting, nothing applied
};

struct Counters {
  uint64_t lines = 0;                             // every line or event handed in
  std::array<uint64_t, skip_reasons> outcomes{};  // per Skip reason; [Skip::counted] = views counted
  uint64_t of(Skip reason) const { return outcomes[static_cast<size_t>(reason)]; }
  uint64_t views() const { return of(Skip::counted); }
  uint64_t searches() const { return of(Skip::search); }

  uint64_t coview_pairs = 0;          // pair increments recorded
  uint64_t coview_pairs_dropped = 0;  // pending pair table full
  uint64_t chunks_sealed = 0;
  uint64_t chunks_applied = 0;
  uint64_t chunks_replayed = 0;      // applied chunks whose first reply had been lost
  uint64_t chunks_held = 0;          // script calls refused while a rebuild held view counting
  uint64_t script_errors = 0;        // see ChunkResult::errors
  uint64_t unknown_video_views = 0;  // counted views of ids without a card, left out at flush
  uint64_t daily_views_dropped = 0;  // views not kept for SQL because the daily rows were full
};

class Aggregator {
 public:
  Aggregator(const Clock& clock, AggregatorOptions options);

  // One line (a view or a search) without its newline (a trailing '\r' is ignored). Reads the clock.
  Skip ingest_line(std::string_view line);
  Skip ingest_line(std::string_view line, int64_t now);
  // Newline-separated lines (the last may lack its newline); empty lines are ignored. Reads the
  // clock once.
  void ingest_lines(std::string_view lines);
  // An event that is already parsed (the beacon in-process, tests).
  Skip ingest(const ViewEvent& event, int64_t now);

  // A snapshot; call from the ingesting thread.
  Counters counters() const;
  uint64_t dedupe_evictions() const { return deduper_.evictions(); }
  double lambda() const { return lambda_; }
  // The token prefix, unique per process: also the name it reports its confirmations under.
  const std::string& instance() const { return options_.instance; }
  const AggregatorOptions& options() const { return options_; }
  const Clock& clock() const { return clock_; }

  // True when there is nothing pending and nothing in flight.
  bool idle() const { return videos_.empty() && pairs_.empty() && searches_.empty() && in_flight_.empty(); }
  size_t pending_videos() const { return videos_.size(); }
  size_t pending_pairs() const { return pairs_.size(); }
  size_t pending_searches() const { return searches_.size(); }

  // The chunks to apply now: those still in flight, or, when none are, the pending increments
  // sealed into new chunks (pending is then empty). The chunks are independent and may be applied
  // in any order; applied() may reorder the rest. The reference is valid until the next call of
  // seal() or applied().
  const std::vector<FlushChunk>& seal();
  const std::vector<FlushChunk>& in_flight() const { return in_flight_; }
  // How many times seal() has sealed new chunks: a change tells a new generation is in flight.
  uint64_t generations() const { return generations_; }
  // Puts chunks sealed by an earlier process (the stream journal's) in flight, to be applied
  // before anything new is sealed; ignored unless nothing is in flight.
  void restore(std::vector<FlushChunk> chunks);
  // Marks the in-flight chunk with this token applied (an unknown token is ignored): its views,
  // less those of unknown videos, join the daily rows.
  void applied(std::string_view token, const ChunkResult& result);
  // Marks the in-flight chunk with this token refused by `hold`: it stays in flight, unapplied.
  void held(std::string_view token, std::string_view hold);
  // Every chunk applied before `hold` began is among the daily rows now (the flusher knows the
  // fate of every chunk it sent since it saw the hold). Calls the on_hold_settled callback the
  // first time for a hold.
  void hold_settled(std::string_view hold);
  // Called (on the ingesting thread) when a hold is first settled, so the SQL writer can run early.
  void on_hold_settled(std::function<void()> callback) { on_hold_settled_ = std::move(callback); }

  // The daily rows of every chunk applied since the last drain, for
  // sql::CatalogStore::add_daily_views(). With `settled_hold`, also the hold these rows settle
  // (empty: none): once they are in SQL, pass it to daily_views_written(). Thread-safe.
  std::vector<catalog::DailyViews> drain_daily_views(std::string* settled_hold = nullptr);
  // Gives back rows whose SQL write failed, to be drained again. Thread-safe.
  void return_daily_views(const std::vector<catalog::DailyViews>& rows);
  // The rows of a drain that settled `settled_hold` are in SQL. Thread-safe.
  void daily_views_written(const std::string& settled_hold);
  // The last hold whose earlier views are all in SQL (empty: none yet). Thread-safe.
  std::string confirmed_hold() const;

 private:
  struct VideoDay {
    int64_t video_id = 0;
    int32_t day = 0;
    bool operator==(const VideoDay&) const = default;
  };
  struct VideoDayHash {
    uint64_t operator()(const VideoDay& k) const;
  };
  struct Pair {
    int64_t a = 0;
    int64_t b = 0;
    bool operator==(const Pair&) const = default;
  };
  struct PairHash {
    uint64_t operator()(const Pair& k) const;
  };
  struct Pending {
    int64_t views = 0;  // or searches
    double trend = 0;
  };
  // Lookup by string_view without a copy (the parser's query is borrowed).
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };

  // The checks that need no table: partition, time bounds, bots.
  Skip check(int64_t time, Agent agent, uint64_t viewer, int64_t now) const;
  // Dedupe, then the pending increments and the co-view session; the session's pairs are queued
  // in new_pairs_ for add_new_pairs().
  Skip admit(const ViewEvent& event, uint64_t viewer, int64_t now);
  void add_new_pairs();
  Skip accept(const ViewEvent& event, int64_t now);
  // A search: the checks, dedupe per (viewer, query), then its pending increment.
  Skip accept(const SearchEvent& event, int64_t now);
  // Starts the pending generation's trend reference at `now` when nothing is pending yet.
  void start_generation(int64_t now);
  double trend_weight(int64_t time);
  void add_daily_locked(int64_t video_id, int32_t day, int64_t views);

  const Clock& clock_;
  AggregatorOptions options_;
  LineParser parser_;
  Deduper deduper_;
  Sessions sessions_;
  double lambda_;
  Counters counters_;

  FlatMap<VideoDay, Pending, VideoDayHash> videos_;  // day: days since 1970-01-01
  FlatMap<Pair, int64_t, PairHash> pairs_;
  std::unordered_map<std::string, Pending, TextHash, std::equal_to<>> searches_;  // by query
  std::vector<Pair> new_pairs_;
  bool have_ref_ = false;
  int64_t ref_ = 0;
  int64_t weight_time_ = 0;  // memo of the last trend_weight()
  double weight_ = 0;

  std::vector<FlushChunk> in_flight_;
  uint64_t sequence_ = 0;
  uint64_t generations_ = 0;

  std::function<void()> on_hold_settled_;

  mutable std::mutex daily_mutex_;
  FlatMap<VideoDay, int64_t, VideoDayHash> daily_;  // day: YYYYMMDD
  uint64_t daily_views_dropped_ = 0;                // guarded by daily_mutex_
  std::string settled_hold_;                        // guarded by daily_mutex_
  std::string confirmed_hold_;                      // guarded by daily_mutex_
};

}  // namespace reel::views
