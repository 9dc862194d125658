// The whole pipeline against the real ffmpeg/ffprobe on tiny generated clips: what it makes, and
// how each kind of bad input or failure ends (a clear Error, nothing left behind).
#include "transcode/transcoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <stop_token>

#include "support/fixtures.h"
#include "transcode/run_tool.h"
#include "transcode/test_clip.h"

namespace reel::transcode {
namespace {

namespace fs = std::filesystem;
using reel::testing::read_file;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

// The types of an MP4's top-level boxes, in file order.
std::vector<std::string> top_level_boxes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> types;
  const auto file_size = static_cast<uint64_t>(fs::file_size(path));
  uint64_t offset = 0;
  while (offset + 8 <= file_size) {
    unsigned char header[16];
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(reinterpret_cast<char*>(header), 16);
    uint64_t size = (uint64_t{header[0]} << 24) | (header[1] << 16) | (header[2] << 8) | header[3];
    types.emplace_back(reinterpret_cast<char*>(header + 4), 4);
    if (size == 1) {
      size = 0;
      for (int i = 8; i < 16; ++i) size = size << 8 | header[i];
    }
    if (size < 8) break;
    offset += size;
  }
  return types;
}

bool is_jpeg(const fs::path& path) {
  const std::string head = read_file(path).substr(0, 3);
  return head == "\xff\xd8\xff";
}

class Transcoder : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.hls_segment_s = 1;  // several segments even in a 3 s clip
    fs::create_directories(root());
  }

  fs::path root() const { return dir_.path() / "media"; }
  fs::path out() const { return root() / "videos" / "7"; }
  Job job(const fs::path& input, std::string output_dir = "videos/7") const {
    return {.input_path = input.string(), .media_root = root().string(), .output_dir = std::move(output_dir)};
  }

  fs::path clip(const std::string& name, const ClipSpec& spec) {
    const fs::path path = dir_.path() / name;
    auto made = make_test_clip(path.string(), spec, options_);
    EXPECT_TRUE(made.ok()) << made.error().message;
    return path;
  }

  // Runs the whole job and expects it to fail with a message containing `message`, leaving no
  // file under the media root.
  void expect_rejected(const fs::path& input, const std::string& message) {
    auto result = process_video(job(input), options_);
    ASSERT_FALSE(result.ok()) << input.filename();
    EXPECT_THAT(result.error().message, HasSubstr(message)) << input.filename();
    expect_nothing_left();
  }

  void expect_nothing_left() {
    for (const auto& entry : fs::recursive_directory_iterator(root())) {
      EXPECT_TRUE(entry.is_directory()) << "left behind: " << entry.path();
      EXPECT_NE(entry.path().filename().string().substr(0, 1), "7") << "left behind: " << entry.path();
    }
  }

  testing::TempDir dir_;
  Options options_;
};

