// The event loop's card cache (projection/kept.h) under a stream of cards from a catalog far larger
// than the cache, as cold search pages read them: the cost of one offer() in the direct-mapped
// table, beside the pause the earlier policy took at its capacity (an unordered_map of 50,000
// cards emptied at once by the next offer()). Cards shaped like the seeded catalog's.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "projection/kept.h"
#include "projection/read_model.h"

namespace reel::projection {
namespace {

constexpr size_t capacity = 50000;  // RedisReadModel::max_kept_cards

Card card(int64_t id) {
  Card c;
  c.id = id;
  c.title = "Ultimate Meadow Timelapse " + std::to_string(id);
  c.slug = "ultimate-meadow-timelapse-" + std::to_string(id);
  c.duration_s = 754;
  c.views = 123456;
  c.rating = 87.5;
  c.published_at = 1795824000;
  c.thumb_url = "/media/thumbs/" + std::to_string(id) + "/180.jpg";
  c.channel_name = "telescope-crew-2";
  c.channel_display_name = "Telescope Crew Two";
  c.preview_url = "/media/previews/" + std::to_string(id) + "/preview.mp4";
  return c;
}

// Ids from a 1,000,000-video catalog, each twice in a row (a card is kept from its second read).
std::vector<int64_t> id_stream(size_t n) {
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int64_t> any(1, 1000000);
  std::vector<int64_t> ids;
  for (size_t i = 0; i < n / 2; ++i) ids.insert(ids.end(), 2, any(random));
  return ids;
}

void BM_KeptOffer(benchmark::State& state) {
  Kept<int64_t, Card> kept(std::chrono::milliseconds(1000), capacity);
  const auto ids = id_stream(1 << 20);
  std::vector<Card> cards;
  for (size_t i = 0; i < 4096; ++i) cards.push_back(card(ids[i]));
  const auto now = std::chrono::system_clock::now();
  size_t i = 0;
  for (auto _ : state) {
    kept.offer(ids[i % ids.size()], cards[i % cards.size()], now);
    ++i;
  }
  state.counters["held"] = static_cast<double>(kept.size());
}
BENCHMARK(BM_KeptOffer);

// The earlier policy's pause: a map of `capacity` kept cards emptied at once.
void BM_MassClearOfKeptCards(benchmark::State& state) {
  struct Entry {
    Card value;
    std::chrono::system_clock::time_point read_at;
  };
  for (auto _ : state) {
    state.PauseTiming();
    std::unordered_map<int64_t, Entry> values;
    for (int64_t id = 1; id <= static_cast<int64_t>(capacity); ++id) values.emplace(id, Entry{card(id), {}});
    state.ResumeTiming();
    values.clear();
    benchmark::DoNotOptimize(values);
  }
}
BENCHMARK(BM_MassClearOfKeptCards)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace reel::projection

BENCHMARK_MAIN();
