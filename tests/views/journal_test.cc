// The stream journal's stored generation: what it keeps of a generation and what it refuses.
#include "views/journal.h"

#include <gtest/gtest.h>

namespace reel::views {
namespace {

TEST(Journal, AGenerationReadsBackAsItsVideoChunksMarkedRestored) {
  std::vector<FlushChunk> chunks(3);
  chunks[0].token = "abc:1";
  chunks[0].trend_ref = 1700000000;
  chunks[0].videos = {{5, 20231114, 3, 1.0000000000000002}, {7, 20231113, 1, 0.1 + 0.2}};
  chunks[1].token = "abc:2";
  chunks[1].pairs = {{5, 7, 1}};  // co-view pairs are not journaled
  chunks[2].token = "abc:3";
  chunks[2].trend_ref = 1700000001;
  chunks[2].videos = {{9, 20231114, 12, 3e-300}};

  auto decoded = decode_generation(encode_generation(chunks));
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->size(), 2u);
  for (size_t i : {0, 1}) {
    const FlushChunk& in = chunks[i == 0 ? 0 : 2];
    const FlushChunk& out = (*decoded)[i];
    EXPECT_EQ(out.token, in.token);
    EXPECT_EQ(out.trend_ref, in.trend_ref);
    EXPECT_TRUE(out.restored);
    ASSERT_EQ(out.videos.size(), in.videos.size());
    for (size_t v = 0; v < in.videos.size(); ++v) {
      EXPECT_EQ(out.videos[v].video_id, in.videos[v].video_id);
      EXPECT_EQ(out.videos[v].day, in.videos[v].day);
      EXPECT_EQ(out.videos[v].views, in.videos[v].views);
      EXPECT_EQ(out.videos[v].trend, in.videos[v].trend);  // exactly: the same double
    }
  }
  EXPECT_TRUE(encode_generation({}).empty());
}

TEST(Journal, TextItDidNotWriteIsAnError) {
  for (std::string_view bad : {"v 1 20231114 1 1\n", "c tok\n", "c tok 1\nv 1 x 1 1\n", "x\n", "c tok 1 2\n",
                               "c tok 1\nv 1 20231114 1\n"}) {
    auto decoded = decode_generation(bad);
    EXPECT_FALSE(decoded) << bad;
  }
}

TEST(Journal, AReplayedRestoredChunkAddsNoDailyRowsAndAFreshOneDoes) {
  ManualClock clock{1700000000};
  Aggregator aggregator(clock, {});
  std::vector<FlushChunk> restored(2);
  restored[0].token = "old:1";
  restored[0].restored = true;
  restored[0].videos = {{5, 20231114, 3, 1}};
  restored[1].token = "old:2";
  restored[1].restored = true;
  restored[1].videos = {{6, 20231114, 4, 1}};
  aggregator.restore(restored);
  ASSERT_EQ(aggregator.in_flight().size(), 2u);
  ChunkResult replayed;
  replayed.replayed = true;
  aggregator.applied("old:1", replayed);  // applied before the crash: its rows are SQL's already
  aggregator.applied("old:2", ChunkResult{});
  EXPECT_TRUE(aggregator.idle());
  auto rows = aggregator.drain_daily_views();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].video_id, 6);
  EXPECT_EQ(rows[0].views, 4);
}

TEST(Journal, SearchChunksAreJournaledWithTheirQueries) {
  std::vector<FlushChunk> chunks(2);
  chunks[0].token = "abc:1";
  chunks[0].trend_ref = 1700000000;
  chunks[0].searches = {{"funny cats", 3, 0.1 + 0.2}, {"100% = \"x\"\n[y] é", 1, 1}};
  chunks[1].token = "abc:2";
  chunks[1].videos = {{5, 20231114, 3, 1}};
  auto decoded = decode_generation(encode_generation(chunks));
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->size(), 2u);
  const FlushChunk& out = (*decoded)[0];
  EXPECT_EQ(out.token, "abc:1");
  EXPECT_TRUE(out.restored);
  ASSERT_EQ(out.searches.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(out.searches[i].query, chunks[0].searches[i].query);
    EXPECT_EQ(out.searches[i].searches, chunks[0].searches[i].searches);
    EXPECT_EQ(out.searches[i].trend, chunks[0].searches[i].trend);
  }
  EXPECT_EQ((*decoded)[1].videos.size(), 1u);
  EXPECT_FALSE(decode_generation("c abc:1 1\ns 1 1 %zz\n"));
  EXPECT_FALSE(decode_generation("c abc:1 1\ns 1 1\n"));
}

}  // namespace
}  // namespace reel::views
