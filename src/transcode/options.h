// Settings of the media pipeline (probe limits, the rendition ladder, encoder and image settings,
// time limits), shared by probe, plan and transcoder. A plain value: copy it freely; the defaults
// are what `reel worker` uses unless its config says otherwise.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace reel::transcode {

struct Options {
  // The Debian binaries by default; argv[0] is looked up on PATH.
  std::string ffmpeg = "ffmpeg";
  std::string ffprobe = "ffprobe";

  // Limits on what is accepted (checked by probe; the messages name the limit).
  double max_duration_s = 3 * 3600;
  int max_dimension = 4096;  // longest side of the picture, pixels

  // Renditions: every ladder rung up to the source's short side (the "p" number: 480 means
  // 854x480 for 16:9, 480x854 for portrait). A source smaller than the lowest rung gets one
  // rendition at its own size.
  std::vector<int> ladder = {240, 360, 480, 720, 1080};
  std::string preset = "veryfast";  // libx264 preset
  int crf = 23;                     // quality target; the ladder's per-rung maxrate caps it
  double max_frame_rate = 60;       // faster sources are resampled to this rate
  double hls_segment_s = 4;         // keyframes are forced at this interval, so HLS cuts align

  // Images and the preview clip.
  int thumbnail_count = 10;      // thumbs/1.jpg .. thumbs/N.jpg, evenly spread
  double sprite_interval_s = 5;  // one sprite tile per interval ...
  int sprite_max_tiles = 100;    // ... widened so a long video stays within this many tiles
  int sprite_columns = 10;
  double preview_seconds = 4;  // muted hover preview: this many seconds in total ...
  int preview_clips = 4;       // ... taken as this many clips spread over the video

  // Time limits. A probe gets probe_time_limit; each ffmpeg run gets
  // run_time_limit + run_time_limit_per_source_second × the source's duration.
  std::chrono::milliseconds probe_time_limit = std::chrono::seconds(30);
  std::chrono::milliseconds run_time_limit = std::chrono::seconds(120);
  double run_time_limit_per_source_second = 20;

  // Refuse to start when the media root's file system has less free space than the plan's
  // estimate of its outputs.
  bool check_free_space = true;
};

}  // namespace reel::transcode
