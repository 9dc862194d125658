// probe: what a media file is, by running ffprobe on it (with a time limit), and whether the
// pipeline accepts it. Only real video containers are opened: ffprobe and ffmpeg get a demuxer
// whitelist (no playlists, no image sequences, no concat lists that could reach other files) and
// the file protocol only.
// Thread-safety: pure functions and blocking calls with no shared state; safe from any thread.
// Failure: an Error whose message is fit to show to the uploader: "the file is empty",
// "not a video file: no video stream (audio only)", "not a video file: it is an image",
// "the video file is truncated or corrupt (...)", "the video is too long: ...", "the video is too
// large: ...", "reading the file timed out after N s"; a problem on the server side (ffprobe
// missing) says so.
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>

#include "common/result.h"
#include "transcode/options.h"

namespace reel::transcode {

struct MediaInfo {
  double duration_s = 0;
  int width = 0;  // as displayed: after the rotation and the pixel aspect ratio
  int height = 0;
  int coded_width = 0;  // as stored in the stream
  int coded_height = 0;
  int rotation = 0;       // degrees the player turns the picture: 0, 90, 180 or 270
  double frame_rate = 0;  // average frames per second (0 when unknown)
  bool interlaced = false;
  int video_stream = -1;        // the stream index ffmpeg's -map takes ("0:N")
  std::string video_codec{};    // "h264", "hevc", "vp9", ...
  std::string video_profile{};  // "High", "Main", ... ("" when unknown)
  int video_level = 0;          // as ffprobe prints it: 31 for level 3.1
  std::string pixel_format{};
  bool has_audio = false;
  int audio_stream = -1;
  std::string audio_codec{};
  std::string format{};  // ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  int64_t size_bytes = 0;
  int64_t bit_rate = 0;  // bits per second of the whole file (0 when unknown)
};

// The demuxers probe and transcode allow (ffmpeg's -format_whitelist).
extern const char* const format_whitelist;

// Runs ffprobe on `path` (any file name: spaces, quotes, unicode, a leading dash) and checks the
// result against `options` (duration, resolution). `stop` cancels the run. What is wrong with the
// file itself (not a video, empty, truncated, over a limit) is an ErrorKind::invalid_input; a
// tool that cannot start, times out or is cancelled is ErrorKind::internal.
Result<MediaInfo> probe(const std::string& path, const Options& options, std::stop_token stop = {});

// The pieces of probe, pure, for tests: ffprobe's `-print_format json -show_format -show_streams`
// document to a MediaInfo (an Error when it holds no playable video) ...
Result<MediaInfo> parse_ffprobe_json(std::string_view json);
// ... the limits of `options` ...
Status check_limits(const MediaInfo& info, const Options& options);
// ... and the uploader's message for a failed ffprobe, from its stderr; `input` is the URL
// ffprobe was given (left out of the message).
std::string describe_probe_failure(std::string_view stderr_text, std::string_view input);

// "0:42", "1:02:03": a duration as the messages print it.
std::string clock_text(double seconds);

}  // namespace reel::transcode
