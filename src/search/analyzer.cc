#include "search/analyzer.h"

#include <libstemmer.h>
#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utext.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common/text.h"
#include "search/stop_words.h"

namespace reel::search {
namespace {

// A word of a text on its way to a term.
struct Token {
  std::string term;    // key-safe; stemmed when the word is one of letters (not a number, CJK, a stop word)
  std::string folded;  // key-safe, not stemmed
  size_t begin = 0;    // its bytes in the original text
  size_t end = 0;
  bool stop_word = false;
};

// A character of a run of Han, kana or Hangul, folded, with its bytes in the original text.
struct CjkChar {
  std::string folded;
  size_t begin = 0;
  size_t end = 0;
};

struct StemmerDelete {
  void operator()(sb_stemmer* stemmer) const { sb_stemmer_delete(stemmer); }
};

// What a term may not hold (see the header): separators, controls and Redis glob and hash-tag
// characters, so a term appended to a key name is one safe key.
bool forbidden_in_term(UChar32 c) {
  switch (c) {
    case ':':
    case '{':
    case '}':
    case '*':
    case '?':
    case '[':
    case ']':
    case '\\':
      return true;
    default:
      if (c < 0x80) return c <= 0x20 || c == 0x7F;
      return c <= 0x9F || u_isUWhiteSpace(c);
  }
}

// Scripts whose nonspacing marks writers commonly leave out (accents, Greek tonos, Russian ё's
// diaeresis, Hebrew niqqud, Arabic harakat), so folding drops them. Common and Inherited: marks
// on digits and symbols, and marks with no letter before them.
bool marks_are_optional(UScriptCode script) {
  switch (script) {
    case USCRIPT_LATIN:
    case USCRIPT_GREEK:
    case USCRIPT_CYRILLIC:
    case USCRIPT_HEBREW:
    case USCRIPT_ARABIC:
    case USCRIPT_COMMON:
    case USCRIPT_INHERITED:
      return true;
    default:
      return false;
  }
}

bool is_ascii(std::string_view text) {
  return std::ranges::all_of(text, [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Code points in UTF-8 `text` (an ill-formed sequence counts as one, as ICU reads it).
size_t code_points(std::string_view text) {
  size_t count = 0;
  for (int32_t i = 0, length = static_cast<int32_t>(text.size()); i < length; ++count) {
    UChar32 c;
    U8_NEXT(text.data(), i, length, c);
  }
  return count;
}

void cap_term(std::string& term) {
  term.resize(utf8_prefix(term, max_term_bytes).size());
}

bool is_cjk(int32_t rule_status, std::string_view word) {
  if (rule_status >= UBRK_WORD_KANA && rule_status < UBRK_WORD_IDEO_LIMIT) return true;
  if (rule_status < UBRK_WORD_LETTER || rule_status >= UBRK_WORD_LETTER_LIMIT) return false;
  if (static_cast<unsigned char>(word[0]) < 0x80) return false;  // ASCII: not Hangul, without ICU
  // Hangul words are letters to ICU (spaces separate them), but they carry their particles
  // (서울에서, "in Seoul"): bigrams find 서울 in them.
  int32_t i = 0;
  UChar32 first;
  U8_NEXT(word.data(), i, static_cast<int32_t>(word.size()), first);
  UErrorCode status = U_ZERO_ERROR;
  return uscript_getScript(first, &status) == USCRIPT_HANGUL;
}

}  // namespace

struct Analyzer::State {
  AnalyzerOptions options;
  std::unique_ptr<icu::BreakIterator> words;
  const icu::Normalizer2* nfkc_casefold = nullptr;
  const icu::Normalizer2* nfd = nullptr;
  const icu::Normalizer2* nfc = nullptr;
  std::unique_ptr<sb_stemmer, StemmerDelete> stemmer;
  std::unordered_set<std::string_view> stop_words;  // a hash: looked up for every word
  // Reused between calls, so a call allocates only its terms.
  std::vector<Token> tokens;
  std::vector<CjkChar> cjk_run;
  std::unordered_map<std::string, std::string> stem_memo;  // folded word → its stem
  static constexpr size_t stem_memo_capacity = 16 * 1024;

  // `word` (UTF-8, ill-formed sequences read as U+FFFD) folded: NFKC_Casefold, optional marks
  // removed, ı → i, ’ → ', characters a term may not hold removed; capped to max_term_bytes.
  std::string fold(std::string_view word) const {
    std::string out;
    if (is_ascii(word)) {
      // NFKC_Casefold maps ASCII to itself but for A-Z, and ASCII has no marks: the same result,
      // without ICU, for most words of an English catalog.
      out.reserve(word.size());
      for (char c : word) {
        if (!forbidden_in_term(static_cast<unsigned char>(c))) out.push_back(ascii_lower(c));
      }
    } else {
      UErrorCode status = U_ZERO_ERROR;
      const auto source =
          icu::UnicodeString::fromUTF8(icu::StringPiece(word.data(), static_cast<int32_t>(word.size())));
      const icu::UnicodeString decomposed = nfd->normalize(nfkc_casefold->normalize(source, status), status);
      icu::UnicodeString kept;
      bool drop_marks = true;  // a mark with no letter before it
      for (int32_t i = 0; i < decomposed.length();) {
        UChar32 c = decomposed.char32At(i);
        i += U16_LENGTH(c);
        if (u_charType(c) == U_NON_SPACING_MARK) {
          if (!drop_marks) kept.append(c);
          continue;
        }
        UErrorCode script_status = U_ZERO_ERROR;
        drop_marks = marks_are_optional(uscript_getScript(c, &script_status));
        if (c == 0x0131) c = 'i';  // dotless ı: see the header
        if (c == 0x2019) c = '\'';
        if (!forbidden_in_term(c)) kept.append(c);
      }
      const icu::UnicodeString composed = nfc->normalize(kept, status);
      if (U_FAILURE(status)) return {};
      composed.toUTF8String(out);
    }
    cap_term(out);
    return out;
  }

  // The stem of `folded`, from the memo when this analyzer stemmed the word before: the stemmer is
  // a third of an English text's cost (about 200 ns a word) and a catalog's words repeat
  // (docs/benchmarks.md §15). The memo is emptied when full, so it stays under stem_memo_capacity
  // words (about 2 MB).
  std::string stem(const std::string& folded) {
    if (const auto remembered = stem_memo.find(folded); remembered != stem_memo.end())
      return remembered->second;
    const sb_symbol* stemmed = sb_stemmer_stem(
        stemmer.get(), reinterpret_cast<const sb_symbol*>(folded.data()), static_cast<int>(folded.size()));
    if (stemmed == nullptr) return folded;  // out of memory: the word unstemmed is still a term
    std::string term(reinterpret_cast<const char*>(stemmed),
                     static_cast<size_t>(sb_stemmer_length(stemmer.get())));
    cap_term(term);
    if (stem_memo.size() >= stem_memo_capacity) stem_memo.clear();
    stem_memo.emplace(folded, term);
    return term;
  }

  bool is_stop_word(std::string_view folded) const { return stop_words.contains(folded); }

  // Appends the folded characters of a Han/kana/Hangul word to cjk_run. Each keeps its own bytes
  // when folding kept one character for one (the usual case); otherwise (half-width ｶﾞ → ガ)
  // every character of the word points at the whole word.
  void add_cjk_word(std::string_view text, size_t begin, size_t end) {
    const std::string_view word = text.substr(begin, end - begin);
    const std::string folded = fold(word);
    const bool one_for_one = code_points(folded) == code_points(word);
    const auto folded_length = static_cast<int32_t>(folded.size());
    const auto word_length = static_cast<int32_t>(word.size());
    for (int32_t i = 0, j = 0; i < folded_length;) {
      const int32_t folded_start = i;
      UChar32 c;
      U8_NEXT(folded.data(), i, folded_length, c);
      CjkChar next{folded.substr(folded_start, i - folded_start), begin, end};
      if (one_for_one) {
        const int32_t word_start = j;
        U8_NEXT(word.data(), j, word_length, c);
        next.begin = begin + word_start;
        next.end = begin + j;
      }
      cjk_run.push_back(std::move(next));
    }
  }

  // Adds a token unless `out` holds max_terms already; false then (the text was cut).
  static bool emit(std::vector<Token>& out, size_t max_terms, Token token) {
    if (out.size() >= max_terms) return false;
    out.push_back(std::move(token));
    return true;
  }

  // Overlapping bigrams of cjk_run (the character alone when it is the only one), then clears it.
  bool flush_cjk(std::vector<Token>& out, size_t max_terms) {
    bool room = true;
    if (cjk_run.size() == 1) {
      room = emit(out, max_terms, {cjk_run[0].folded, cjk_run[0].folded, cjk_run[0].begin, cjk_run[0].end});
    }
    for (size_t i = 0; room && i + 1 < cjk_run.size(); ++i) {
      std::string bigram = cjk_run[i].folded + cjk_run[i + 1].folded;
      cap_term(bigram);
      room = emit(out, max_terms, {bigram, bigram, cjk_run[i].begin, cjk_run[i + 1].end});
    }
    cjk_run.clear();
    return room;
  }

  // Points the word iterator at `text`, which must outlive its use; false when ICU refuses it.
  bool segment(std::string_view text) {
    UErrorCode status = U_ZERO_ERROR;
    UText utext = UTEXT_INITIALIZER;
    utext_openUTF8(&utext, text.data(), static_cast<int64_t>(text.size()), &status);
    words->setText(&utext, status);  // a shallow clone: `utext` may be closed, `text` must live
    utext_close(&utext);
    return U_SUCCESS(status);
  }

  // The tokens of `text` (already byte-capped) into `out`, at most max_terms; true when the cap
  // left words out.
  bool tokenize(std::string_view text, size_t max_terms, std::vector<Token>& out) {
    out.clear();
    cjk_run.clear();
    if (!segment(text)) return false;
    bool room = true;
    int32_t begin = words->first();
    for (int32_t end = words->next(); room && end != icu::BreakIterator::DONE;
         begin = end, end = words->next()) {
      const int32_t rule_status = words->getRuleStatus();
      const auto word_begin = static_cast<size_t>(begin);
      const auto word_end = static_cast<size_t>(end);
      const std::string_view word = text.substr(word_begin, word_end - word_begin);
      if (is_cjk(rule_status, word)) {
        add_cjk_word(text, word_begin, word_end);
        continue;
      }
      room = flush_cjk(out, max_terms);
      if (!room || rule_status < UBRK_WORD_NONE_LIMIT) continue;  // spaces, punctuation, emoji
      std::string folded = fold(word);
      if (folded.empty()) continue;  // only format characters, say
      const bool letters = rule_status >= UBRK_WORD_LETTER;
      const bool stop_word = letters && is_stop_word(folded);
      // A stop word is its own term: the index leaves it out, so stemming it (a third of the words
      // of English text, and the stemmer is most of the cost) would be wasted.
      std::string term = letters && !stop_word ? stem(folded) : folded;
      if (term.empty()) continue;
      room = emit(out, max_terms, {std::move(term), std::move(folded), word_begin, word_end, stop_word});
    }
    if (room) room = flush_cjk(out, max_terms);
    return !room;
  }
};

Result<Analyzer> Analyzer::create(const AnalyzerOptions& options) {
  auto state = std::make_unique<State>();
  state->options = options;
  state->stemmer.reset(sb_stemmer_new(options.language.c_str(), "UTF_8"));
  if (!state->stemmer) {
    return Error{"search: no Snowball stemmer for the language \"" + options.language + "\"",
                 ErrorKind::invalid_input};
  }
  for (std::string_view word : stop_words(options.language)) state->stop_words.insert(word);
  UErrorCode status = U_ZERO_ERROR;
  state->words.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
  state->nfkc_casefold = icu::Normalizer2::getNFKCCasefoldInstance(status);
  state->nfd = icu::Normalizer2::getNFDInstance(status);
  state->nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status) || !state->words) {
    return Error{std::string("search: ICU could not start: ") + u_errorName(status), ErrorKind::internal};
  }
  return Analyzer(std::move(state));
}

Analyzer::Analyzer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;
Analyzer::~Analyzer() = default;

FieldTerms Analyzer::index_terms(std::string_view text) {
  State& state = *state_;
  const std::string_view capped = utf8_prefix(text, state.options.max_text_bytes);
  FieldTerms field;
  field.truncated =
      state.tokenize(capped, state.options.max_text_terms, state.tokens) || capped.size() < text.size();
  std::vector<const Token*> kept;
  kept.reserve(state.tokens.size());
  for (const Token& token : state.tokens) {
    if (!token.stop_word) kept.push_back(&token);
  }
  // Stable: each term keeps the folded form of its first occurrence.
  std::ranges::stable_sort(kept, {}, &Token::term);
  for (const Token* token : kept) {
    if (field.terms.empty() || field.terms.back().term != token->term) {
      field.terms.push_back({token->term, token->folded, 0});
    }
    ++field.terms.back().count;
  }
  field.length = static_cast<uint32_t>(kept.size());
  return field;
}

std::string Analyzer::slug(std::string_view text, size_t max_bytes) {
  State& state = *state_;
  const std::string_view capped = utf8_prefix(text, state.options.max_text_bytes);
  std::string slug;
  if (!state.segment(capped)) return slug;
  int32_t begin = state.words->first();
  for (int32_t end = state.words->next(); end != icu::BreakIterator::DONE;
       begin = end, end = state.words->next()) {
    if (state.words->getRuleStatus() < UBRK_WORD_NONE_LIMIT) continue;  // spaces, punctuation, emoji
    // In a word, ASCII other than letters and digits ("dog's", "3.5") is dropped or a separator.
    std::string word;
    for (const char c :
         state.fold(capped.substr(static_cast<size_t>(begin), static_cast<size_t>(end - begin)))) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte >= 0x80 || std::isalnum(byte)) {
        word.push_back(c);
      } else if (c != '\'' && !word.empty() && word.back() != '-') {
        word.push_back('-');
      }
    }
    while (!word.empty() && word.back() == '-') word.pop_back();
    if (word.empty()) continue;
    const size_t room = max_bytes - std::min(max_bytes, slug.size() + (slug.empty() ? 0 : 1));
    if (word.size() > room) {
      if (slug.empty()) {  // one word longer than a slug: its start, without a '-' it was cut at
        slug = utf8_prefix(word, room);
        while (!slug.empty() && slug.back() == '-') slug.pop_back();
      }
      break;
    }
    if (!slug.empty()) slug.push_back('-');
    slug += word;
  }
  return slug;
}