TEST_F(Transcoder, Transcodes480pClipIntoEveryOutput) {
  const fs::path input = clip("source.mp4", {.seconds = 3, .width = 854, .height = 480});
  std::vector<double> progress;
  auto result = process_video(job(input), options_, [&](double f) { progress.push_back(f); });
  ASSERT_TRUE(result.ok()) << result.error().message;

  // The files, as the caller will insert them.
  std::map<std::string, catalog::VideoFile> by_path;
  for (const auto& f : result->files) {
    by_path[f.path] = f;
    EXPECT_EQ(f.path.substr(0, 9), "videos/7/");
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(root() / f.path)), f.bytes) << f.path;
    EXPECT_GT(f.bytes, 0) << f.path;
  }
  for (int rung : {240, 360, 480}) {
    const std::string path = "videos/7/mp4/" + std::to_string(rung) + ".mp4";
    ASSERT_TRUE(by_path.count(path)) << path;
    EXPECT_EQ(by_path[path].kind, "mp4");
    EXPECT_EQ(by_path[path].height, rung);
    EXPECT_EQ(by_path[path].mime, "video/mp4");
  }
  EXPECT_EQ(by_path["videos/7/hls/master.m3u8"].kind, "hls");
  EXPECT_EQ(by_path["videos/7/poster.jpg"].kind, "poster");
  EXPECT_EQ(by_path["videos/7/sprite.jpg"].kind, "sprite");
  EXPECT_EQ(by_path["videos/7/sprite.vtt"].mime, "text/vtt");
  EXPECT_EQ(by_path["videos/7/preview.mp4"].kind, "preview");
  EXPECT_EQ(by_path["videos/7/thumbs/10.jpg"].kind, "thumb");
  EXPECT_EQ(result->files.size(), 3u + 1 + 1 + 10 + 2 + 1);
  EXPECT_GT(result->total_bytes, by_path["videos/7/mp4/480.mp4"].bytes * 2);  // HLS copies counted
  EXPECT_DOUBLE_EQ(result->source.duration_s, 3);

  // Renditions: H.264 + AAC at the planned sizes, full length, moov before mdat (+faststart).
  const std::map<int, int> widths = {{240, 426}, {360, 640}, {480, 854}};
  for (auto [rung, width] : widths) {
    const fs::path mp4 = out() / "mp4" / (std::to_string(rung) + ".mp4");
    auto info = probe(mp4.string(), options_);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->video_codec, "h264");
    EXPECT_EQ(info->width, width);
    EXPECT_EQ(info->height, rung);
    EXPECT_EQ(info->audio_codec, "aac");
    EXPECT_NEAR(info->duration_s, 3, 0.2);
    const auto boxes = top_level_boxes(mp4);
    const auto moov = std::find(boxes.begin(), boxes.end(), "moov");
    const auto mdat = std::find(boxes.begin(), boxes.end(), "mdat");
    ASSERT_NE(moov, boxes.end());
    ASSERT_NE(mdat, boxes.end());
    EXPECT_LT(moov, mdat) << "not faststart: " << mp4;
  }

  // HLS: the master lists each variant with its attributes; each variant's segments exist.
  const std::string master = read_file(out() / "hls/master.m3u8");
  EXPECT_EQ(master.substr(0, 8), "#EXTM3U\n");
  const std::regex variant(
      R"(#EXT-X-STREAM-INF:BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=\d+,RESOLUTION=(\d+)x(\d+),FRAME-RATE=25\.000,CODECS="avc1\.64[0-9a-f]{4},mp4a\.40\.2"\n(\d+)/index\.m3u8)");
  int variants = 0;
  for (std::sregex_iterator it(master.begin(), master.end(), variant), end; it != end; ++it, ++variants) {
    EXPECT_GT(std::stol((*it)[1]), 0);
    EXPECT_EQ((*it)[3], (*it)[4]);
    const fs::path playlist = out() / "hls" / (*it)[4].str() / "index.m3u8";
    const std::string text = read_file(playlist);
    EXPECT_THAT(text, HasSubstr("#EXT-X-PLAYLIST-TYPE:VOD"));
    EXPECT_THAT(text, HasSubstr("#EXT-X-MAP:URI=\"init.mp4\""));
    EXPECT_THAT(text, HasSubstr("#EXT-X-ENDLIST"));
    EXPECT_TRUE(fs::exists(playlist.parent_path() / "init.mp4"));
    EXPECT_TRUE(fs::exists(playlist.parent_path() / "0.m4s"));
    EXPECT_TRUE(fs::exists(playlist.parent_path() / "2.m4s")) << "1 s segments expected";
  }
  EXPECT_EQ(variants, 3);

  // Sprite and its WebVTT: every cue points into sprite.jpg, inside the image.
  auto sprite = probe((out() / "sprite.jpg").string(), options_);
  EXPECT_FALSE(sprite.ok());                   // an image is not accepted as a video ...
  EXPECT_TRUE(is_jpeg(out() / "sprite.jpg"));  // ... but it is a JPEG
  const std::string vtt = read_file(out() / "sprite.vtt");
  EXPECT_EQ(vtt.substr(0, 7), "WEBVTT\n");
  const std::regex cue(
      R"((\d\d:\d\d:\d\d\.\d\d\d) --> (\d\d:\d\d:\d\d\.\d\d\d)\nsprite\.jpg#xywh=(\d+),(\d+),(\d+),(\d+)\n)");
  int cues = 0;
  for (std::sregex_iterator it(vtt.begin(), vtt.end(), cue), end; it != end; ++it, ++cues) {
    EXPECT_LT((*it)[1].str(), (*it)[2].str());
    EXPECT_EQ(std::stoi((*it)[5]), 160);
    EXPECT_EQ(std::stoi((*it)[6]), 90);
  }
  EXPECT_EQ(cues, 1);  // 3 s at one tile per 5 s

  // Images and the preview.
  EXPECT_TRUE(is_jpeg(out() / "poster.jpg"));
  for (int n = 1; n <= 10; ++n) EXPECT_TRUE(is_jpeg(out() / ("thumbs/" + std::to_string(n) + ".jpg"))) << n;
  EXPECT_NE(read_file(out() / "thumbs/1.jpg"), read_file(out() / "thumbs/10.jpg"));
  auto preview = probe((out() / "preview.mp4").string(), options_);
  ASSERT_TRUE(preview.ok()) << preview.error().message;
  EXPECT_FALSE(preview->has_audio);
  EXPECT_EQ(preview->height, 240);
  EXPECT_NEAR(preview->duration_s, 3, 0.2);

  // Progress: from 0 to 1, never backwards, with steps in between.
  ASSERT_GE(progress.size(), 3u);
  EXPECT_DOUBLE_EQ(progress.front(), 0);
  EXPECT_DOUBLE_EQ(progress.back(), 1);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_TRUE(std::any_of(progress.begin(), progress.end(), [](double f) { return f > 0 && f < 1; }));

  // Nothing but the published directory.
  EXPECT_FALSE(has_staging(out().string()));
  EXPECT_FALSE(fs::exists(out() / ".work"));
}

