// Demo media: a few short clips made with ffmpeg's test sources (H.264/AAC MP4, +faststart) with
// a poster and a thumbnail each, so the demo catalog and synthetic catalogs have videos that
// really play. Files go under <media root>/demo/; clips already there are reused.
// Failure: an Error with ffmpeg's exit status and the log path; a half-written file is never
// left under its final name.
#pragma once

#include <string>
#include <vector>

#include "catalog/model.h"
#include "common/result.h"

namespace reel::seed {

struct Clip {
  int32_t duration_s = 0;
  std::vector<catalog::VideoFile> files;  // mp4, poster, thumb; paths relative to the media root
};

Result<std::vector<Clip>> ensure_demo_media(const std::string& media_root);

}  // namespace reel::seed
