// The search index: which per-term sorted sets a ready video is in, with what score, and the
// commands that put it there or take it out. The projector adds them to a video's publish and
// withdraw (projector.h); `reel rebuild search` writes the same entries in bulk (rebuild.h).
//
// Keys (keys.h, docs/keys.md): st:{term} — video ids, score = the term's weight in that video;
// sx:{id} — the terms the video is indexed under, separated by spaces (a term holds none), so an
// edit or a withdrawal removes the old entries without a scan; search:videos — how many videos
// are indexed (N below). How common a term is: ZCARD st:{term} (0 = no video has it).
//
// Fields and weights (BM25F with per-video statistics only, so a video's entries never change
// when other videos come and go). For a term t of video v:
//   tf~(t, v) = sum over fields f of  boost_f * tf_f(t) / (1 - b_f + b_f * len_f / typical_f)
//   w(t, v)   = tf~ * (k1 + 1) / (tf~ + k1)                                   (the ZADD score)
// tf_f: occurrences of t in field f; len_f: the field's length in terms, stop words not counted
// (search::FieldTerms::length); typical_f: a fixed typical length of the field, standing in for
// BM25's average (a live average would make every video's scores move with the catalog). So w
// grows with tf and saturates below k1 + 1; a long field counts each occurrence for less; a
// title word outweighs the same word in the description. Fields (see field_weights):
//   title 3.0 (b 0.75, typical 8), tags 2.0 (b 0.5, typical 6), categories 1.5 (b 0: slugs are
//   short), channel name and display name 1.0 (b 0), description 0.5 (b 0.75, typical 40); k1 1.2.
// A query then scores a video as sum over its terms of idf(t) * w(t, v): ZINTERSTORE (all terms
// must match) or ZUNIONSTORE of the st: sets with WEIGHTS idf(t) = ln(1 + (N - n + 0.5) / (n + 0.5)),
// n = ZCARD st:{t}, N = GET search:videos (idf() below), both read at query time.
//
// The term dictionary (for "did you mean" and completion, search/suggester.h): search:terms, a
// zset term -> how many videos hold it (always ZCARD st:{term}: the same index and unindex
// commands set it from the set they just changed, so a replay or a retried withdrawal leaves it
// exact; a term no video holds any more leaves it), and search:words, a hash term -> the word
// shown for it: the folded, unstemmed word the videos spell it with ("funny" for funni), the
// shortest, then bytewise smallest, of those indexed since the term last appeared (each field
// offers the first spelling of the term in it: search::TermCount::folded; the live path
// cannot forget a spelling whose last video went while others hold the term; the rebuild chooses
// among the videos it reads).
//
// Bounds: a video is indexed under at most max_terms_per_video terms (the heaviest; ties by term),
// whatever its text (the analyzer caps each field at 16 KB and 2,048 terms first), so one video
// writes a bounded number of keys and its record stays under 17 KB.
//
// Which videos: only ready ones, as for every list (publish_video_commands is for a ready video;
// the rebuild reads ready videos only; withdraw_video_commands unindexes). A channel's display
// name is indexed as it was when the video was published: a rename shows in search after
// `reel rebuild search`, as it shows on cards after `reel rebuild videos`.
//
// Thread-safety: the functions are safe to call from any thread: each thread analyses with an
// Analyzer of its own (search::thread_analyzer), made on its first call and kept for the thread's life
// (about 2 MB with a full stem memo).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/model.h"
#include "redis/command.h"
#include "search/analyzer.h"

namespace reel::projection::search_index {

inline constexpr double k1 = 1.2;
inline constexpr size_t max_terms_per_video = 256;

struct FieldWeight {
  double boost = 1;
  double b = 0;               // length normalization: 0 none, 1 full
  double typical_length = 1;  // in terms
};

enum class Field { title, tags, categories, channel, description };
FieldWeight field_weight(Field field);

// One field's share of a term: its occurrences there and the field's length.
struct FieldCount {
  Field field = Field::title;
  uint32_t count = 0;
  uint32_t length = 0;
};

// w(t, v) from the term's counts in the video's fields (0 when it has none).
double term_weight(const std::vector<FieldCount>& counts);

// The query side's weight of a term held by `videos_with_term` of `indexed_videos` videos
// (both clamped to be sane: a term in every video still weighs a little).
double idf(int64_t indexed_videos, int64_t videos_with_term);

// idf() in Lua, `local function idf(indexed_videos, videos_with_term)`, for the scripts that
// weigh terms inside Redis (the search planner reads both counts there). One text, so the two
// cannot drift apart unnoticed: a test runs it in Redis against idf().
extern const std::string_view idf_lua;

struct TermEntry {
  std::string term;
  double weight = 0;
  std::string word;  // the word shown for the term: of the video's spellings, the preferred_word
};

// True when `a` is shown for a term rather than `b`: shorter, then bytewise smaller (so the
// choice depends on the spellings, never on the order videos come in).
bool preferred_word(std::string_view a, std::string_view b);

// The terms a ready video is indexed under with their weights, sorted by term, at most
// max_terms_per_video. `channel_display_name` as the card shows it.
std::vector<TermEntry> video_terms(const catalog::Video& video, std::string_view channel_display_name);

// The value of sx:{id} for these entries.
std::string encode_record(const std::vector<TermEntry>& entries);

// The video's entries (re)written, for inside the MULTI of its publish: the old ones removed
// (unindex_command), a ZADD per term, its record, the counter incremented, its terms' dictionary
// entries set (an EVAL). Applied twice, or after
// an earlier version of the video, it leaves exactly the entries of this version.
std::vector<redis::Command> index_commands(const catalog::Video& video,
                                           std::string_view channel_display_name);

// Takes the video out of every st: set its record names, updates those terms' dictionary
// entries, deletes the record and decrements the counter; does nothing for a video not indexed. An EVAL (a
// script reads the record), fit for a MULTI.
redis::Command unindex_command(int64_t video_id);

}  // namespace reel::projection::search_index
