// test_clip: short synthetic media made with ffmpeg's test sources (testsrc2 picture, sine tone),
// for the pipeline's tests and benchmark and for demo content.
// Thread-safety: blocking call, no shared state.
// Failure: an Error with ffmpeg's last error line; nothing is left at `path` then.
#pragma once

#include <string>

#include "common/result.h"
#include "transcode/options.h"

namespace reel::transcode {

struct ClipSpec {
  double seconds = 3;
  int width = 320;
  int height = 240;
  double frame_rate = 25;
  bool video = true;  // false: audio only (AAC in whatever container `path` names)
  bool audio = true;
  bool faststart = true;  // MP4 index at the front (false: at the end, as cameras write it)
  int rotation = 0;       // display rotation metadata (90: a phone held upright)
};

// Writes an H.264/AAC clip to `path` (the container from its extension) with options.ffmpeg.
Status make_test_clip(const std::string& path, const ClipSpec& spec, const Options& options = {});

}  // namespace reel::transcode