namespace {

bool is_quote(UChar32 c) {
  return c == '"' || c == 0x201C || c == 0x201D || c == 0x201E || c == 0xFF02;
}

// Spaces and controls (\r\n, tabs) separate the words of a query.
bool is_separator(UChar32 c) {
  return c < 0x20 || u_isUWhiteSpace(c);
}

}  // namespace

Query Analyzer::parse_query(std::string_view text) {
  State& state = *state_;
  const std::string_view capped = utf8_prefix(text, state.options.max_query_bytes);
  Query query;
  query.truncated = capped.size() < text.size();
  size_t terms_left = state.options.max_query_terms;
  const auto length = static_cast<int32_t>(capped.size());
  // Reads the code point at `at` (U+FFFD-like negative for ill-formed bytes) and its end.
  const auto next = [&](int32_t at, int32_t& after) {
    UChar32 c;
    after = at;
    U8_NEXT(capped.data(), after, length, c);
    return c;
  };
  int32_t i = 0;
  while (i < length) {
    int32_t after = 0;
    UChar32 c = next(i, after);
    if (c >= 0 && is_separator(c)) {
      i = after;
      continue;
    }
    QueryClause clause;
    if (c == '-' && after < length) {
      clause.excluded = true;
      i = after;
      c = next(i, after);
    }
    int32_t chunk_begin = i;
    int32_t chunk_end = i;
    if (c >= 0 && is_quote(c)) {
      clause.quoted = true;
      chunk_begin = chunk_end = after;
      while (chunk_end < length && !is_quote(next(chunk_end, after))) chunk_end = after;
      i = chunk_end < length ? after : length;  // past the closing quote; an open quote runs to the end
    } else {
      while (chunk_end < length) {
        c = next(chunk_end, after);
        if (c >= 0 && (is_separator(c) || is_quote(c))) break;
        chunk_end = after;
      }
      i = chunk_end;
    }
    const std::string_view chunk = capped.substr(chunk_begin, chunk_end - chunk_begin);
    const bool cut = state.tokenize(chunk, terms_left, state.tokens);
    terms_left -= state.tokens.size();
    for (Token& token : state.tokens) {
      clause.terms.push_back({std::move(token.term), std::move(token.folded), token.stop_word});
    }
    if (!clause.terms.empty()) query.clauses.push_back(std::move(clause));
    if (cut) {
      query.truncated = true;
      break;
    }
  }
  return query;
}

