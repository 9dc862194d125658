// The text analyzer of search: turns titles, descriptions, tags, channel names and visitors'
// queries into index terms, the same way on both sides, so that a query finds what was indexed.
//
// A text goes through, in order:
//  1. a byte cap (AnalyzerOptions), cut at a UTF-8 character boundary; invalid UTF-8 reads as
//     U+FFFD, which is no part of any word, so bad bytes separate words and never reach a term;
//  2. ICU's word segmentation (BreakIterator, root locale): letters, numbers and CJK words; spaces,
//     punctuation, symbols and emoji are no terms;
//  3. folding, per word: NFKC with case folding (ICU's NFKC_Casefold: full-width ＡＢＣ → abc,
//     ß → ss, ligatures apart, zero-width and bidi format characters removed), then accents
//     removed: after NFD, a nonspacing mark is dropped when the letter it sits on is Latin, Greek,
//     Cyrillic, Hebrew or Arabic (café → cafe, ё → е, niqqud and harakat), the scripts whose
//     writers commonly leave marks out; elsewhere marks are spelling (Devanagari vowel signs, the
//     Japanese voicing mark of が) and stay. Dotless ı folds to i, so Turkish İSTANBUL, Istanbul,
//     ıstanbul and istanbul are one term (the default, not the Turkish, case folding, plus that
//     one fold: queries typed on any keyboard match); ’ folds to ' (dog’s = dog's);
//  4. Han, kana and Hangul: the run of such characters is cut into overlapping bigrams (東京の夜景
//     → 東京 京の の夜 夜景; a one-character run stays one term), so every two-character substring
//     of a title is a term and any query of two or more characters that is a substring finds it.
//     ICU's dictionary does segment Japanese and Chinese, but by context: it keeps 東京タワー as
//     one word, so the query 東京 would miss it; Hangul words carry their particles (서울에서).
//     A query of a single CJK character finds only titles where that character stands alone;
//  5. other words: stop words of the language are marked (indexing leaves them out), then the
//     Snowball stemmer of the language (libstemmer) gives the term (running, runs → run). It sees
//     the folded, unaccented word, so a query typed without accents stems as the title did;
//     numbers are not stemmed;
//  6. key safety: a term never holds spaces, control characters or any of : { } * ? [ ] and the
//     backslash (removed; ICU's word rules keep them out of words already), is at most max_term_bytes
//     bytes, cut at a character boundary (the same cut on both sides, so a long word still
//     matches itself). A term can be appended to a Redis key name as it is.
//
// Memory: each Analyzer remembers the stems of up to 16,384 words (about 2 MB), emptied when full.
// Thread-safety: an Analyzer is NOT thread-safe (ICU's BreakIterator and a Snowball stemmer hold
// per-call state): make one per thread — the app runs one event loop per thread, so one per loop.
// Create one per thread and keep it: ICU's data loads once per process, and the per-call state
// is reused between calls.
// Failures: create() refuses an unknown language (invalid_input) or an ICU that cannot start
// (internal); after that nothing fails: any bytes give some terms, or none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace reel::search {

// The longest term in bytes; longer words are cut to it.
inline constexpr size_t max_term_bytes = 64;

struct AnalyzerOptions {
  // A Snowball algorithm name (libstemmer: english, french, german, russian, ..., or "porter").
  // Stop words are built in for English only; other languages have none.
  std::string language = "english";
  // Indexed and highlighted text: bytes beyond max_text_bytes are not read, terms beyond
  // max_text_terms not produced (a description of 16 KB yields at most 2,048 terms).
  size_t max_text_bytes = 16 * 1024;
  size_t max_text_terms = 2048;
  // A query: bytes beyond max_query_bytes are not read, terms beyond max_query_terms dropped.
  size_t max_query_bytes = 512;
  size_t max_query_terms = 16;
};

// One distinct term of an indexed field.
struct TermCount {
  std::string term;    // what the index is keyed by (stemmed)
  std::string folded;  // its first occurrence, folded but not stemmed (for completion, "did you mean")
  uint32_t count = 0;  // occurrences in the field
};

