// "Did you mean" and prefix completion for search, answered in process from a snapshot: the most
// common terms of the index with the word shown for each (projection/search_index.h: the
// dictionary) and the popular searches (what visitors searched, counted by the views aggregator).
// No Redis on the request path: a holder (projection/suggest_source.h) reads both every minute or
// so and builds a new Suggester, which requests then share.
//
// did_you_mean(query): each word of the query (the analyzer's, so folded and stemmed like the
// index) whose term is not in the snapshot, or is rare (held by fewer than rare_videos videos and
// a near word by min_gain times as many), is replaced by the nearest shown word of the dictionary:
// optimal string alignment distance (Levenshtein plus a swap of two neighbours) over code points,
// at most 1 for words of up to short_word_chars characters and 2 for longer ones; the smallest
// distance wins, then the word held by the most videos, then the bytewise smaller. Words that are
// not corrected stay as typed. Not corrected: stop words, numbers, words of fewer than
// min_word_chars or more than max_word_chars characters, CJK (their terms are bigrams). Terms
// outside the snapshot (past its top N) count as unknown: callers ask only for queries with few or
// no results.
//
// complete(prefix, limit): popular searches whose folded text starts with the folded prefix, by
// score; then, when the prefix ends inside a word, the dictionary's shown words starting with that
// last word, by how many videos hold them, each after the prefix's earlier words (folded). Folding
// is the analyzer's (case, accents, width; punctuation, quotes and '-' dropped, words joined by one
// space), so "CAFÉ m" finds "cafe music"; no two completions fold alike.
//
// Bounds: the query is read up to the analyzer's query caps (512 bytes, 16 terms); a word is
// searched for with a walk of the dictionary's trie that gives up on a branch once every prefix
// is farther than the allowed distance; completion reads at most max_prefix_bytes of the prefix and
// returns at most max_completions. Any input (10 KB, invalid UTF-8, 1,000 words, key-like text)
// costs no more than those caps allow (docs/benchmarks.md, "Suggestions").
//
// Thread-safety: a built Suggester is immutable; its const methods may run on any number of
// threads at once, each passing an Analyzer of its own (an Analyzer is not thread-safe).
// Failures: none: bad input gives nullopt or no completions. Returned text is valid UTF-8 (invalid
// bytes of a typed query read as U+FFFD).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "search/analyzer.h"

namespace reel::search {

// One entry of the dictionary: the index's term, the word shown for it, how many videos hold it.
struct DictionaryTerm {
  std::string term;
  std::string word;
  int64_t videos = 0;
};

// One popular search as shown to people, with its score (higher is more popular).
struct PopularSearch {
  std::string text;
  double score = 0;
};

struct SuggesterOptions {
  size_t min_word_chars = 3;      // shorter words are never corrected
  size_t short_word_chars = 4;    // words up to this long are corrected by one edit, longer by two
  size_t max_word_chars = 32;     // longer words are never corrected
  int64_t rare_videos = 3;        // a known term held by fewer videos may still be corrected...
  double min_gain = 10;           // ...to a word held by at least this many times as many
  size_t max_prefix_bytes = 200;  // of a completion's prefix; the rest is not read
  size_t max_completions = 20;    // whatever limit is asked
};

class Suggester {
 public:
  // An empty snapshot: no suggestions, no completions.
  Suggester() = default;

  // From the dictionary (any order; duplicate words keep the most videos; entries with an empty
  // word or term are left out) and the popular searches (any order; searches that fold alike keep
  // the best score). `analyzer` folds the popular searches; it is not kept.
  static Suggester build(std::vector<DictionaryTerm> dictionary, std::vector<PopularSearch> popular,
                         Analyzer& analyzer, const SuggesterOptions& options = {});

  // The query with its unknown or rare words corrected (what the search read of it: its first
  // AnalyzerOptions::max_query_bytes), or nullopt when no word changes.
  std::optional<std::string> did_you_mean(Analyzer& analyzer, std::string_view query) const;

  // Up to min(limit, max_completions) completions of what the visitor has typed so far.
  std::vector<std::string> complete(Analyzer& analyzer, std::string_view prefix, size_t limit) const;

  size_t dictionary_size() const { return words_.size(); }
  size_t popular_size() const { return popular_.size(); }

 private:
  struct Word {
    uint32_t begin = 0;   // in chars_
    uint32_t length = 0;  // code points
    int64_t videos = 0;
    std::string text;  // UTF-8, as shown
  };
  struct Popular {
    std::string folded;
    std::string text;
    double score = 0;
  };
  struct Nearest;

  std::u32string_view chars_of(const Word& word) const { return {chars_.data() + word.begin, word.length}; }
  // The dictionary's best word within `max_distance` of `typed` (code points) but words_[excluded],
  // or nullptr.
  const Word* nearest(std::u32string_view typed, size_t max_distance, std::optional<uint32_t> excluded) const;
  void walk(Nearest& search, size_t lo, size_t hi, size_t depth) const;
  // [first, last) of the words starting with `prefix`.
  std::pair<size_t, size_t> words_starting_with(std::u32string_view prefix) const;

  SuggesterOptions options_;
  std::u32string chars_;                                 // every word's code points, back to back
  std::vector<Word> words_;                              // sorted by code points (= by UTF-8 bytes)
  std::unordered_map<std::string, uint32_t> term_word_;  // term -> its word in words_
  std::vector<Popular> popular_;                         // sorted by folded text
};

// A text folded as completion compares it: the analyzer's folded words, in order, one space apart.
std::string fold_for_completion(Analyzer& analyzer, std::string_view text);

}  // namespace reel::search