std::vector<ByteRange> Analyzer::highlight(std::string_view text, std::span<const std::string> terms) {
  State& state = *state_;
  std::vector<std::string_view> wanted(terms.begin(), terms.end());
  std::ranges::sort(wanted);
  std::vector<ByteRange> ranges;
  state.tokenize(utf8_prefix(text, state.options.max_text_bytes), state.options.max_text_terms, state.tokens);
  for (const Token& token : state.tokens) {
    if (!std::ranges::binary_search(wanted, std::string_view(token.term))) continue;
    // Tokens come in text order; bigrams of a CJK run overlap.
    if (!ranges.empty() && token.begin <= ranges.back().end) {
      ranges.back().end = std::max(ranges.back().end, token.end);
    } else {
      ranges.push_back({token.begin, token.end});
    }
  }
  return ranges;
}

bool Analyzer::contains_in_order(std::string_view text, const QueryClause& clause) {
  State& state = *state_;
  if (clause.terms.empty()) return false;
  state.tokenize(utf8_prefix(text, state.options.max_text_bytes), state.options.max_text_terms, state.tokens);
  const auto same_term = [](const Token& token, const QueryTerm& term) { return token.term == term.term; };
  return !std::ranges::search(state.tokens, clause.terms, same_term).empty();
}

std::vector<std::string> Query::required_terms() const {
  std::vector<std::string> terms;
  for (const QueryClause& clause : clauses) {
    if (clause.excluded) continue;
    for (const QueryTerm& term : clause.terms) {
      if (!term.stop_word && std::ranges::find(terms, term.term) == terms.end()) terms.push_back(term.term);
    }
  }
  return terms;
}