// The terms of one field (a title, a description, a tag...), fit for per-term sorted sets: one
// ZADD per term, its score a weight computed from count, length and the field's weight.
struct FieldTerms {
  std::vector<TermCount> terms;  // distinct, sorted by term
  uint32_t length = 0;           // terms in the field, repeats counted, stop words not (BM25's |d|)
  bool truncated = false;        // a cap cut the text: later words are not indexed
};

struct QueryTerm {
  std::string term;    // as the index holds it
  std::string folded;  // as typed, folded but not stemmed: for "did you mean" and display
  bool stop_word = false;
};

// One thing the visitor typed: a word (`word`, which may analyse into several terms: hip-hop,
// 東京の夜景), a quoted phrase (`"night city"`: its terms in order), either one excluded with a
// leading '-' (`-trailer`, `-"behind the scenes"`). A clause with several terms matches a video
// holding all of them (the index keeps no positions; see Analyzer::contains_in_order for phrases).
struct QueryClause {
  std::vector<QueryTerm> terms;  // in order, stop words included (marked)
  bool quoted = false;
  bool excluded = false;
};

struct Query {
  std::vector<QueryClause> clauses;  // in the order typed; clauses without terms are left out
  bool truncated = false;            // a cap cut the query: later words are ignored

  // The distinct terms every result must contain: those of clauses not excluded, stop words left
  // out (the index holds none). Empty: nothing to search (no words, only exclusions, or only stop
  // words — only_stop_words() tells which).
  std::vector<std::string> required_terms() const;
  // True when the clauses not excluded have terms and every one is a stop word ("the who"): the
  // caller shows a page saying so (the index holds no stop words to search).
  bool only_stop_words() const;
  // What the query asks, written one way: the same for queries that differ only in case, accents,
  // spacing, stop words outside quotes, the order of words or repeated words ("Funny  cats" and
  // "the cats funny" give "cat funni"), so a cached result serves both. Items sorted, separated
  // by spaces: a term, "-term", "\"phrase terms\"" (stop words kept), -(terms of one excluded
  // word). Not a key as it is (spaces, quotes): hash it into one.
  std::string canonical() const;
};

// A byte range [begin, end) of an original text; both ends fall on UTF-8 character boundaries.
struct ByteRange {
  size_t begin = 0;
  size_t end = 0;
  bool operator==(const ByteRange&) const = default;
};

class Analyzer {
 public:
  static Result<Analyzer> create(const AnalyzerOptions& options = {});

  Analyzer(Analyzer&&) noexcept;
  Analyzer& operator=(Analyzer&&) noexcept;
  ~Analyzer();

  // The terms of one field of a video, for the index.
  FieldTerms index_terms(std::string_view text);

  // A visitor's query: words, "quoted phrases", -exclusions; anything else is read as text.
  Query parse_query(std::string_view text);

  // Where `text` (a title as stored) holds words whose term is one of `terms` (say,
  // Query::required_terms()): sorted, overlapping and touching ranges merged, within the first
  // max_text_bytes. For wrapping matched words in <mark> (escape each piece separately).
  std::vector<ByteRange> highlight(std::string_view text, std::span<const std::string> terms);

  // The URL suffix for a title (/watch/12-cafe-senor): its words folded as the index folds them
  // (lower case, accents of Latin, Greek, Cyrillic, Hebrew and Arabic letters removed), joined by
  // '-'; punctuation, symbols and emoji left out, an apostrophe dropped (directors-cut); whole words
  // up to `max_bytes` (a first word longer than that is cut at a character boundary). Letters of
  // every script stay (東京-night), so a title in any language has a slug; pages percent-encode it.
  // Empty when the title has no word.
  std::string slug(std::string_view text, size_t max_bytes = 80);

  // True when `text` holds the terms of `clause` one right after the other, stop words included
  // ("night in the city" needs its "in the"): what the index cannot tell for a quoted phrase, so
  // checked on the candidates' titles. False for a clause without terms.
  bool contains_in_order(std::string_view text, const QueryClause& clause);

 private:
  struct State;
  explicit Analyzer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// This thread's analyzer with the default options (the catalog's language: English), made on the
// thread's first call and kept for its life (about 2 MB with a full stem memo): what the index,
// the query planner and the pages share, one per thread.
Analyzer& thread_analyzer();

}  // namespace reel::search
