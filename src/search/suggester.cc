#include "search/suggester.h"

#include <unicode/utf8.h>

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "common/text.h"

namespace reel::search {
namespace {

// The code points of `text`; invalid UTF-8 reads as U+FFFD.
std::u32string decode(std::string_view text) {
  std::u32string chars;
  chars.reserve(text.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length =
      static_cast<int32_t>(std::min<size_t>(text.size(), std::numeric_limits<int32_t>::max()));
  for (int32_t i = 0; i < length;) {
    UChar32 c = 0;
    U8_NEXT(bytes, i, length, c);
    chars.push_back(c < 0 ? U'\uFFFD' : static_cast<char32_t>(c));
  }
  return chars;
}

void append_utf8(std::string& out, char32_t c) {
  uint8_t bytes[U8_MAX_LENGTH];
  int32_t length = 0;
  UBool failed = false;
  U8_APPEND(bytes, length, U8_MAX_LENGTH, static_cast<UChar32>(c), failed);
  if (!failed) out.append(reinterpret_cast<const char*>(bytes), static_cast<size_t>(length));
}

// `text` as valid UTF-8: each invalid sequence becomes U+FFFD.
void append_valid(std::string& out, std::string_view text) {
  for (char32_t c : decode(text)) append_utf8(out, c);
}

// Han, kana, Hangul and the CJK symbols and compatibility blocks: the analyzer cuts such runs into
// bigrams, which are no words to correct.
bool cjk(char32_t c) {
  return (c >= 0x2E80 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFF66 && c <= 0xFFDC) || (c >= 0x20000 && c <= 0x3FFFF);
}

bool correctable(std::u32string_view word, const SuggesterOptions& options) {
  if (word.size() < options.min_word_chars || word.size() > options.max_word_chars) return false;
  if (std::all_of(word.begin(), word.end(), [](char32_t c) { return c >= U'0' && c <= U'9'; })) return false;
  return std::none_of(word.begin(), word.end(), cjk);
}

std::string joined(const std::vector<std::string>& words, size_t count) {
  std::string text;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) text += ' ';
    text += words[i];
  }
  return text;
}

// The folded words of `text`, in order.
std::vector<std::string> folded_words(Analyzer& analyzer, std::string_view text) {
  std::vector<std::string> words;
  for (const QueryClause& clause : analyzer.parse_query(text).clauses) {
    for (const QueryTerm& term : clause.terms) words.push_back(term.folded);
  }
  return words;
}

}  // namespace

std::string fold_for_completion(Analyzer& analyzer, std::string_view text) {
  const std::vector<std::string> words = folded_words(analyzer, text);
  return joined(words, words.size());
}

Suggester Suggester::build(std::vector<DictionaryTerm> dictionary, std::vector<PopularSearch> popular,
                           Analyzer& analyzer, const SuggesterOptions& options) {
  Suggester suggester;
  suggester.options_ = options;

  struct Decoded {
    std::u32string chars;
    size_t entry;
  };
  std::vector<Decoded> decoded;
  decoded.reserve(dictionary.size());
  for (size_t i = 0; i < dictionary.size(); ++i) {
    if (dictionary[i].term.empty() || dictionary[i].word.empty()) continue;
    decoded.push_back({decode(dictionary[i].word), i});
  }
  std::sort(decoded.begin(), decoded.end(), [&](const Decoded& a, const Decoded& b) {
    if (a.chars != b.chars) return a.chars < b.chars;
    return dictionary[a.entry].videos > dictionary[b.entry].videos;
  });
  for (const Decoded& word : decoded) {
    // A word given twice (an odd dictionary: one word, two terms) is kept once, with the most videos.
    if (!suggester.words_.empty() && suggester.chars_of(suggester.words_.back()) == word.chars) continue;
    const DictionaryTerm& entry = dictionary[word.entry];
    Word stored{static_cast<uint32_t>(suggester.chars_.size()), static_cast<uint32_t>(word.chars.size()),
                entry.videos, std::string()};
    append_valid(stored.text, entry.word);
    suggester.chars_ += word.chars;
    suggester.words_.push_back(std::move(stored));
  }
  // Each term's word, for knowing whether a typed word's term is common and for not offering a
  // word as its own correction.
  for (const Decoded& word : decoded) {
    auto found = std::lower_bound(
        suggester.words_.begin(), suggester.words_.end(), std::u32string_view(word.chars),
        [&](const Word& w, std::u32string_view chars) { return suggester.chars_of(w) < chars; });
    suggester.term_word_.emplace(std::move(dictionary[word.entry].term),
                                 static_cast<uint32_t>(found - suggester.words_.begin()));
  }

  suggester.popular_.reserve(popular.size());
  for (PopularSearch& search : popular) {
    std::string folded = fold_for_completion(analyzer, search.text);
    if (folded.empty()) continue;
    std::string text;
    append_valid(text, search.text);
    suggester.popular_.push_back({std::move(folded), std::move(text), search.score});
  }
  std::sort(suggester.popular_.begin(), suggester.popular_.end(), [](const Popular& a, const Popular& b) {
    return a.folded != b.folded ? a.folded < b.folded : a.score > b.score;
  });
  suggester.popular_.erase(
      std::unique(suggester.popular_.begin(), suggester.popular_.end(),
                  [](const Popular& a, const Popular& b) { return a.folded == b.folded; }),
      suggester.popular_.end());
  return suggester;
}