TEST_F(Transcoder, SmallSilentSourceGetsOneRendition) {
  const fs::path input = clip("tiny.mp4", {.seconds = 2, .width = 356, .height = 200, .audio = false});
  auto result = process_video(job(input), options_);
  ASSERT_TRUE(result.ok()) << result.error().message;
  std::vector<int> heights;
  for (const auto& f : result->files) {
    if (f.kind == "mp4") heights.push_back(f.height);
  }
  EXPECT_EQ(heights, std::vector<int>{200});
  auto info = probe((out() / "mp4/200.mp4").string(), options_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 356);
  EXPECT_FALSE(info->has_audio);
  EXPECT_THAT(read_file(out() / "hls/master.m3u8"),
              HasSubstr("RESOLUTION=356x200,FRAME-RATE=25.000,CODECS=\"avc1.64"));
  EXPECT_THAT(read_file(out() / "hls/master.m3u8"), ::testing::Not(HasSubstr("mp4a")));
}

TEST_F(Transcoder, PhoneVideoComesOutUpright) {
  // 320x240 stored, displayed turned a quarter: 240x320 portrait.
  const fs::path input = clip("phone.mp4", {.seconds = 2, .width = 320, .height = 240, .rotation = 90});
  auto result = process_video(job(input), options_);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->source.width, 240);
  EXPECT_EQ(result->source.height, 320);
  auto info = probe((out() / "mp4/240.mp4").string(), options_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 240);
  EXPECT_EQ(info->height, 320);
  EXPECT_EQ(info->rotation, 0);
}

TEST_F(Transcoder, OddFileNamesAreTakenLiterally) {
  const fs::path plain = clip("plain.mp4", {.seconds = 1, .width = 320, .height = 240});
  for (std::string name : {"-leading dash.mp4", "it's \"quoted\" ünïcödé 日本 %d:1 $(x).mp4"}) {
    const fs::path odd = dir_.path() / name;
    fs::copy_file(plain, odd);
    auto result = process_video(job(odd, "videos/odd name €"), options_);
    ASSERT_TRUE(result.ok()) << name << ": " << result.error().message;
    EXPECT_TRUE(fs::exists(root() / "videos/odd name €/mp4/240.mp4"));
    EXPECT_EQ(result->files.front().path, "videos/odd name €/mp4/240.mp4");
  }
}

