// What the search index adds to a publish (projection/search_index.h), on one core: the video's
// terms and weights and their commands (search_index::index_commands), beside the whole publish
// batch (projector.h: publish_video_commands, which includes them), for a video shaped like the
// seeded catalog's: a 25-byte title, 4 tags, 1 category, a 100-byte description.
#include <benchmark/benchmark.h>

#include <array>
#include <string>

#include "projection/projector.h"
#include "projection/search_index.h"

namespace reel::projection {
namespace {

constexpr auto titles = std::to_array<std::string_view>({
    "Amazing Volcano Part 2",
    "Hidden Kitchen Tutorial",
    "Frozen Harbor at Night",
    "Ultimate Meadow Timelapse",
    "Daily Vlog: River Crew",
    "Studio Remix Live Session",
});

catalog::Video video(size_t i) {
  catalog::Video v;
  v.id = 1000 + static_cast<int64_t>(i);
  v.title = std::string(titles[i % titles.size()]);
  v.channel_name = "telescope-crew-2";
  v.tags = {"volcano", "hd", "review", "live"};
  v.categories = {"nature"};
  v.description =
      v.title + ".\nFilmed and edited by telescope-crew-2. Thanks for watching — like & subscribe!";
  v.status = catalog::VideoStatus::ready;
  v.published_at = 1795824000;
  v.files = {{"mp4", 360, "demo/a.mp4", 1, "video/mp4"}, {"thumb", 180, "demo/a.jpg", 1, "image/jpeg"}};
  return v;
}

void BM_IndexCommands(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) {
    const catalog::Video v = video(i++);
    benchmark::DoNotOptimize(search_index::index_commands(v, "Telescope Crew"));
  }
}
BENCHMARK(BM_IndexCommands);

void BM_PublishCommands(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) {
    const catalog::Video v = video(i++);
    benchmark::DoNotOptimize(publish_video_commands(v, "Telescope Crew"));
  }
}
BENCHMARK(BM_PublishCommands);

// The video alone, to subtract from both.
void BM_MakeVideo(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(video(i++));
}
BENCHMARK(BM_MakeVideo);

}  // namespace
}  // namespace reel::projection

BENCHMARK_MAIN();
