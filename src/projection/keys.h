// Keys: every Redis key name Reel uses, in one place (docs/keys.md documents each key's type,
// owner and memory per item). No other component spells a key.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "projection/read_model.h"

namespace reel::projection::keys {

// Per-video objects.
std::string video(int64_t id);  // hash: the fields the watch page shows
std::string card(int64_t id);   // string: the fields a card shows, packed (codec.h)
std::string card(std::string_view id);
std::string related(int64_t id);  // zset: related video ids, score = relatedness

// Per-channel object.
std::string channel(std::string_view name);  // hash: display_name, created_at

// The category list shown in every header, packed (card_codec.h).
std::string_view nav();

// Lists (sorted sets of video ids). `scope` selects the global list or a category/tag/channel
// list; the sort picks the ordering; Sort::views also takes a period and, for Period::day, the
// UTC day (YYYYMMDD).
struct Scope {
  ListKind kind = ListKind::all;
  std::string_view name;  // category slug, tag name or channel name
};
std::string list(Scope scope, Sort sort, Period period = Period::all, int32_t day = 0);

// SCAN patterns matching every key of a family (for removing stale keys).
std::string video_pattern();
std::string card_pattern();
std::string related_pattern();
std::string channel_pattern();

// The prefix under which `reel rebuild` writes shadow copies before RENAMEing them into place.
std::string_view shadow_prefix();

// Keys of the view aggregator (src/views/). Its Lua script builds per-video and per-category
// keys from templates made by these functions with "\x1f" (which no id or name contains) in
// place of the id or name, so the spelling stays here.
std::string video(std::string_view id);  // v:{id} from the id's decimal text
std::string coviews(int64_t id);         // zset: videos watched with it in a session, score = co-views
std::string coviews(std::string_view id);
std::string coviews_pattern();
// zset: score = forward-decayed views, sum of exp(lambda * (t - t0)); z:trending globally,
// z:cat:{slug}:trending within a category.
std::string trending(Scope scope);
std::string_view trending_epoch();                // string: t0 of every trending score (Unix seconds)
std::string views_batch(std::string_view token);  // string: result of an applied flush chunk
// hash: week or month list key -> "F" (its first day counted, YYYYMMDD) or "F N" (day F-1 being
// taken out of it, the first N members done): the windows kept incrementally (views/windows.h)
std::string_view views_windows();
// The cut-over between `reel rebuild` and the aggregators (projection/rebuild.h, views/flush.h).
std::string_view views_hold();         // string: the id of the rebuild holding view counting; expires
std::string_view views_aggregators();  // hash: instance -> "1", every aggregator that ran lately
std::string views_aggregator(std::string_view instance);  // string: the hold it confirmed; expires
// The views stream that syslog-ng's redis() destination feeds and `reel views --stream` reads
// (views/stream_source.h): one entry per event line, trimmed to the slowest aggregator's cursor.
std::string_view views_stream();   // stream: field "l" = one event line
std::string_view views_cursors();  // hash: partition ("I/N") -> last entry id whose views are applied
// string: the sealed flush chunks of partition "I/N" that may not all be applied yet (views/journal.h)
std::string views_generation(std::string_view partition);
// zset: popular searches, member = the query as shown (views/event.h SearchEvent), score =
// forward-decayed searches like trending's (same lambda, same trending:epoch); kept to its top 10,000
std::string_view search_popular();

// Keys of the media job queue (src/jobs/).
std::string_view media_jobs();               // stream: one entry per queued or running job
std::string_view media_jobs_group();         // the consumer group `reel worker`s read jobs:media with
std::string_view media_jobs_delayed();       // zset: retries waiting out their backoff, score = due (Unix ms)
std::string job_progress(int64_t video_id);  // hash: state, progress, error, updated_at; expires
// string: set by withdraw_video_commands (a DELETE); while it lasts, a publish of the video is
// refused (the worker WATCHes it), so a publish racing a DELETE cannot list it again; expires
std::string withdrawn(int64_t video_id);

// The search index (projection/search_index.h). A term (search::Analyzer: never spaces, control
// characters or : { } * ? [ ] \) is appended as it is.
std::string search_term(std::string_view term);  // zset: video ids, score = the term's weight in each
std::string search_terms_pattern();              // st:*, for the rebuild's sweep
std::string search_record(int64_t video_id);     // string: the terms the video is indexed under
std::string search_records_pattern();            // sx:*
std::string_view search_term_prefix();           // "st:", for the script that unindexes a video
std::string_view search_videos();                // string: how many videos are indexed (a counter)
// The term dictionary, for "did you mean" and completion (search_index.h, search/suggester.h).
std::string_view search_dictionary();  // zset: term -> how many videos hold it (ZCARD of its st: set)
std::string_view search_words();       // hash: term -> the word shown for it (folded, not stemmed)
// A search's result (projection/search_query.h), `digest` a hex hash of what the query asks: zset
// of at most search_query::max_results ids, best first by score, plus one member "#{total} {approx}"
// scored +inf; expires. Its two scratch keys hold the planner's intermediate sets within one script.
std::string search_result(std::string_view digest);
std::string search_scratch(std::string_view digest);  // zset: the intersection being ranked
std::string search_slice(std::string_view input);     // zset: the top slice of a large input key, shared

// The write path's watermarks (src/writes/): the sequence number of the last delta applied to
// each object ("video:12"), kept as a field of a hash that buckets 100 objects of one class
// (wseq:{class}:{id / 100}, field = id), so a million objects cost a few bytes each (listpacks).
struct HashField {
  std::string key;
  std::string field;
};
// `object` must be writes::Transaction::valid_object.
HashField write_seq(std::string_view object);
std::string write_seq_pattern();  // wseq:*, for the rebuild's sweep

// zset: a filtered listing's matches (projection/filtered_list.h), cached for a minute: score =
// position, plus a sentinel holding the totals. `list` is the ordering list's key; `period` the
// upload-period filter (Period::all: none).
std::string filtered_list(std::string_view list, Duration duration, Period period);

}  // namespace reel::projection::keys
