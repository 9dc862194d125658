#include "transcode/hls.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace reel::transcode {
namespace {

TEST(Hls, VariantStatsMeasureSegments) {
  const std::string playlist =
      "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n"
      "#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.000000,\n0.m4s\n#EXTINF:4.000000,\n1.m4s\n"
      "#EXTINF:2.000000,\n2.m4s\n#EXT-X-ENDLIST\n";
  const std::map<std::string, int64_t, std::less<>> sizes = {
      {"init.mp4", 1000}, {"0.m4s", 100000}, {"1.m4s", 300000}, {"2.m4s", 50000}};
  auto stats = variant_stats(playlist, [&](std::string_view uri) -> int64_t {
    auto it = sizes.find(uri);
    return it == sizes.end() ? -1 : it->second;
  });
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->segments, 3);
  EXPECT_DOUBLE_EQ(stats->duration_s, 10);
  EXPECT_EQ(stats->peak_bps, 600000);     // 1.m4s: 300000 B × 8 / 4 s
  EXPECT_EQ(stats->average_bps, 360800);  // 451000 B × 8 / 10 s
}

TEST(Hls, VariantStatsFailOnMissingSegments) {
  auto stats = variant_stats("#EXTM3U\n#EXTINF:4,\n0.m4s\n", [](std::string_view) -> int64_t { return -1; });
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().message, "HLS segment 0.m4s is missing");
  EXPECT_FALSE(
      variant_stats("#EXTM3U\n#EXT-X-ENDLIST\n", [](std::string_view) -> int64_t { return 1; }).ok());
}

TEST(Hls, AvcCodecStrings) {
  EXPECT_EQ(avc_codec("High", 31), "avc1.64001f");
  EXPECT_EQ(avc_codec("High", 40), "avc1.640028");
  EXPECT_EQ(avc_codec("Main", 30), "avc1.4d001e");
  EXPECT_EQ(avc_codec("Constrained Baseline", 30), "avc1.42e01e");
}

TEST(Hls, MasterPlaylistListsVariants) {
  const std::string master = master_playlist({{.uri = "240/index.m3u8",
                                               .bandwidth = 500000,
                                               .average_bandwidth = 400000,
                                               .width = 426,
                                               .height = 240,
                                               .frame_rate = 25,
                                               .codecs = "avc1.640015,mp4a.40.2"},
                                              {.uri = "480/index.m3u8",
                                               .bandwidth = 1500000,
                                               .average_bandwidth = 1200000,
                                               .width = 854,
                                               .height = 480,
                                               .codecs = "avc1.64001e"}});
  EXPECT_EQ(
      master,
      "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=500000,AVERAGE-BANDWIDTH=400000,RESOLUTION=426x240,FRAME-RATE=25.000,"
      "CODECS=\"avc1.640015,mp4a.40.2\"\n240/index.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1500000,AVERAGE-BANDWIDTH=1200000,RESOLUTION=854x480,"
      "CODECS=\"avc1.64001e\"\n480/index.m3u8\n");
}

}  // namespace
}  // namespace reel::transcode
