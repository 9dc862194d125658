// transcoder: one media job, start to end: probe the upload, run the plan's ffmpeg runs, check
// what they wrote, write the HLS master playlist and the sprite's WebVTT, and publish the video's
// directory. What `reel worker` calls for one job from the queue; the layout is in plan.h.
//
// Outputs are written to "{output_dir}.partial/{pid}-{n}" beside the final directory (one per
// attempt, so an ffmpeg orphaned by a worker that died never writes into a later attempt's files;
// earlier attempts' directories are removed when a job starts) and renamed into place only when
// everything is there and checked, so the final directory is either absent or complete; an
// existing one (from an earlier attempt at the same job) is replaced. On any failure,
// cancellation or timeout the partial directory is removed: no partial outputs are left.
//
// Thread-safety: transcode() and process_video() block the calling thread for the whole job (run
// them on a worker thread, one job per call; jobs on different output directories are
// independent; two jobs on the same output directory at once are not supported: the queue
// must hand a job to one worker at a time). The progress callback runs on the calling thread.
// Failure: an Error whose message can be shown to the uploader: probe's messages (not a video,
// truncated, too long, too large, empty), "the video file is truncated or corrupt: only 0:01 of
// 0:03 could be decoded", "processing timed out after N s", "processing cancelled", "not enough
// disk space ...", "cannot write the processed files: the disk is full", "processing failed: <ffmpeg's
// last error line>"; server-side problems (ffmpeg missing, an unwritable media root) say so.
// The upload's own faults (probe's, and the truncated decode) are ErrorKind::invalid_input, so the
// worker fails them at once; every other Error is worth a retry.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "catalog/model.h"
#include "common/result.h"
#include "transcode/options.h"
#include "transcode/probe.h"

namespace reel::transcode {

struct Job {
  std::string input_path{};  // the uploaded file; any name
  std::string media_root{};  // the directory VideoFile paths are relative to (the media URL root)
  std::string output_dir{};  // the video's directory relative to media_root, e.g. "videos/42"; no ".."
};

// Kinds of the files in TranscodeResult::files (catalog::VideoFile::kind).
inline constexpr std::string_view kind_mp4 = "mp4";  // height = rung
inline constexpr std::string_view kind_hls = "hls";  // the master playlist; height = top rung
inline constexpr std::string_view kind_poster = "poster";
inline constexpr std::string_view kind_thumb = "thumb";  // thumbs/1.jpg .. N, in order
inline constexpr std::string_view kind_sprite =
    "sprite";  // sprite.jpg (image/jpeg) and sprite.vtt (text/vtt)
inline constexpr std::string_view kind_preview = "preview";

struct StepTiming {
  std::string name{};  // "encode", "verify", "hls", "publish"
  double seconds = 0;
};

struct TranscodeResult {
  MediaInfo source{};
  // Ready to insert as video_files rows: kind, height (renditions), path relative to media_root
  // ("videos/42/mp4/480.mp4"), bytes, mime. HLS segments are not listed (they live under
  // "{output_dir}/hls/"); deleting the video means deleting output_dir.
  std::vector<catalog::VideoFile> files{};
  int64_t total_bytes = 0;  // everything under the output directory, HLS segments included
  std::vector<StepTiming> timings{};
};

// Called with a fraction of the whole job, 0 to 1, never decreasing.
using ProgressCallback = std::function<void(double fraction)>;

// Probes `job.input_path`, then transcodes it. `stop` cancels the job (the running ffmpeg is
// killed at once).
Result<TranscodeResult> process_video(const Job& job, const Options& options,
                                      const ProgressCallback& progress = {}, std::stop_token stop = {});

// Transcodes a source already probed as `source`.
Result<TranscodeResult> transcode(const Job& job, const MediaInfo& source, const Options& options,
                                  const ProgressCallback& progress = {}, std::stop_token stop = {});

// The uploader's message for an ffmpeg run that exited with an error, from its stderr.
std::string describe_run_failure(std::string_view stderr_text, std::string_view input_url);

// Whether any attempt's staging directory is left beside `final_dir` (see above).
bool has_staging(const std::string& final_dir);

}  // namespace reel::transcode
