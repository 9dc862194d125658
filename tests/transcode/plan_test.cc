#include "transcode/plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace reel::transcode {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

MediaInfo source(int width, int height, double duration_s = 3, bool audio = true) {
  MediaInfo info;
  info.width = info.coded_width = width;
  info.height = info.coded_height = height;
  info.duration_s = duration_s;
  info.frame_rate = 25;
  info.video_stream = 0;
  info.video_codec = "h264";
  info.has_audio = audio;
  info.audio_stream = audio ? 1 : -1;
  return info;
}

Plan plan_for(const MediaInfo& info, const Options& options = {}) {
  auto plan = make_plan(info, "/uploads/clip.mp4", options);
  EXPECT_TRUE(plan.ok()) << (plan.ok() ? "" : plan.error().message);
  return plan.ok() ? std::move(plan).value() : Plan{};
}

std::vector<std::string> sizes(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& r : plan.renditions)
    out.push_back(std::to_string(r.size.width) + "x" + std::to_string(r.size.height));
  return out;
}

// The argument after `flag` in `argv`, "" when absent.
std::string after(const std::vector<std::string>& argv, const std::string& flag) {
  auto it = std::find(argv.begin(), argv.end(), flag);
  return it == argv.end() || it + 1 == argv.end() ? "" : *(it + 1);
}

TEST(Plan, LadderStopsAtTheSourceHeight) {
  const Plan plan = plan_for(source(854, 480));
  EXPECT_EQ(sizes(plan), (std::vector<std::string>{"426x240", "640x360", "854x480"}));
  EXPECT_LT(plan.renditions[0].video_kbps, plan.renditions[1].video_kbps);
  EXPECT_LT(plan.renditions[1].video_kbps, plan.renditions[2].video_kbps);
  EXPECT_EQ(plan.renditions[0].audio_kbps, 96);
  EXPECT_EQ(plan.renditions[2].audio_kbps, 128);
}

TEST(Plan, SourceBetweenRungsGetsTheRungsBelowIt) {
  EXPECT_EQ(sizes(plan_for(source(1000, 600))), (std::vector<std::string>{"400x240", "600x360", "800x480"}));
}

TEST(Plan, LargeSourcesStopAtTheTopRung) {
  EXPECT_EQ(sizes(plan_for(source(3840, 2160))),
            (std::vector<std::string>{"426x240", "640x360", "854x480", "1280x720", "1920x1080"}));
}

TEST(Plan, SmallSourceGetsOneRenditionAtItsOwnEvenHeight) {
  EXPECT_EQ(sizes(plan_for(source(356, 200))), (std::vector<std::string>{"356x200"}));
  EXPECT_EQ(sizes(plan_for(source(177, 101))), (std::vector<std::string>{"176x100"}));
}

TEST(Plan, PortraitRungIsTheShortSide) {
  EXPECT_EQ(sizes(plan_for(source(720, 1280))),
            (std::vector<std::string>{"240x426", "360x640", "480x854", "720x1280"}));
}

TEST(Plan, KeepsOddAspectRatiosEven) {
  for (const auto& r : plan_for(source(1001, 487)).renditions) {
    EXPECT_EQ(r.size.width % 2, 0);
    EXPECT_EQ(r.size.height % 2, 0);
  }
  EXPECT_EQ(scaled_size(source(1920, 800), 240).width, 576);
}

TEST(Plan, BitrateGrowsWithPixelsAndFrameRate) {
  EXPECT_EQ(video_kbps_for({426, 240}, 25), 400);
  EXPECT_GT(video_kbps_for({426, 240}, 60), video_kbps_for({426, 240}, 30));
  const int hd = video_kbps_for({1920, 1080}, 30);
  EXPECT_GT(hd, 3500);
  EXPECT_LT(hd, 6000);
}

TEST(Plan, EncodeStepDecodesOnceIntoEveryOutput) {
  const Plan plan = plan_for(source(854, 480));
  ASSERT_EQ(plan.steps.size(), 2u);
  const auto& argv = plan.steps[0].argv;
  EXPECT_EQ(argv.front(), "ffmpeg");
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "-i"), 1);
  EXPECT_EQ(after(argv, "-i"), "file:/uploads/clip.mp4");
  EXPECT_EQ(after(argv, "-format_whitelist"), format_whitelist);
  EXPECT_EQ(after(argv, "-protocol_whitelist"), "file");
  EXPECT_EQ(after(argv, "-preset"), "veryfast");
  EXPECT_EQ(after(argv, "-movflags"), "+faststart");
  EXPECT_EQ(after(argv, "-force_key_frames"), "expr:gte(t,n_forced*4)");
  EXPECT_EQ(after(argv, "-progress"), ".work/encode.progress");
  for (std::string out : {"mp4/240.mp4", "mp4/360.mp4", "mp4/480.mp4", "poster.jpg", "thumbs/%d.jpg",
                          "sprite.jpg", "preview.mp4"}) {
    EXPECT_THAT(argv, Contains(out));
  }
  const std::string graph = after(argv, "-filter_complex");
  EXPECT_THAT(graph, HasSubstr("[0:0]split=7"));
  EXPECT_THAT(graph, HasSubstr("scale=426:240,setsar=1[v240]"));
  EXPECT_THAT(graph, HasSubstr("tile=1x1[sprite]"));
  EXPECT_THAT(graph, Not(HasSubstr("bwdif")));
  EXPECT_THAT(argv, Contains("0:1"));  // the audio stream
  EXPECT_THAT(argv, Contains("aac"));
}

