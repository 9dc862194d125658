// The suggester's cost (src/search/suggester.h) on one core with a 100,000-term dictionary of
// made-up words (2 to 4 syllables, 4 to 14 letters, document frequencies on a Zipf curve) and
// 10,000 popular searches of two or three of those words: "did you mean" for a misspelt word, for
// a three-word query, for a query with nothing to correct, for bad input; completion of one and
// three letters and of a second word; and building the snapshot (what a refresh costs).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "search/suggester.h"

namespace reel::search {
namespace {

constexpr size_t dictionary_terms = 100'000;
constexpr size_t popular_searches = 10'000;

Analyzer& analyzer() {
  static Analyzer instance = std::move(Analyzer::create()).value();
  return instance;
}

struct Data {
  std::vector<DictionaryTerm> dictionary;
  std::vector<PopularSearch> popular;
  std::vector<std::string> misspelt;  // dictionary words with one or two edits
};

const Data& data() {
  static const Data made = [] {
    static const char* syllables[] = {
        "ka",  "ri",  "mo",  "ten", "shi", "lor", "van", "pe",  "qui", "dra", "bel", "son", "mur", "fa",
        "ge",  "lin", "ost", "ra",  "cle", "tu",  "zen", "por", "ma",  "ble", "nic", "ter", "gal", "vo",
        "dus", "ham", "ix",  "sta", "ron", "el",  "cap", "wil", "ben", "tro", "sy",  "ful", "ash", "ok"};
    const size_t count = sizeof syllables / sizeof syllables[0];
    std::mt19937_64 random(12);
    Data data;
    std::vector<std::string> words;
    std::unordered_set<std::string> seen;
    while (words.size() < dictionary_terms) {
      std::string word;
      const int parts = 2 + static_cast<int>(random() % 3);
      for (int i = 0; i < parts; ++i) word += syllables[random() % count];
      if (seen.insert(word).second) words.push_back(word);
    }
    for (size_t i = 0; i < words.size(); ++i) {
      const int64_t videos = static_cast<int64_t>(1'000'000.0 / static_cast<double>(i + 1)) + 1;
      const Query query = analyzer().parse_query(words[i]);
      data.dictionary.push_back({query.clauses.at(0).terms.at(0).term, words[i], videos});
    }
    for (size_t i = 0; i < popular_searches; ++i) {
      std::string text = words[random() % 5000] + " " + words[random() % 20000];
      if (i % 3 == 0) text += " " + words[random() % 50000];
      data.popular.push_back({std::move(text), static_cast<double>(popular_searches - i)});
    }
    for (size_t i = 0; i < 1000; ++i) {
      std::string word = words[random() % words.size()];
      const size_t at = 1 + random() % (word.size() - 2);
      switch (i % 4) {
        case 0:
          word.erase(at, 1);
          break;  // a letter missing
        case 1:
          std::swap(word[at], word[at + 1]);
          break;  // two swapped
        case 2:
          word[at] = 'x';
          break;  // one wrong
        default:
          word = word.substr(0, at) + "e" + word.substr(at, 1) + "y" + word.substr(at + 2);  // two edits
      }
      data.misspelt.push_back(std::move(word));
    }
    return data;
  }();
  return made;
}

const Suggester& suggester() {
  static const Suggester made = Suggester::build(data().dictionary, data().popular, analyzer());
  return made;
}

// Misspelt words in turn: every one (a quarter of them two edits away), or only those one or two
// edits away (misspelt[i] is two edits away when i % 4 == 3).
void BM_DidYouMeanOneWord(benchmark::State& state, int edits) {
  std::vector<std::string> words;
  for (size_t i = 0; i < data().misspelt.size(); ++i) {
    const int made = i % 4 == 3 ? 2 : 1;
    if (edits == 0 || edits == made) words.push_back(data().misspelt[i]);
  }
  size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(suggester().did_you_mean(analyzer(), words[i++ % words.size()]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_DidYouMeanOneWord, mixed, 0);
BENCHMARK_CAPTURE(BM_DidYouMeanOneWord, one_edit, 1);
BENCHMARK_CAPTURE(BM_DidYouMeanOneWord, two_edits, 2);

void BM_DidYouMeanThreeWords(benchmark::State& state) {
  const auto& misspelt = data().misspelt;
  std::vector<std::string> queries;
  for (size_t i = 0; i + 2 < misspelt.size(); i += 3)
    queries.push_back(misspelt[i] + " " + misspelt[i + 1] + " " + misspelt[i + 2]);
  size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(suggester().did_you_mean(analyzer(), queries[i++ % queries.size()]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DidYouMeanThreeWords);

// Words of common terms: looked up, nothing searched.
void BM_DidYouMeanNothingToCorrect(benchmark::State& state) {
  const auto& dictionary = data().dictionary;
  size_t i = 0;
  for (auto _ : state) {
    const std::string query = dictionary[i % 100].word + " " + dictionary[(i + 7) % 100].word;
    ++i;
    benchmark::DoNotOptimize(suggester().did_you_mean(analyzer(), query));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DidYouMeanNothingToCorrect);

// 10 KB of misspelt words: the analyzer reads 512 bytes, 16 terms of them.
void BM_DidYouMean10KB(benchmark::State& state) {
  std::string query;
  for (size_t i = 0; query.size() < 10 * 1024; ++i) query += data().misspelt[i] + " ";
  for (auto _ : state) benchmark::DoNotOptimize(suggester().did_you_mean(analyzer(), query));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DidYouMean10KB);

void BM_Complete(benchmark::State& state, std::string_view prefix) {
  for (auto _ : state) benchmark::DoNotOptimize(suggester().complete(analyzer(), prefix, 10));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_Complete, one_letter, "k");
BENCHMARK_CAPTURE(BM_Complete, three_letters, "kar");
BENCHMARK_CAPTURE(BM_Complete, second_word, "karimo t");

void BM_Build(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(Suggester::build(data().dictionary, data().popular, analyzer()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Build)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace reel::search

BENCHMARK_MAIN();