std::string Query::canonical() const {
  const auto joined = [](const std::vector<QueryTerm>& terms, bool keep_stop_words) {
    std::string text;
    for (const QueryTerm& term : terms) {
      if (term.stop_word && !keep_stop_words) continue;
      if (!text.empty()) text += ' ';
      text += term.term;
    }
    return text;
  };
  std::vector<std::string> items;
  for (const QueryClause& clause : clauses) {
    const std::string prefix = clause.excluded ? "-" : "";
    if (clause.quoted) {
      items.push_back(prefix + '"' + joined(clause.terms, true) + '"');
    } else if (!clause.excluded) {
      for (const QueryTerm& term : clause.terms) {
        if (!term.stop_word) items.push_back(term.term);
      }
    } else if (const std::string terms = joined(clause.terms, false); !terms.empty()) {
      items.push_back(clause.terms.size() == 1 ? "-" + terms : "-(" + terms + ")");
    }
  }
  std::ranges::sort(items);
  const auto [repeats, end] = std::ranges::unique(items);
  items.erase(repeats, end);
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += ' ';
    text += item;
  }
  return text;
}

bool Query::only_stop_words() const {
  bool any = false;
  for (const QueryClause& clause : clauses) {
    if (clause.excluded) continue;
    for (const QueryTerm& term : clause.terms) {
      if (!term.stop_word) return false;
      any = true;
    }
  }
  return any;
}

Analyzer& thread_analyzer() {
  thread_local Analyzer analyzer = [] {
    auto made = Analyzer::create();
    if (!made) {
      // Cannot happen with ICU and libstemmer linked in: English is built into both.
      std::fprintf(stderr, "search analyzer: %s\n", made.error().message.c_str());
      std::abort();
    }
    return std::move(*made);
  }();
  return analyzer;
}

}  // namespace reel::search
