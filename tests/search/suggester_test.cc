// The suggester on small snapshots: typos, swaps, accents, rare and unknown words, what stays as
// typed; completion's order (popular searches, then dictionary words), folding, duplicates,
// limits; bad input.
#include "search/suggester.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace reel::search {
namespace {

Analyzer& analyzer() {
  static Analyzer instance = std::move(Analyzer::create()).value();
  return instance;
}

// A dictionary entry with the analyzer's term for `word`.
DictionaryTerm entry(std::string word, int64_t videos) {
  const Query query = analyzer().parse_query(word);
  std::string term = query.clauses.at(0).terms.at(0).term;
  return {std::move(term), std::move(word), videos};
}

Suggester sample(std::vector<PopularSearch> popular = {}) {
  return Suggester::build(
      {entry("funny", 500), entry("cat", 950), entry("cast", 40), entry("guitar", 300),
       entry("tutorial", 200), entry("tutor", 5), entry("cafe", 80), entry("music", 700), entry("museum", 60),
       entry("night", 400), entry("knight", 30), entry("compilation", 120), entry("mountain", 90),
       entry("2024", 300), entry("tea", 100), entry("word", 50)},
      std::move(popular), analyzer());
}

std::optional<std::string> mean(const Suggester& suggester, std::string_view query) {
  return suggester.did_you_mean(analyzer(), query);
}

TEST(SuggesterTest, CorrectsTyposTranspositionsAndMissingLetters) {
  const Suggester suggester = sample();
  EXPECT_EQ(mean(suggester, "funy"), "funny");     // a letter missing
  EXPECT_EQ(mean(suggester, "guitra"), "guitar");  // two letters swapped: one edit
  EXPECT_EQ(mean(suggester, "gutiar"), "guitar");
  EXPECT_EQ(mean(suggester, "compilaton"), "compilation");
  EXPECT_EQ(mean(suggester, "muntian"), "mountain");  // two edits in a long word
  EXPECT_EQ(mean(suggester, "tutorail"), "tutorial");
}

TEST(SuggesterTest, KeepsTheOtherWordsAsTypedAndCorrectsEachWrongOne) {
  const Suggester suggester = sample();
  EXPECT_EQ(mean(suggester, "Funy  CATS  guitra!"), "funny  CATS  guitar!");
  EXPECT_EQ(mean(suggester, "\"nigth music\" -tutorail"), "\"night music\" -tutorial");
  EXPECT_EQ(mean(suggester, "tutoral"), std::nullopt);            // its stem is tutor's, a known term
  EXPECT_EQ(mean(suggester, "the funy cats"), "the funny cats");  // stop words stay
}

TEST(SuggesterTest, NothingToCorrectIsNullopt) {
  const Suggester suggester = sample();
  EXPECT_EQ(mean(suggester, "funny cats"), std::nullopt);
  EXPECT_EQ(mean(suggester, "Cafés"), std::nullopt);     // accents and case are no typos
  EXPECT_EQ(mean(suggester, "zzzzqqqq"), std::nullopt);  // nothing near
  EXPECT_EQ(mean(suggester, "2025"), std::nullopt);      // numbers are not corrected
  EXPECT_EQ(mean(suggester, "ca"), std::nullopt);        // too short to guess
  EXPECT_EQ(mean(suggester, ""), std::nullopt);
  EXPECT_EQ(mean(suggester, "the of and"), std::nullopt);
  EXPECT_EQ(mean(Suggester(), "funy"), std::nullopt);  // an empty snapshot
}

TEST(SuggesterTest, ShortWordsGetOneEditAndTheMostCommonNearWordWins) {
  const Suggester suggester = sample();
  EXPECT_EQ(mean(suggester, "caat"), "cat");  // cat (950 videos) over cast (40), both one edit away
  EXPECT_EQ(mean(suggester, "tae"), "tea");   // a swap
  EXPECT_EQ(mean(suggester, "muzc"), std::nullopt) << "two edits in a short word are too many";
  EXPECT_EQ(mean(suggester, "muzeem"), "museum");  // two in a longer one are not
  EXPECT_EQ(mean(suggester, "musec"), "music");    // one edit: music over museum (two)
}

TEST(SuggesterTest, ARareKnownWordIsCorrectedOnlyToAFarMoreCommonOne) {
  const Suggester suggester = sample();
  EXPECT_EQ(mean(suggester, "knight"), std::nullopt);  // 30 videos: not rare
  const Suggester rare = Suggester::build(
      {entry("guitar", 300), entry("guiter", 2), entry("sitar", 15), entry("sitr", 2)}, {}, analyzer());
  EXPECT_EQ(mean(rare, "guiter"), "guitar");    // 2 videos, a word 150 times as common one edit away
  EXPECT_EQ(mean(rare, "sitr"), std::nullopt);  // 2 against 15: too small a gain
}

TEST(SuggesterTest, AccentsAndCaseFoldBeforeComparing) {
  const Suggester suggester =
      Suggester::build({entry("cafe", 80), entry("creme", 40), entry("muller", 30)}, {}, analyzer());
  EXPECT_EQ(mean(suggester, "CRÈMME"), "creme");
  EXPECT_EQ(mean(suggester, "Cafè"), std::nullopt);
  EXPECT_EQ(mean(suggester, "mülle"), "muller");
}

TEST(SuggesterTest, NonLatinWordsAreComparedByCharacters) {
  const Suggester suggester = Suggester::build({entry("кошка", 50), entry("музыка", 40)}, {}, analyzer());
  EXPECT_EQ(mean(suggester, "кошкка"), "кошка");  // one edit, though two bytes
  EXPECT_EQ(mean(suggester, "музика"), "музыка");
  EXPECT_EQ(mean(Suggester::build({entry("東京", 50)}, {}, analyzer()), "東亰"),
            std::nullopt);  // CJK: bigrams
}

TEST(SuggesterTest, BadInputAnswersQuicklyWithValidText) {
  std::vector<DictionaryTerm> many;
  for (int i = 0; i < 20000; ++i) many.push_back({"t" + std::to_string(i), "word" + std::to_string(i), i});
  many.push_back(entry("funny", 500));
  many.push_back(entry("word", 50));
  const Suggester suggester = Suggester::build(std::move(many), {}, analyzer());
  std::string long_query;
  while (long_query.size() < 10 * 1024) long_query += "funy wrod ";
  const auto corrected = mean(suggester, long_query);
  ASSERT_TRUE(corrected);
  EXPECT_TRUE(corrected->starts_with("funny word"));
  EXPECT_LE(corrected->size(), AnalyzerOptions{}.max_query_bytes + 64);  // what the search read

  const auto invalid = mean(suggester, "funy \xC3\x28 \xFF\xFE wrod5");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(*invalid, "funny \xEF\xBF\xBD( \xEF\xBF\xBD\xEF\xBF\xBD word5");

  for (std::string_view odd :
       {"* : {} \r\n key:like{tag}* ?[x]\\", "\xF0\x9F\x98\x80\xF0\x9F\x8E\xAC", "a\xCC\x81\xCC\x81\xCC\x81",
        "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D \xE2\x80\xAE"}) {
    EXPECT_EQ(mean(suggester, odd), std::nullopt) << odd;
    EXPECT_TRUE(suggester.complete(analyzer(), odd, 10).size() <= 10);
  }
  std::string thousand;
  for (int i = 0; i < 1000; ++i) thousand += "wurd" + std::to_string(i % 10) + " ";
  EXPECT_TRUE(mean(suggester, thousand));
  EXPECT_LE(suggester.complete(analyzer(), thousand, 1000).size(), 20u);
  EXPECT_LE(suggester.complete(analyzer(), long_query, 5).size(), 5u);
}

TEST(SuggesterTest, CompletionListsPopularSearchesFirstThenDictionaryWords) {
  const Suggester suggester = sample({{"cat videos", 10},
                                      {"cats and dogs", 50},
                                      {"Café music", 30},
                                      {"catwalk", 1},
                                      {"guitar lessons", 70}});
  EXPECT_EQ(suggester.complete(analyzer(), "ca", 10),
            (std::vector<std::string>{"cats and dogs", "Café music", "cat videos", "catwalk", "cat", "cafe",
                                      "cast"}));
  EXPECT_EQ(suggester.complete(analyzer(), "CA", 3),
            (std::vector<std::string>{"cats and dogs", "Café music", "cat videos"}));
  EXPECT_EQ(
      suggester.complete(analyzer(), "café m", 10),
      (std::vector<std::string>{"Café music", "cafe mountain", "cafe museum"}));  // not "cafe music" again
  EXPECT_EQ(suggester.complete(analyzer(), "funny CA", 3),
            (std::vector<std::string>{"funny cat", "funny cafe", "funny cast"}));
}

TEST(SuggesterTest, CompletionAfterASpaceOffersOnlyWholeNextWords) {
  const Suggester suggester = sample({{"cat videos", 10}, {"catwalk", 5}, {"cat", 3}});
  EXPECT_EQ(suggester.complete(analyzer(), "cat ", 10), std::vector<std::string>{"cat videos"});
}

TEST(SuggesterTest, CompletionHasNoDuplicatesAndHonoursLimits) {
  const Suggester suggester = sample({{"Cats", 10}, {"cats", 5}, {"CATS!", 1}, {"cat", 4}});
  EXPECT_EQ(suggester.complete(analyzer(), "cat", 10), (std::vector<std::string>{"Cats", "cat"}));
  EXPECT_TRUE(suggester.complete(analyzer(), "cat", 0).empty());
  EXPECT_EQ(suggester.complete(analyzer(), "cat", 1).size(), 1u);
  EXPECT_TRUE(suggester.complete(analyzer(), "", 10).empty());
  EXPECT_TRUE(suggester.complete(analyzer(), "   ", 10).empty());
  EXPECT_TRUE(suggester.complete(analyzer(), "zzz", 10).empty());
}

}  // namespace
}  // namespace reel::search
