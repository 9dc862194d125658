// The search analyzer's cost (src/search/analyzer.h) on one core: index terms of a typical
// 60-byte English title and of a 1 KB description, a Japanese title, a query; and, for the
// choice of folding route, ICU's Transliterator doing only the folding on the same titles.
#include <benchmark/benchmark.h>
#include <unicode/translit.h>

#include <array>
#include <memory>
#include <string>

#include "search/analyzer.h"

namespace reel::search {
namespace {

// Titles of about 60 bytes, as a video site's catalog holds them.
constexpr auto titles = std::to_array<std::string_view>({
    "Funny Cats Compilation 2024 - Try Not To Laugh Challenge",
    "How to Make the Perfect Pizza Dough at Home (Easy Recipe)",
    "Top 10 Most Beautiful Places to Visit in Europe This Summer",
    "Learning Guitar: Beginner Chords and Strumming Patterns",
    "Tokyo Night Walk in Shinjuku and Shibuya - 4K HDR Ambience",
    "Building a Gaming PC for Beginners: Step by Step Guide",
    "Morning Yoga Routine for Flexibility and Stress Relief",
    "The History of the Roman Empire Explained in 20 Minutes",
    "Café Music for Studying: Relaxing Jazz and Bossa Nova",
    "Skateboarding Tricks Every Beginner Should Learn First",
    "Reviewing the Newest Electric Cars: Range, Speed, Price",
    "Deep Sea Creatures Caught on Camera for the First Time",
});

std::string description() {
  std::string text;
  while (text.size() < 1024) {
    text +=
        "In this video we are walking through the old town at night, tasting street food and talking "
        "with the people who run the markets. Subscribe for more travel videos and leave a comment with "
        "the city you would like us to visit next! ";
  }
  return text.substr(0, 1024);
}

Analyzer& analyzer() {
  static Analyzer instance = std::move(Analyzer::create()).value();
  return instance;
}

void BM_IndexTitle(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(analyzer().index_terms(titles[i++ % titles.size()]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexTitle);

// Every word but two non-ASCII: the Normalizer2 route (NFKC_Casefold, NFD, marks out, NFC).
constexpr std::string_view accented_title = "Crème brûlée façon grand-mère : recette étape par étape à Noël";

void BM_IndexAccentedTitle(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(analyzer().index_terms(accented_title));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexAccentedTitle);

// Titles whose words the analyzer has not seen: every stem misses its memo (the worst case; the
// titles above hit it).
void BM_IndexTitleUnseenWords(benchmark::State& state) {
  Analyzer fresh = std::move(Analyzer::create()).value();
  uint64_t n = 0;
  std::string title;
  for (auto _ : state) {
    state.PauseTiming();
    title.clear();
    for (int word = 0; word < 8; ++word) title += "walking" + std::to_string(n++) + "s ";
    state.ResumeTiming();
    benchmark::DoNotOptimize(fresh.index_terms(title));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexTitleUnseenWords);

void BM_IndexDescription1KB(benchmark::State& state) {
  const std::string text = description();
  for (auto _ : state) benchmark::DoNotOptimize(analyzer().index_terms(text));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_IndexDescription1KB);

void BM_IndexJapaneseTitle(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(analyzer().index_terms("【4K】東京タワーからの夜景 ― 冬のイルミネーション散歩"));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexJapaneseTitle);

void BM_ParseQuery(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(analyzer().parse_query("funny cats \"try not to laugh\" -compilation"));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseQuery);

void BM_HighlightTitle(benchmark::State& state) {
  const std::vector<std::string> terms = analyzer().parse_query("tokyo night walk").required_terms();
  for (auto _ : state) benchmark::DoNotOptimize(analyzer().highlight(titles[4], terms));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HighlightTitle);

// The route not taken: only the folding (no segmentation, no stemming) of the same titles by
// ICU's Transliterator, the textbook way to remove accents.
void BM_TransliteratorFoldTitle(benchmark::State& state) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::Transliterator> fold(icu::Transliterator::createInstance(
      "NFKC; Lower; NFD; [:Nonspacing Mark:] Remove; NFC", UTRANS_FORWARD, status));
  if (U_FAILURE(status)) {
    state.SkipWithError(u_errorName(status));
    return;
  }
  size_t i = 0;
  const bool accented = state.range(0) == 1;
  for (auto _ : state) {
    const std::string_view title = accented ? accented_title : titles[i++ % titles.size()];
    auto text =
        icu::UnicodeString::fromUTF8(icu::StringPiece(title.data(), static_cast<int32_t>(title.size())));
    fold->transliterate(text);
    benchmark::DoNotOptimize(text);
  }
  state.SetItemsProcessed(state.iterations());
}
// 0: the English titles of BM_IndexTitle; 1: the accented title of BM_IndexAccentedTitle.
BENCHMARK(BM_TransliteratorFoldTitle)->Arg(0)->Arg(1);

}  // namespace
}  // namespace reel::search

BENCHMARK_MAIN();