TEST_F(Transcoder, RejectsWhatIsNotAUsableVideo) {
  const fs::path text = dir_.path() / "notes.txt";
  std::ofstream(text) << "this is not a video\n";
  expect_rejected(text, "not a video file");

  const fs::path empty = dir_.path() / "empty.mp4";
  std::ofstream{empty};
  expect_rejected(empty, "the file is empty");

  expect_rejected(clip("song.m4a", {.seconds = 1, .video = false}),
                  "not a video file: no video stream (audio only)");

  const fs::path image = dir_.path() / "picture.png";
  auto made = run_tool({.argv = {"ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                                 "testsrc2=size=64x64", "-frames:v", "1", image.string()},
                        .stderr_path = (dir_.path() / "png.log").string()});
  ASSERT_TRUE(made.ok() && made->exit_code == 0);
  expect_rejected(image, "not a video file: it is an image");

  // Cut in half with the index at the end (as cameras write): no index at all.
  const fs::path whole = clip("camera.mp4", {.seconds = 3, .width = 320, .height = 240, .faststart = false});
  const fs::path cut = dir_.path() / "camera-cut.mp4";
  fs::copy_file(whole, cut);
  fs::resize_file(cut, fs::file_size(whole) / 2);
  expect_rejected(cut, "the video file is truncated or corrupt");

  options_.max_duration_s = 2;
  expect_rejected(whole, "the video is too long: 0:03 (the limit is 0:02)");
  options_ = {};
  options_.max_dimension = 300;
  expect_rejected(whole, "the video is too large: 320x240");
}

TEST_F(Transcoder, TruncatedFileWithItsIndexFirstFailsAfterDecoding) {
  // The index survives the cut, so ffprobe is satisfied; the encode runs out of data.
  const fs::path whole = clip("web.mp4", {.seconds = 3, .width = 320, .height = 240});
  const fs::path cut = dir_.path() / "web-cut.mp4";
  fs::copy_file(whole, cut);
  fs::resize_file(cut, fs::file_size(whole) / 2);
  expect_rejected(cut, "the video file is truncated or corrupt: only 0:0");
}

TEST_F(Transcoder, HungFfmpegIsKilledAtTheTimeLimit) {
  // A FIFO nobody writes to: ffmpeg blocks opening it, as on a stalled network file system.
  auto source = probe(clip("real.mp4", {.seconds = 1}).string(), options_);
  ASSERT_TRUE(source.ok());
  const fs::path fifo = dir_.path() / "stalled.mp4";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  options_.run_time_limit = 1s;
  options_.run_time_limit_per_source_second = 0;
  auto result = transcode(job(fifo), *source, options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "processing timed out after 1 s");
  expect_nothing_left();
}

TEST_F(Transcoder, StopTokenKillsTheRunningJob) {
  const fs::path input = clip("source.mp4", {.seconds = 3, .width = 640, .height = 360});
  std::stop_source stop;
  // Asked to stop as soon as the job reports it started: ffmpeg is running or about to.
  auto result = process_video(
      job(input), options_, [&](double) { stop.request_stop(); }, stop.get_token());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "processing cancelled");
  expect_nothing_left();
}

TEST_F(Transcoder, WriteFailureRemovesPartialOutputs) {
  const fs::path input = clip("source.mp4", {.seconds = 3, .width = 640, .height = 360});
  // Files may grow to 32 KiB only (inherited by ffmpeg), as a disk that fills up mid-job.
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit small = saved;
  small.rlim_cur = 32 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  auto result = process_video(job(input), options_);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("cannot write the processed files"));
  expect_nothing_left();
}

TEST_F(Transcoder, ReplacesAnEarlierAttempt) {
  fs::create_directories(out() / "mp4");
  std::ofstream(out() / "mp4/1080.mp4") << "stale";
  const fs::path input = clip("source.mp4", {.seconds = 1, .width = 320, .height = 240});
  auto result = process_video(job(input), options_);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_FALSE(fs::exists(out() / "mp4/1080.mp4"));
  EXPECT_TRUE(fs::exists(out() / "mp4/240.mp4"));
  EXPECT_FALSE(fs::exists(out().string() + ".old"));
  EXPECT_FALSE(has_staging(out().string()));
}

// A worker that died mid-job left its staging directory, perhaps with an ffmpeg still writing
// into it; the next attempt writes into its own and removes the stale one.
TEST_F(Transcoder, AnAttemptNeverSharesItsStagingDirectory) {
  const fs::path stale = out().string() + ".partial/999999-1";
  fs::create_directories(stale / "mp4");
  std::ofstream(stale / "mp4/240.mp4") << "written by an orphaned ffmpeg";
  const fs::path input = clip("source.mp4", {.seconds = 1, .width = 320, .height = 240});
  auto result = process_video(job(input), options_);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(has_staging(out().string()));
  EXPECT_NE(read_file(out() / "mp4/240.mp4"), "written by an orphaned ffmpeg");
}

TEST_F(Transcoder, OutputDirectoryStaysUnderTheMediaRoot) {
  MediaInfo source{.duration_s = 1, .width = 320, .height = 240, .video_stream = 0};
  for (std::string dir : {"../escape", "videos/../../escape", "/abs/path", ""}) {
    auto result = transcode(job("/nonexistent.mp4", dir), source, options_);
    ASSERT_FALSE(result.ok()) << dir;
    EXPECT_THAT(result.error().message, HasSubstr("output directory")) << dir;
  }
  EXPECT_FALSE(fs::exists(dir_.path() / "escape"));
}

TEST(DescribeRunFailure, NamesTheCause) {
  EXPECT_EQ(
      describe_run_failure("[mp4 @ 0x1] Error writing trailer of mp4/240.mp4: No space left on device\n", ""),
      "cannot write the processed files: the disk is full");
  EXPECT_EQ(
      describe_run_failure("file:/up/a.mp4: Invalid data found when processing input\n", "file:/up/a.mp4"),
      "processing failed: Invalid data found when processing input");
  EXPECT_EQ(describe_run_failure("", ""), "processing failed");
}

}  // namespace
}  // namespace reel::transcode