// The state of one nearest() walk: the dynamic-programming rows of the distance between each
// prefix on the path and the typed word, and the best word found so far.
struct Suggester::Nearest {
  std::u32string_view typed;
  size_t max_distance = 0;
  std::optional<uint32_t> excluded;  // the typed word's own term's word
  std::vector<uint32_t> rows;        // row d at [d * width, (d + 1) * width)
  size_t width = 0;                  // typed.size() + 1
  const Word* best = nullptr;
  size_t best_distance = 0;

  uint32_t* row(size_t depth) { return rows.data() + depth * width; }

  // The largest distance still worth finding: a nearer word always wins, so once a word is found
  // nothing farther than it matters.
  size_t bound() const { return best == nullptr ? max_distance : std::min(max_distance, best_distance); }

  void offer(const Word& word, size_t distance) {
    if (distance > bound()) return;
    if (best == nullptr || distance < best_distance ||
        (distance == best_distance &&
         (word.videos > best->videos || (word.videos == best->videos && word.text < best->text)))) {
      best = &word;
      best_distance = distance;
    }
  }
};

const Suggester::Word* Suggester::nearest(std::u32string_view typed, size_t max_distance,
                                          std::optional<uint32_t> excluded) const {
  // One edit first: most typos are one, and that walk is far narrower; two only when it found none.
  if (max_distance > 1) {
    if (const Word* near = nearest(typed, 1, excluded)) return near;
  }
  Nearest search;
  search.typed = typed;
  search.max_distance = max_distance;
  search.excluded = excluded;
  search.width = typed.size() + 1;
  // No word longer than typed + max_distance is near; the walk never goes deeper than one past it.
  search.rows.assign((typed.size() + max_distance + 2) * search.width, 0);
  for (size_t j = 0; j < search.width; ++j) search.row(0)[j] = static_cast<uint32_t>(j);
  walk(search, 0, words_.size(), 0);
  return search.best;
}

// Words [lo, hi) share their first `depth` code points and are longer than that; search.row(depth)
// holds the distances of that prefix. Each child (the next code point) gets its row; a child whose
// row has nothing within max_distance has no near word below it (the row's minimum never falls
// as the prefix grows, a swap included), so it is skipped.
void Suggester::walk(Nearest& search, size_t lo, size_t hi, size_t depth) const {
  const std::u32string_view typed = search.typed;
  const size_t m = typed.size();
  if ((depth + 2) * search.width > search.rows.size()) return;
  const uint32_t* above = search.row(depth);
  const uint32_t* above2 = depth > 0 ? search.row(depth - 1) : nullptr;
  uint32_t* current = search.row(depth + 1);
  for (size_t first = lo; first < hi;) {
    const char32_t c = chars_of(words_[first])[depth];
    // The child's end: galloping from its start (most children are small), then a binary search.
    size_t known = first;
    size_t bound = first + 1;
    for (size_t step = 2; bound < hi && chars_of(words_[bound])[depth] == c; step *= 2) {
      known = bound;
      bound = std::min(hi, first + step);
    }
    const size_t last =
        static_cast<size_t>(std::partition_point(words_.begin() + static_cast<ptrdiff_t>(known + 1),
                                                 words_.begin() + static_cast<ptrdiff_t>(bound),
                                                 [&](const Word& w) { return chars_of(w)[depth] == c; }) -
                            words_.begin());
    const char32_t before = depth > 0 ? chars_of(words_[first])[depth - 1] : 0;
    current[0] = static_cast<uint32_t>(depth + 1);
    uint32_t lowest = current[0];
    for (size_t j = 1; j <= m; ++j) {
      uint32_t d = std::min({above[j] + 1, current[j - 1] + 1, above[j - 1] + (typed[j - 1] == c ? 0u : 1u)});
      if (above2 != nullptr && j >= 2 && typed[j - 1] == before && typed[j - 2] == c)
        d = std::min(d, above2[j - 2] + 1);
      current[j] = d;
      lowest = std::min(lowest, d);
    }
    if (lowest <= search.bound()) {
      size_t below = first;
      if (words_[first].length == depth + 1) {
        if (!search.excluded || *search.excluded != first) search.offer(words_[first], current[m]);
        ++below;
      }
      if (below < last) walk(search, below, last, depth + 1);
    }
    first = last;
  }
}

std::pair<size_t, size_t> Suggester::words_starting_with(std::u32string_view prefix) const {
  auto first = std::lower_bound(words_.begin(), words_.end(), prefix,
                                [&](const Word& w, std::u32string_view p) { return chars_of(w) < p; });
  auto last = std::partition_point(first, words_.end(),
                                   [&](const Word& w) { return chars_of(w).starts_with(prefix); });
  return {static_cast<size_t>(first - words_.begin()), static_cast<size_t>(last - words_.begin())};
}

