#include "transcode/probe.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/fixtures.h"

namespace reel::transcode {
namespace {

// The parts of `ffprobe -print_format json -show_format -show_streams` the parser reads.
std::string document(const std::string& streams, const std::string& duration = "\"3.000000\"") {
  return R"({"streams": [)" + streams + R"(], "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2",
            "duration": )" +
         duration + R"(, "size": "406890", "bit_rate": "1085040"}})";
}

const std::string h264_480p = R"({"index": 0, "codec_name": "h264", "profile": "High", "codec_type": "video",
    "width": 854, "height": 480, "sample_aspect_ratio": "1:1", "pix_fmt": "yuv420p", "level": 30,
    "field_order": "progressive", "r_frame_rate": "25/1", "avg_frame_rate": "25/1", "duration": "3.000000",
    "disposition": {"default": 1, "attached_pic": 0}})";
const std::string aac = R"({"index": 1, "codec_name": "aac", "codec_type": "audio", "sample_rate": "44100"})";

TEST(Probe, ParsesVideoAndAudio) {
  auto info = parse_ffprobe_json(document(h264_480p + "," + aac));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_DOUBLE_EQ(info->duration_s, 3);
  EXPECT_EQ(info->width, 854);
  EXPECT_EQ(info->height, 480);
  EXPECT_EQ(info->rotation, 0);
  EXPECT_DOUBLE_EQ(info->frame_rate, 25);
  EXPECT_EQ(info->video_stream, 0);
  EXPECT_EQ(info->video_codec, "h264");
  EXPECT_EQ(info->video_profile, "High");
  EXPECT_EQ(info->video_level, 30);
  EXPECT_FALSE(info->interlaced);
  EXPECT_TRUE(info->has_audio);
  EXPECT_EQ(info->audio_stream, 1);
  EXPECT_EQ(info->size_bytes, 406890);
}

TEST(Probe, RotationSwapsTheDisplaySize) {
  const std::string rotated = R"({"index": 0, "codec_name": "h264", "codec_type": "video", "width": 1920,
      "height": 1080, "avg_frame_rate": "30000/1001",
      "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]})";
  auto info = parse_ffprobe_json(document(rotated));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->rotation, 270);
  EXPECT_EQ(info->width, 1080);
  EXPECT_EQ(info->height, 1920);
  EXPECT_NEAR(info->frame_rate, 29.97, 0.01);
  EXPECT_FALSE(info->has_audio);

  const std::string tagged = R"({"index": 0, "codec_name": "h264", "codec_type": "video", "width": 640,
      "height": 480, "tags": {"rotate": "90"}})";
  auto old = parse_ffprobe_json(document(tagged));
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->rotation, 90);
  EXPECT_EQ(old->width, 480);
}

TEST(Probe, PixelAspectRatioWidensTheDisplay) {
  const std::string anamorphic = R"({"index": 0, "codec_name": "mpeg2video", "codec_type": "video",
      "width": 720, "height": 576, "sample_aspect_ratio": "16:15", "field_order": "tt"})";
  auto info = parse_ffprobe_json(document(anamorphic));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 768);
  EXPECT_EQ(info->height, 576);
  EXPECT_EQ(info->coded_width, 720);
  EXPECT_TRUE(info->interlaced);
}

TEST(Probe, RejectsWhatIsNotAVideo) {
  auto audio_only = parse_ffprobe_json(document(aac));
  ASSERT_FALSE(audio_only.ok());
  EXPECT_EQ(audio_only.error().message, "not a video file: no video stream (audio only)");
  EXPECT_EQ(audio_only.error().kind, ErrorKind::invalid_input);

  const std::string cover = R"({"index": 0, "codec_name": "mjpeg", "codec_type": "video", "width": 500,
      "height": 500, "disposition": {"attached_pic": 1}})";
  auto music_with_cover = parse_ffprobe_json(document(cover + "," + aac));
  ASSERT_FALSE(music_with_cover.ok());
  EXPECT_EQ(music_with_cover.error().message, "not a video file: no video stream (audio only)");

  auto nothing = parse_ffprobe_json(document(""));
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().message, "not a video file: no video stream");

  auto still = parse_ffprobe_json(document(R"({"index": 0, "codec_name": "h264", "codec_type": "video",
      "width": 64, "height": 64})",
                                           "\"N/A\""));
  ASSERT_FALSE(still.ok());
  EXPECT_EQ(still.error().message, "not a video file: it has no duration");

  auto garbage = parse_ffprobe_json("not json");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().kind, ErrorKind::invalid_input);
  EXPECT_FALSE(parse_ffprobe_json(R"({"streams": 5})").ok());
}

TEST(Probe, LimitsNameTheLimit) {
  MediaInfo info;
  info.width = 1280;
  info.height = 720;
  info.duration_s = 3725;
  Options options;
  options.max_duration_s = 3600;
  auto status = check_limits(info, options);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "the video is too long: 1:02:05 (the limit is 1:00:00)");
  EXPECT_EQ(status.error().kind, ErrorKind::invalid_input);

  info.duration_s = 10;
  info.width = 8192;
  info.height = 4320;
  status = check_limits(info, options);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message,
            "the video is too large: 8192x4320 (the limit is 4096 pixels on the longest side)");

  info.width = 4096;
  info.height = 2160;
  EXPECT_TRUE(check_limits(info, options).ok());
}

TEST(Probe, DescribesFfprobeFailuresForTheUploader) {
  const std::string url = "file:/srv/uploads/42/clip: one.mp4";
  EXPECT_EQ(describe_probe_failure(url + ": Invalid data found when processing input\n", url),
            "not a video file: the format is not recognized");
  EXPECT_EQ(describe_probe_failure("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] moov atom not found\n" + url +
                                       ": Invalid data found when processing input\n",
                                   url),
            "the video file is truncated or corrupt (its index is missing)");
  EXPECT_EQ(
      describe_probe_failure(
          "[png_pipe @ 0x56] Format not on whitelist 'mov,matroska'\n" + url + ": Invalid argument\n", url),
      "not a video file: it is an image");
  EXPECT_EQ(describe_probe_failure("[tty @ 0x56] Format not on whitelist 'mov,matroska'\n", url),
            "not a video file: the format is not supported");
  EXPECT_EQ(describe_probe_failure(url + ": Permission denied\n\n", url),
            "cannot read the file: Permission denied");
}

// The worker fails an upload at once on invalid_input and retries anything else: the kind is set
// where the error is made (here and in the tests above), never read from the message.
TEST(Probe, FaultsOfTheUploadAreInvalidInputAndOthersAreNot) {
  const testing::TempDir dir;
  Options options;
  const std::string empty = (dir.path() / "empty.mp4").string();
  { std::ofstream touch(empty); }
  auto nothing = probe(empty, options);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().kind, ErrorKind::invalid_input) << nothing.error().message;

  // A probe that cannot run at all is the server's problem: worth a retry.
  const std::string text = (dir.path() / "text.mp4").string();
  std::ofstream(text) << "not a video";
  options.ffprobe = "reel-no-such-ffprobe";
  auto unstarted = probe(text, options);
  ASSERT_FALSE(unstarted.ok());
  EXPECT_EQ(unstarted.error().kind, ErrorKind::internal) << unstarted.error().message;
}

TEST(Probe, ClockText) {
  EXPECT_EQ(clock_text(0), "0:00");
  EXPECT_EQ(clock_text(65.4), "1:05");
  EXPECT_EQ(clock_text(3 * 3600 + 7), "3:00:07");
}

}  // namespace
}  // namespace reel::transcode
