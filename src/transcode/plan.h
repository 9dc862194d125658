// plan: what the pipeline makes of one source video, decided before anything runs. Pure: the
// renditions of the ladder (sizes, bitrates), the image and preview sizes, the sprite layout, and
// the argv of each ffmpeg run, all from the probe's MediaInfo and the Options.
//
// Output layout, relative to the video's own directory (results keep these relative paths):
//   mp4/{rung}.mp4            H.264/AAC, +faststart, keyframes every hls_segment_s
//   hls/master.m3u8           master playlist (BANDWIDTH, AVERAGE-BANDWIDTH, RESOLUTION, CODECS)
//   hls/{rung}/index.m3u8     VOD variant playlist, fMP4: init.mp4 + 0.m4s, 1.m4s, ...
//   poster.jpg                one frame at 20% of the video (up to 30 s in), up to 720p
//   thumbs/{1..N}.jpg         N frames spread evenly (the middle of N equal parts), 180p
//   sprite.jpg + sprite.vtt   90p tiles every interval, and WebVTT cues "sprite.jpg#xywh=x,y,w,h"
//   preview.mp4               muted clip of preview_seconds sampled from the whole video, 240p
// A rung is the short side of the picture (480 = 854x480 landscape, 480x854 portrait).
//
// The runs: "encode" decodes the source once and writes every MP4 rendition, the poster, the
// thumbnails, the sprite and the preview from one filter graph; "hls" then remuxes the MP4s into
// the HLS variants with -c copy (no second encode; keyframes are already aligned to the segment
// length). Each run's working directory is the output directory; the source is the only
// absolute path, given as a "file:" URL so any file name is taken literally.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "transcode/options.h"
#include "transcode/probe.h"

namespace reel::transcode {

namespace layout {
std::string mp4(int rung);          // "mp4/480.mp4"
std::string hls_variant(int rung);  // "hls/480/index.m3u8"
std::string thumb(int n);           // "thumbs/3.jpg" (n from 1)
inline constexpr std::string_view hls_master = "hls/master.m3u8";
inline constexpr std::string_view poster = "poster.jpg";
inline constexpr std::string_view sprite_image = "sprite.jpg";
inline constexpr std::string_view sprite_vtt = "sprite.vtt";
inline constexpr std::string_view preview = "preview.mp4";
// Progress files of the runs; removed before the outputs are published.
inline constexpr std::string_view work = ".work";
}  // namespace layout

struct Size {
  int width = 0;
  int height = 0;
};

struct Rendition {
  int rung = 0;  // the short side, as in "480p"
  Size size{};
  int video_kbps = 0;  // libx264 maxrate (CRF below it); bufsize is twice this
  int audio_kbps = 0;  // AAC, stereo (0 when the source has no audio)
};

struct SpriteSheet {
  Size tile{};
  int columns = 0;
  int rows = 0;
  int tiles = 0;  // cues in the VTT; the sheet may have blank cells after them
  double interval_s = 0;
};

struct Step {
  std::string name{};  // "encode", "hls"
  std::vector<std::string> argv{};
  std::string progress_path{};  // the -progress file, relative to the output directory
  double weight = 0;            // share of the whole job's progress
};

struct Plan {
  double duration_s = 0;
  bool has_audio = false;
  std::vector<Rendition> renditions{};  // ascending rung
  Size poster{};
  double poster_at_s = 0;
  Size thumb{};
  int thumbnail_count = 0;
  SpriteSheet sprite{};
  Size preview{};
  std::vector<std::string> directories{};  // to create (relative) before the steps run
  std::vector<Step> steps{};
};

// `input_path` must be absolute (the runs' working directory is the output directory).
// Error only for a MediaInfo without a picture or duration (probe never returns one).
Result<Plan> make_plan(const MediaInfo& info, const std::string& input_path, const Options& options);

// The pieces of make_plan, for tests and callers that show the ladder.
std::vector<int> rungs_for(const MediaInfo& info, const Options& options);
Size scaled_size(const MediaInfo& info, int rung);  // short side = rung; even numbers, aspect kept
int video_kbps_for(Size size, double frame_rate);
// The [start, end] seconds the preview is cut from.
std::vector<std::pair<double, double>> preview_windows(double duration_s, const Options& options);

// The WebVTT document for the sprite sheet: one cue per tile, "{image_uri}#xywh=x,y,w,h".
std::string sprite_vtt(const SpriteSheet& sprite, double duration_s, std::string_view image_uri);

// A generous estimate of the bytes the outputs take (MP4s and HLS at their maxrate, images,
// preview), for the free-space check.
int64_t estimated_output_bytes(const Plan& plan);

}  // namespace reel::transcode