std::optional<std::string> Suggester::did_you_mean(Analyzer& analyzer, std::string_view query) const {
  if (words_.empty()) return std::nullopt;
  const std::string_view read = utf8_prefix(query, AnalyzerOptions{}.max_query_bytes);
  std::unordered_map<std::string, std::string> corrections;  // term -> the word to show instead
  for (const QueryClause& clause : analyzer.parse_query(read).clauses) {
    for (const QueryTerm& typed : clause.terms) {
      if (typed.stop_word || corrections.contains(typed.term)) continue;
      const std::u32string chars = decode(typed.folded);
      if (!correctable(chars, options_)) continue;
      std::optional<uint32_t> own;
      int64_t known = 0;
      if (auto found = term_word_.find(typed.term); found != term_word_.end()) {
        own = found->second;
        known = words_[found->second].videos;
      }
      if (known >= options_.rare_videos) continue;
      const Word* best = nearest(chars, chars.size() <= options_.short_word_chars ? 1 : 2, own);
      if (best == nullptr || best->text == typed.folded) continue;
      if (known > 0 && static_cast<double>(best->videos) < options_.min_gain * static_cast<double>(known))
        continue;
      corrections.emplace(typed.term, best->text);
    }
  }
  if (corrections.empty()) return std::nullopt;

  std::vector<std::string> terms;
  for (const auto& [term, word] : corrections) terms.push_back(term);
  std::string corrected;
  size_t at = 0;
  bool changed = false;
  for (const ByteRange& range : analyzer.highlight(read, terms)) {
    if (range.begin < at || range.end > read.size()) continue;
    const std::string_view piece = read.substr(range.begin, range.end - range.begin);
    const Query one = analyzer.parse_query(piece);
    if (one.clauses.size() != 1 || one.clauses[0].terms.size() != 1) continue;  // words run together
    auto found = corrections.find(one.clauses[0].terms[0].term);
    if (found == corrections.end()) continue;
    append_valid(corrected, read.substr(at, range.begin - at));
    corrected += found->second;
    at = range.end;
    changed = true;
  }
  if (!changed) return std::nullopt;
  append_valid(corrected, read.substr(at));
  return corrected;
}

std::vector<std::string> Suggester::complete(Analyzer& analyzer, std::string_view prefix,
                                             size_t limit) const {
  std::vector<std::string> completions;
  limit = std::min(limit, options_.max_completions);
  if (limit == 0) return completions;
  prefix = utf8_prefix(prefix, options_.max_prefix_bytes);
  const std::vector<std::string> words = folded_words(analyzer, prefix);
  if (words.empty()) return completions;
  const char end = prefix.back();
  const bool inside_word =
      !(end == ' ' || end == '\t' || end == '\n' || end == '\r' || end == '\f' || end == '\v');
  std::string key = joined(words, words.size());
  if (!inside_word) key += ' ';

  std::unordered_set<std::string> folded_seen;
  auto from = std::lower_bound(popular_.begin(), popular_.end(), key,
                               [](const Popular& p, const std::string& k) { return p.folded < k; });
  std::vector<const Popular*> matching;
  for (auto it = from; it != popular_.end() && std::string_view(it->folded).starts_with(key); ++it)
    matching.push_back(&*it);
  const size_t popular_shown = std::min(limit, matching.size());
  std::partial_sort(matching.begin(), matching.begin() + static_cast<ptrdiff_t>(popular_shown),
                    matching.end(), [](const Popular* a, const Popular* b) {
                      return a->score != b->score ? a->score > b->score : a->folded < b->folded;
                    });
  for (size_t i = 0; i < popular_shown; ++i) {
    folded_seen.insert(matching[i]->folded);
    completions.push_back(matching[i]->text);
  }
  if (!inside_word || completions.size() >= limit) return completions;

  const std::u32string last = decode(words.back());
  const std::string earlier = joined(words, words.size() - 1);
  auto [first, past] = words_starting_with(last);
  std::vector<uint32_t> candidates;
  candidates.reserve(past - first);
  for (size_t i = first; i < past; ++i) candidates.push_back(static_cast<uint32_t>(i));
  // A candidate may fold like a popular search already shown: sort enough to fill up after those.
  const size_t wanted = std::min(candidates.size(), limit + popular_shown);
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<ptrdiff_t>(wanted), candidates.end(),
                    [&](uint32_t a, uint32_t b) {
                      return words_[a].videos != words_[b].videos ? words_[a].videos > words_[b].videos
                                                                  : a < b;
                    });
  for (size_t i = 0; i < wanted && completions.size() < limit; ++i) {
    const uint32_t index = candidates[i];
    std::string text = earlier.empty() ? words_[index].text : earlier + ' ' + words_[index].text;
    if (!folded_seen.insert(text).second) continue;
    completions.push_back(std::move(text));
  }
  return completions;
}

}  // namespace reel::search