TEST(Plan, SilentSourceMapsNoAudio) {
  // The plan is kept: a reference into a temporary one dangled (found by the ASan unit run).
  const Plan plan = plan_for(source(854, 480, 3, false));
  const auto& argv = plan.steps[0].argv;
  EXPECT_THAT(argv, Not(Contains("aac")));
  EXPECT_THAT(argv, Not(Contains("0:1")));
  EXPECT_THAT(plan.steps[1].argv, Not(Contains("0:a:0")));
}

TEST(Plan, InterlacedAndFastSourcesAreFiltered) {
  MediaInfo info = source(1920, 1080);
  info.interlaced = true;
  info.frame_rate = 120;
  const std::string graph = after(plan_for(info).steps[0].argv, "-filter_complex");
  EXPECT_THAT(graph, HasSubstr("bwdif=deint=interlaced,fps=60,split="));
}

TEST(Plan, HlsStepRemuxesTheMp4s) {
  const Plan plan = plan_for(source(640, 360));
  const auto& argv = plan.steps[1].argv;
  EXPECT_EQ(plan.steps[1].name, "hls");
  EXPECT_THAT(argv, Contains("file:mp4/240.mp4"));
  EXPECT_THAT(argv, Contains("file:mp4/360.mp4"));
  EXPECT_EQ(after(argv, "-c"), "copy");
  EXPECT_THAT(argv, Not(Contains("libx264")));
  EXPECT_EQ(after(argv, "-hls_segment_type"), "fmp4");
  EXPECT_EQ(after(argv, "-hls_playlist_type"), "vod");
  EXPECT_THAT(argv, Contains("hls/360/index.m3u8"));
  EXPECT_THAT(argv, Contains("hls/360/%d.m4s"));
  EXPECT_THAT(plan.directories, Contains("hls/360"));
}

TEST(Plan, SpriteTilesCoverTheVideo) {
  SpriteSheet short_clip = plan_for(source(854, 480, 3)).sprite;
  EXPECT_EQ(short_clip.tiles, 1);
  EXPECT_EQ(short_clip.tile.width, 160);
  EXPECT_EQ(short_clip.tile.height, 90);

  SpriteSheet minute = plan_for(source(1280, 720, 60)).sprite;
  EXPECT_DOUBLE_EQ(minute.interval_s, 5);
  EXPECT_EQ(minute.tiles, 12);
  EXPECT_EQ(minute.columns, 10);
  EXPECT_EQ(minute.rows, 2);

  SpriteSheet hour = plan_for(source(1280, 720, 3600)).sprite;
  EXPECT_DOUBLE_EQ(hour.interval_s, 36);
  EXPECT_EQ(hour.tiles, 100);
  EXPECT_EQ(hour.rows, 10);
}

TEST(Plan, SpriteVttHasOneCuePerTile) {
  const SpriteSheet sprite = plan_for(source(1280, 720, 61.5)).sprite;
  ASSERT_EQ(sprite.tiles, 13);
  const std::string vtt = sprite_vtt(sprite, 61.5, "sprite.jpg");
  EXPECT_EQ(vtt.substr(0, 7), "WEBVTT\n");
  EXPECT_THAT(vtt, HasSubstr("\n00:00:00.000 --> 00:00:05.000\nsprite.jpg#xywh=0,0,160,90\n"));
  EXPECT_THAT(vtt, HasSubstr("\n00:00:50.000 --> 00:00:55.000\nsprite.jpg#xywh=0,90,160,90\n"));
  EXPECT_THAT(vtt, HasSubstr("\n00:01:00.000 --> 00:01:01.500\nsprite.jpg#xywh=320,90,160,90\n"));
  size_t cues = 0;
  for (size_t at = 0; (at = vtt.find("-->", at)) != std::string::npos; ++at) ++cues;
  EXPECT_EQ(cues, 13u);
}

TEST(Plan, PreviewSamplesTheWholeVideo) {
  Options options;
  auto short_windows = preview_windows(3, options);
  ASSERT_EQ(short_windows.size(), 1u);
  EXPECT_DOUBLE_EQ(short_windows[0].second, 3);
  auto windows = preview_windows(60, options);
  ASSERT_EQ(windows.size(), 4u);
  EXPECT_DOUBLE_EQ(windows[0].first, 7);
  EXPECT_DOUBLE_EQ(windows[0].second, 8);
  EXPECT_DOUBLE_EQ(windows[3].first, 52);
}

TEST(Plan, ImagesAreNeverScaledUp) {
  const Plan plan = plan_for(source(160, 120));
  EXPECT_EQ(plan.thumb.height, 120);
  EXPECT_EQ(plan.preview.height, 120);
  EXPECT_EQ(plan.sprite.tile.height, 90);
  EXPECT_EQ(plan.poster.height, 120);
  const Plan big = plan_for(source(3840, 2160, 100));
  EXPECT_EQ(big.poster.height, 720);
  EXPECT_DOUBLE_EQ(big.poster_at_s, 20);
}

TEST(Plan, EstimateGrowsWithDuration) {
  const int64_t minute = estimated_output_bytes(plan_for(source(1280, 720, 60)));
  const int64_t hour = estimated_output_bytes(plan_for(source(1280, 720, 3600)));
  EXPECT_GT(minute, 10 << 20);
  EXPECT_GT(hour, 50 * minute);
}

TEST(Plan, RefusesAnEmptyMediaInfo) {
  EXPECT_FALSE(make_plan(MediaInfo{}, "/x.mp4", Options{}).ok());
}

}  // namespace
}  // namespace reel::transcode
