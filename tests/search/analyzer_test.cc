#include "search/analyzer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "common/text.h"

namespace reel::search {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::IsSubsetOf;
using ::testing::SizeIs;

Analyzer make_analyzer(const AnalyzerOptions& options = {}) {
  auto analyzer = Analyzer::create(options);
  EXPECT_TRUE(analyzer.ok()) << analyzer.error().message;
  return std::move(analyzer).value();
}

std::vector<std::string> index_terms(Analyzer& analyzer, std::string_view text) {
  std::vector<std::string> terms;
  for (const TermCount& term : analyzer.index_terms(text).terms) terms.push_back(term.term);
  return terms;
}

std::vector<std::string> pieces(std::string_view text, const std::vector<ByteRange>& ranges) {
  std::vector<std::string> out;
  for (const ByteRange& range : ranges) out.emplace_back(text.substr(range.begin, range.end - range.begin));
  return out;
}

// What the header promises of every term: valid UTF-8 without controls, none of the characters
// Redis keys and patterns treat specially, no space, at most max_term_bytes.
void expect_key_safe(const std::string& term) {
  EXPECT_FALSE(term.empty());
  EXPECT_LE(term.size(), max_term_bytes) << term;
  EXPECT_TRUE(user_text_chars(term, Lines::one)) << term;
  EXPECT_EQ(term.find_first_of(" :{}*?[]\\"), std::string::npos) << term;
}

// A query finds a text when every term it requires is among the text's index terms.
bool finds(Analyzer& analyzer, std::string_view query, std::string_view text) {
  const std::vector<std::string> required = analyzer.parse_query(query).required_terms();
  if (required.empty()) return false;
  const std::vector<std::string> indexed = index_terms(analyzer, text);
  return std::ranges::all_of(
      required, [&](const std::string& term) { return std::ranges::binary_search(indexed, term); });
}

TEST(Analyzer, StemsEnglish) {
  Analyzer analyzer = make_analyzer();
  const FieldTerms field = analyzer.index_terms("Running runs RUN");
  ASSERT_THAT(field.terms, SizeIs(1));
  EXPECT_EQ(field.terms[0].term, "run");
  EXPECT_EQ(field.terms[0].folded, "running");  // the first occurrence, unstemmed
  EXPECT_EQ(field.terms[0].count, 3u);
  EXPECT_TRUE(finds(analyzer, "running runs", "He runs; she is running"));
}

TEST(Analyzer, StemsTheSameAfterManyDistinctWords) {
  Analyzer analyzer = make_analyzer();
  EXPECT_THAT(index_terms(analyzer, "Running"), ElementsAre("run"));
  // More distinct words than the analyzer remembers stems of: it forgets, and stems alike.
  for (int i = 0; i < 40'000; ++i) {
    const std::string word = "talk" + std::to_string(i) + "ing";
    ASSERT_THAT(index_terms(analyzer, word), ElementsAre(word.substr(0, word.size() - 3))) << word;
  }
  EXPECT_THAT(index_terms(analyzer, "running Running"), ElementsAre("run"));
}

TEST(Analyzer, CountsTermsAndLeavesStopWordsOut) {
  Analyzer analyzer = make_analyzer();
  const FieldTerms field = analyzer.index_terms("The cat and the cat's dog");
  ASSERT_THAT(field.terms, SizeIs(2));
  EXPECT_EQ(field.terms[0].term, "cat");
  EXPECT_EQ(field.terms[0].count, 2u);
  EXPECT_EQ(field.terms[1].term, "dog");
  EXPECT_EQ(field.length, 3u);
  EXPECT_FALSE(field.truncated);
}

TEST(Analyzer, OtherLanguagesAndUnknownOnes) {
  Analyzer french = make_analyzer({.language = "french"});
  EXPECT_THAT(index_terms(french, "Chanteuses"), ElementsAre("chanteux"));
  EXPECT_EQ(index_terms(french, "marchés"), index_terms(french, "marche"));
  EXPECT_THAT(index_terms(french, "le the"), SizeIs(2));  // English stop words are English only

  auto unknown = Analyzer::create({.language = "klingon"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(unknown.error().message, ::testing::HasSubstr("klingon"));
}

TEST(Analyzer, RemovesAccents) {
  Analyzer analyzer = make_analyzer();
  EXPECT_THAT(index_terms(analyzer, "Café"), ElementsAre("cafe"));
  EXPECT_THAT(index_terms(analyzer, "Cafe\u0301"), ElementsAre("cafe"));  // decomposed é
  EXPECT_EQ(index_terms(analyzer, "Ελληνικά"), index_terms(analyzer, "ΕΛΛΗΝΙΚΑ"));
  EXPECT_EQ(index_terms(analyzer, "ёлка"), index_terms(analyzer, "елка"));
  EXPECT_TRUE(finds(analyzer, "creme brulee", "Crème Brûlée in 5 minutes"));
}

TEST(Analyzer, FoldsCaseForEveryKeyboard) {
  Analyzer analyzer = make_analyzer();
  // ß and ẞ fold to ss.
  EXPECT_THAT(index_terms(analyzer, "Straße"), ElementsAre("strass"));
  EXPECT_EQ(index_terms(analyzer, "STRASSE"), index_terms(analyzer, "Straße"));
  EXPECT_EQ(index_terms(analyzer, "STRAẞE"), index_terms(analyzer, "Straße"));
  // Turkish: the default folding plus dotless ı → i makes the four spellings one term.
  for (const char* spelling : {"İSTANBUL", "Istanbul", "ıstanbul", "istanbul"}) {
    EXPECT_THAT(index_terms(analyzer, spelling), ElementsAre("istanbul")) << spelling;
  }
  EXPECT_EQ(index_terms(analyzer, "IŞIK"), index_terms(analyzer, "ışık"));
}

TEST(Analyzer, FullWidthLatinIsLatin) {
  Analyzer analyzer = make_analyzer();
  EXPECT_THAT(index_terms(analyzer, "ＡＢＣ"), ElementsAre("abc"));
  EXPECT_THAT(index_terms(analyzer, "ﬁle"), ElementsAre("file"));  // the ligature
  EXPECT_EQ(index_terms(analyzer, "ｶﾀｶﾅ"), index_terms(analyzer, "カタカナ"));
}

TEST(Analyzer, JapaneseAndChineseTitlesAreFoundByTwoCharacters) {
  Analyzer analyzer = make_analyzer();
  EXPECT_THAT(index_terms(analyzer, "東京の夜景"),
              ::testing::UnorderedElementsAre("東京", "京の", "の夜", "夜景"));
  EXPECT_TRUE(finds(analyzer, "東京", "東京の夜景"));
  EXPECT_TRUE(finds(analyzer, "夜景", "東京の夜景"));
  EXPECT_TRUE(finds(analyzer, "東京の夜景", "東京の夜景 4K"));
  // ICU's dictionary keeps 東京タワー as one word; bigrams still find its parts.
  EXPECT_TRUE(finds(analyzer, "東京", "東京タワーからの眺め"));
  EXPECT_TRUE(finds(analyzer, "タワー", "東京タワーからの眺め"));
  EXPECT_TRUE(finds(analyzer, "大学", "北京大学的学生"));
  EXPECT_TRUE(finds(analyzer, "北京大学", "北京大学的学生"));
  EXPECT_FALSE(finds(analyzer, "大阪", "東京の夜景"));
  // Hangul words carry their particles: 서울에서 is "in Seoul".
  EXPECT_TRUE(finds(analyzer, "서울", "서울에서 맛집"));
  // The voicing mark is spelling, not an accent: ガス (gas) is not カス.
  EXPECT_NE(index_terms(analyzer, "ガス"), index_terms(analyzer, "カス"));
  // A lone character is a term of its own.
  EXPECT_THAT(index_terms(analyzer, "犬 dog"), ElementsAre("dog", "犬"));
}

TEST(Analyzer, EmojiAreNoTerms) {
  Analyzer analyzer = make_analyzer();
  EXPECT_THAT(index_terms(analyzer, "🔥 Fire 👍🏽 👨‍👩‍👧 🇯🇵"), ElementsAre("fire"));
  EXPECT_THAT(index_terms(analyzer, "🔥🔥🔥"), IsEmpty());
  EXPECT_THAT(analyzer.parse_query("🔥").clauses, IsEmpty());
}

TEST(Analyzer, RightToLeftWordsAreTerms) {
  Analyzer analyzer = make_analyzer();
  EXPECT_THAT(index_terms(analyzer, "مرحبا بالعالم"), SizeIs(2));
  EXPECT_TRUE(finds(analyzer, "مرحبا", "مَرْحَبًا بالعالم"));  // harakat are optional
  EXPECT_TRUE(finds(analyzer, "שלום", "שָׁלוֹם עולם"));       // so is niqqud
  // Bidi controls inside a word are no part of it.
  EXPECT_THAT(index_terms(analyzer, "ab\u200F\u202Ecd"), ElementsAre("abcd"));
}

TEST(Analyzer, CombiningMarksAndZeroWidthCharacters) {
  Analyzer analyzer = make_analyzer();
  EXPECT_THAT(index_terms(analyzer, "Z\u0335\u0321\u0353a\u0338l\u0337g\u0336o\u0334\u0317\u0322"),
              ElementsAre("zalgo"));
  EXPECT_THAT(index_terms(analyzer, "\u0301\u0301\u0301 abc"), ElementsAre("abc"));
  EXPECT_THAT(index_terms(analyzer, "foo\u200Bbar"), ElementsAre("bar", "foo"));  // zero-width space
  EXPECT_THAT(index_terms(analyzer, "soft\u00ADhyphen"), ElementsAre("softhyphen"));
  EXPECT_THAT(index_terms(analyzer, "\u200B\u200C\u200D\uFEFF"), IsEmpty());
  // Devanagari vowel signs are spelling: they stay.
  EXPECT_NE(index_terms(analyzer, "कुछ"), index_terms(analyzer, "कछ"));
}

TEST(Analyzer, InvalidUtf8SeparatesWordsAndNeverReachesATerm) {
  Analyzer analyzer = make_analyzer();
  EXPECT_THAT(index_terms(analyzer,
                          "abc\xff\xfe"
                          "def \xe2\x82 ok \xc0\xaf"),
              ElementsAre("abc", "def", "ok"));
  // Random bytes, many times: no crash, and every term keeps the header's promise.
  std::mt19937 random(12);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> size(0, 200);
  size_t terms = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string text(size(random), '\0');
    for (char& c : text) c = static_cast<char>(byte(random));
    for (const TermCount& term : analyzer.index_terms(text).terms) {
      expect_key_safe(term.term);
      expect_key_safe(term.folded);
      ++terms;
    }
    for (const QueryClause& clause : analyzer.parse_query(text).clauses) {
      for (const QueryTerm& term : clause.terms) expect_key_safe(term.term);
    }
    for (const ByteRange& range : analyzer.highlight(text, std::vector<std::string>{"a"})) {
      EXPECT_TRUE(
          user_text_chars(std::string_view(text).substr(range.begin, range.end - range.begin), Lines::one));
    }
  }
  EXPECT_GT(terms, 0u);  // the property was checked on some terms
}

TEST(Analyzer, KeyLikeCharactersNeverReachATerm) {
  Analyzer analyzer = make_analyzer();
  const std::string text = "foo*bar {baz} ab:cd\r\nx?y [z] back\\slash key:{1}* ＊：｛｝";
  const std::vector<std::string> terms = index_terms(analyzer, text);
  EXPECT_THAT(terms,
              ElementsAre("1", "ab", "back", "bar", "baz", "cd", "foo", "key", "slash", "x", "y", "z"));
  for (const std::string& term : terms) expect_key_safe(term);
  for (const QueryClause& clause : analyzer.parse_query(text).clauses) {
    for (const QueryTerm& term : clause.terms) expect_key_safe(term.term);
  }
  // One letter whose NFKC form is four words with spaces between: its term holds no space.
  const std::vector<std::string> ligature = index_terms(analyzer, "\uFDFA");
  ASSERT_THAT(ligature, SizeIs(1));
  expect_key_safe(ligature[0]);
}

TEST(Analyzer, LongWordsAreCutToTheTermCap) {
  Analyzer analyzer = make_analyzer();
  const std::vector<std::string> latin = index_terms(analyzer, std::string(300, 'x'));
  ASSERT_THAT(latin, SizeIs(1));
  EXPECT_EQ(latin[0], std::string(max_term_bytes, 'x'));
  std::string accented;
  for (int i = 0; i < 100; ++i) accented += "ж";  // two bytes each
  accented += "a";                                // so the cap falls mid-character if cut by bytes
  const std::vector<std::string> cyrillic = index_terms(analyzer, "a" + accented);
  ASSERT_THAT(cyrillic, SizeIs(1));
  expect_key_safe(cyrillic[0]);
  EXPECT_GE(cyrillic[0].size(), max_term_bytes - 1);
  EXPECT_TRUE(finds(analyzer, "a" + accented, "a" + accented));  // a long word still finds itself
}

TEST(Analyzer, CapsAHugeText) {
  Analyzer analyzer = make_analyzer();
  std::string text;
  for (int i = 0; text.size() < 100 * 1024; ++i) text += "w" + std::to_string(i % 10) + " ";
  const FieldTerms field = analyzer.index_terms(text);
  EXPECT_TRUE(field.truncated);
  EXPECT_EQ(field.length, AnalyzerOptions{}.max_text_terms);
  EXPECT_FALSE(analyzer.index_terms("a short title").truncated);
  // The byte cap holds on its own: past 16 KB of spaces, a word is not read.
  const FieldTerms late = analyzer.index_terms(std::string(20 * 1024, ' ') + "late");
  EXPECT_TRUE(late.truncated);
  EXPECT_THAT(late.terms, IsEmpty());
}

TEST(Analyzer, CapsA10KbQuery) {
  Analyzer analyzer = make_analyzer();
  std::string text;
  while (text.size() < 10 * 1024) text += "abcdefghi ";
  const Query one_word = analyzer.parse_query(text);
  EXPECT_TRUE(one_word.truncated);
  EXPECT_THAT(one_word.required_terms(), ElementsAre("abcdefghi"));
  const Query no_spaces = analyzer.parse_query(std::string(10 * 1024, 'q'));
  EXPECT_TRUE(no_spaces.truncated);
  ASSERT_THAT(no_spaces.required_terms(), SizeIs(1));
  EXPECT_LE(no_spaces.required_terms()[0].size(), max_term_bytes);
}

TEST(Analyzer, CapsA1000TermQuery) {
  Analyzer analyzer = make_analyzer({.max_query_bytes = 64 * 1024});
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "w" + std::to_string(i) + " ";
  const Query query = analyzer.parse_query(text);
  EXPECT_TRUE(query.truncated);
  EXPECT_THAT(query.required_terms(), SizeIs(AnalyzerOptions{}.max_query_terms));
  EXPECT_EQ(query.required_terms().front(), "w0");
  // A single CJK word of 1,000 characters is held to the cap too.
  std::string cjk;
  for (int i = 0; i < 1000; ++i) cjk += "東京";
  EXPECT_THAT(analyzer.parse_query(cjk).required_terms(),
              SizeIs(::testing::Le(AnalyzerOptions{}.max_query_terms)));
}

TEST(Analyzer, ParsesPhrasesAndExclusions) {
  Analyzer analyzer = make_analyzer();
  const Query query = analyzer.parse_query("\"Night City\" -trailer tokyo -\"behind the scenes\" hip-hop");
  EXPECT_FALSE(query.truncated);
  ASSERT_THAT(query.clauses, SizeIs(5));
  EXPECT_TRUE(query.clauses[0].quoted);
  EXPECT_FALSE(query.clauses[0].excluded);
  ASSERT_THAT(query.clauses[0].terms, SizeIs(2));
  EXPECT_EQ(query.clauses[0].terms[0].term, "night");
  EXPECT_EQ(query.clauses[0].terms[1].term, "citi");
  EXPECT_EQ(query.clauses[0].terms[1].folded, "city");  // for "did you mean" and display
  EXPECT_TRUE(query.clauses[1].excluded);
  EXPECT_FALSE(query.clauses[1].quoted);
  EXPECT_EQ(query.clauses[1].terms[0].term, "trailer");
  EXPECT_FALSE(query.clauses[2].excluded);
  EXPECT_TRUE(query.clauses[3].excluded);
  EXPECT_TRUE(query.clauses[3].quoted);
  ASSERT_THAT(query.clauses[3].terms, SizeIs(3));
  EXPECT_TRUE(query.clauses[3].terms[1].stop_word);
  EXPECT_THAT(query.clauses[4].terms, SizeIs(2));  // hip-hop: one word, two terms
  EXPECT_THAT(query.required_terms(), ElementsAre("night", "citi", "tokyo", "hip", "hop"));
}

TEST(Analyzer, OddQueryPunctuation) {
  Analyzer analyzer = make_analyzer();
  EXPECT_THAT(analyzer.parse_query("\"open quote runs to the end").clauses, SizeIs(1));
  EXPECT_TRUE(analyzer.parse_query("\"open quote").clauses[0].quoted);
  EXPECT_THAT(analyzer.parse_query("- -- \"\" \"  \" *:{}").clauses, IsEmpty());
  EXPECT_THAT(analyzer.parse_query("“curly quotes” x").clauses[0].terms, SizeIs(2));
  EXPECT_THAT(analyzer.parse_query("tokyo\u3000night").clauses, SizeIs(2));  // ideographic space
  EXPECT_THAT(analyzer.parse_query("").clauses, IsEmpty());
  const Query only_excluded = analyzer.parse_query("-cats");
  EXPECT_THAT(only_excluded.required_terms(), IsEmpty());
  EXPECT_FALSE(only_excluded.only_stop_words());
}

TEST(Analyzer, TellsAQueryOfOnlyStopWords) {
  Analyzer analyzer = make_analyzer();
  const Query stop = analyzer.parse_query("The Who");
  EXPECT_TRUE(stop.only_stop_words());
  EXPECT_THAT(stop.required_terms(), IsEmpty());
  ASSERT_THAT(stop.clauses, SizeIs(2));
  EXPECT_EQ(stop.clauses[1].terms[0].folded, "who");
  const Query matrix = analyzer.parse_query("the matrix");
  EXPECT_FALSE(matrix.only_stop_words());
  EXPECT_THAT(matrix.required_terms(), ElementsAre("matrix"));
}

TEST(Analyzer, WritesAQueryOneWay) {
  Analyzer analyzer = make_analyzer();
  EXPECT_EQ(analyzer.parse_query("Funny  cats").canonical(), "cat funni");
  EXPECT_EQ(analyzer.parse_query("the CATS funny cat").canonical(), "cat funni");
  EXPECT_EQ(analyzer.parse_query("café -Trailers \"Night in the City\" -hip-hop -\"the end\"").canonical(),
            "\"night in the citi\" -\"the end\" -(hip hop) -trailer cafe");
  EXPECT_NE(analyzer.parse_query("\"night city\"").canonical(),
            analyzer.parse_query("\"city night\"").canonical());
  EXPECT_NE(analyzer.parse_query("cats").canonical(), analyzer.parse_query("-cats").canonical());
  EXPECT_EQ(analyzer.parse_query("the who").canonical(), "");
}

TEST(Analyzer, HighlightsMatchedWordsInAMixedScriptTitle) {
  Analyzer analyzer = make_analyzer();
  const std::string title = "Cafe\u0301 RUNNING — 東京の夜景 مرحبا ＡＢＣ 🔥 run";
  const Query query = analyzer.parse_query("cafe run 東京 مرحبا abc");
  const std::vector<ByteRange> ranges = analyzer.highlight(title, query.required_terms());
  EXPECT_THAT(pieces(title, ranges), ElementsAre("Cafe\u0301", "RUNNING", "東京", "مرحبا", "ＡＢＣ", "run"));
  // A phrase of CJK bigrams marks the whole run once.
  const std::vector<ByteRange> run =
      analyzer.highlight(title, analyzer.parse_query("東京の夜景").required_terms());
  EXPECT_THAT(pieces(title, run), ElementsAre("東京の夜景"));
  // Inside one dictionary word (東京タワー), only the matched characters.
  const std::string tower = "東京タワーの夜景";
  EXPECT_THAT(pieces(tower, analyzer.highlight(tower, analyzer.parse_query("タワー").required_terms())),
              ElementsAre("タワー"));
  EXPECT_THAT(analyzer.highlight(title, std::vector<std::string>{}), IsEmpty());
}

TEST(Analyzer, ChecksPhrasesInOrder) {
  Analyzer analyzer = make_analyzer();
  const Query phrase = analyzer.parse_query("\"night in the city\"");
  ASSERT_THAT(phrase.clauses, SizeIs(1));
  EXPECT_TRUE(analyzer.contains_in_order("A Night in the City (4K)", phrase.clauses[0]));
  EXPECT_FALSE(analyzer.contains_in_order("The city at night", phrase.clauses[0]));
  EXPECT_FALSE(analyzer.contains_in_order("Night in a city", phrase.clauses[0]));
  EXPECT_FALSE(
      analyzer.contains_in_order("The city in the night", phrase.clauses[0]));  // all there, out of order
  const Query japanese = analyzer.parse_query("東京の夜景");
  EXPECT_TRUE(analyzer.contains_in_order("【4K】東京の夜景", japanese.clauses[0]));
  EXPECT_FALSE(analyzer.contains_in_order("夜景の東京", japanese.clauses[0]));
}

TEST(Analyzer, MovedAnalyzerKeepsWorking) {
  Analyzer first = make_analyzer();
  Analyzer second = std::move(first);
  EXPECT_THAT(index_terms(second, "Running"), ElementsAre("run"));
}

TEST(AnalyzerSlug, FoldsTheTitlesWordsJoinedByHyphens) {
  Analyzer analyzer = make_analyzer();
  EXPECT_EQ(analyzer.slug("Tips & Tricks, Part 2"), "tips-tricks-part-2");
  EXPECT_EQ(analyzer.slug("Café Señor — Full Tour (Live)"), "cafe-senor-full-tour-live");
  EXPECT_EQ(analyzer.slug("\"Director's Cut\": Time-lapse in 4K"), "directors-cut-time-lapse-in-4k");
  EXPECT_EQ(analyzer.slug("Version 3.5 <Behind the Scenes>"), "version-3-5-behind-the-scenes");
  EXPECT_EQ(analyzer.slug("ΚΑΛΗΜΈΡΑ Москва ёлка"), "καλημερα-москва-елка");
}

TEST(AnalyzerSlug, KeepsTheLettersOfEveryScript) {
  Analyzer analyzer = make_analyzer();
  EXPECT_EQ(analyzer.slug("東京タワー at Night"), "東京タワー-at-night");
  EXPECT_EQ(analyzer.slug("日本語 Edition"), "日本語-edition");
  EXPECT_EQ(analyzer.slug("मेरा गाना"), "मेरा-गाना");            // Devanagari vowel signs are spelling: kept
  EXPECT_EQ(analyzer.slug("مَرْحَبًا بالعالم"), "مرحبا-بالعالم");  // harakat dropped
}

TEST(AnalyzerSlug, IsEmptyOrShortForTitlesWithoutWordsOrTooMany) {
  Analyzer analyzer = make_analyzer();
  EXPECT_EQ(analyzer.slug(""), "");
  EXPECT_EQ(analyzer.slug("!!! 🎸🎸 ..."), "");
  EXPECT_EQ(analyzer.slug("a\xff\xfe b"), "a-b");  // invalid UTF-8 separates words
  EXPECT_EQ(analyzer.slug("key:{name}*"), "key-name");
  // Whole words up to the limit; a first word longer than the limit is cut at a character.
  EXPECT_EQ(analyzer.slug("alpha beta gamma", 12), "alpha-beta");
  EXPECT_EQ(analyzer.slug("ééééé", 5), "eeeee");
  EXPECT_EQ(analyzer.slug("東京東京", 7), "東京");
  EXPECT_EQ(analyzer.slug("3.5.7", 2), "3");  // cut at the '-' that stood for a dot: dropped
  std::string long_title;
  for (int i = 0; i < 50; ++i) long_title += "word ";
  const std::string slug = analyzer.slug(long_title);
  EXPECT_LE(slug.size(), 80u);
  EXPECT_TRUE(slug.ends_with("word")) << slug;
}

}  // namespace
}  // namespace reel::search
