#include "transcode/transcoder.h"

#include <fmt/format.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "transcode/hls.h"
#include "transcode/plan.h"
#include "transcode/run_tool.h"
#include "transcode/scoped_dir.h"

namespace reel::transcode {
namespace {

namespace fs = std::filesystem;

// Passes fractions on to the caller's callback, never backwards and not more often than every
// 0.1% of the job.
class Progress {
 public:
  explicit Progress(const ProgressCallback& callback) : callback_(callback) {}
  void report(double fraction) {
    fraction = std::clamp(fraction, 0.0, 1.0);
    if (!callback_ || (fraction < last_ + 0.001 && !(fraction == 1.0 && last_ < 1.0))) return;
    last_ = fraction;
    callback_(fraction);
  }

 private:
  const ProgressCallback& callback_;
  double last_ = -1;
};

class StepClock {
 public:
  explicit StepClock(std::vector<StepTiming>& timings) : timings_(timings) {}
  void lap(std::string name) {
    const auto now = std::chrono::steady_clock::now();
    timings_.push_back({std::move(name), std::chrono::duration<double>(now - start_).count()});
    start_ = now;
  }

 private:
  std::vector<StepTiming>& timings_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

Status check_output_dir(const Job& job) {
  const fs::path dir(job.output_dir);
  if (job.output_dir.empty() || dir.is_absolute()) {
    return Error{"the output directory must be a path relative to the media root"};
  }
  for (const auto& part : dir) {
    if (part == "..") return Error{"the output directory must not contain '..'"};
  }
  return {};
}

Status write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return Error{"cannot write the processed files: writing " + path.filename().string() + " failed"};
  return {};
}

Status check_free_space(const fs::path& dir, const Plan& plan) {
  struct statvfs fs_stats {};
  if (statvfs(dir.c_str(), &fs_stats) != 0) return {};  // unknown: let the runs find out
  const auto free_bytes = static_cast<int64_t>(fs_stats.f_bavail) * static_cast<int64_t>(fs_stats.f_frsize);
  const int64_t needed = estimated_output_bytes(plan);
  if (free_bytes >= needed) return {};
  return Error{fmt::format("not enough disk space to process the video: about {} MB needed, {} MB free",
                           needed >> 20, free_bytes >> 20)};
}

Status run_step(const Step& step, const fs::path& dir, const std::string& input_url, double base,
                double duration_s, const Options& options, Progress& progress, std::stop_token stop) {
  const auto limit = options.run_time_limit +
                     std::chrono::milliseconds(
                         static_cast<int64_t>(options.run_time_limit_per_source_second * duration_s * 1000));
  auto exit = run_tool(
      {.argv = step.argv,
       .working_dir = dir.string(),
       .stderr_path = (dir / layout::work / (step.name + ".log")).string(),
       .progress_path = (dir / step.progress_path).string(),
       .on_progress =
           [&](double seconds) { progress.report(base + step.weight * std::min(1.0, seconds / duration_s)); },
       .time_limit = limit,
       .stop = std::move(stop)});
  if (!exit) return exit.error();
  if (exit->exit_code != 0) return Error{describe_run_failure(exit->stderr_text, input_url)};
  progress.report(base + step.weight);
  return {};
}

// ffprobes each MP4 rendition: H.264 at the planned size, as long as the source (a shorter one
// means the decoder ran out of data: a truncated or corrupt upload).
Result<std::vector<MediaInfo>> verify_renditions(const Plan& plan, const fs::path& dir,
                                                 const Options& options, std::stop_token stop) {
  Options unlimited = options;
  unlimited.max_duration_s = std::max(options.max_duration_s, plan.duration_s) * 2;
  std::vector<MediaInfo> infos;
  for (const auto& r : plan.renditions) {
    auto info = probe((dir / layout::mp4(r.rung)).string(), unlimited, stop);
    if (!info && stop.stop_requested()) return Error{"processing cancelled"};
    if (!info)
      return Error{fmt::format("processing failed: the {}p rendition is unreadable ({})", r.rung,
                               info.error().message)};
    if (info->video_codec != "h264" || info->width != r.size.width || info->height != r.size.height) {
      return Error{fmt::format("processing failed: the {}p rendition came out as {} {}x{}", r.rung,
                               info->video_codec, info->width, info->height)};
    }
    const double tolerance = std::max(1.0, 0.05 * plan.duration_s);
    if (info->duration_s < plan.duration_s - tolerance) {
      return Error{fmt::format("the video file is truncated or corrupt: only {} of {} could be decoded",
                               clock_text(info->duration_s), clock_text(plan.duration_s)),
                   ErrorKind::invalid_input};
    }
    infos.push_back(std::move(*info));
  }
  return infos;
}

Status write_master_playlist(const Plan& plan, const std::vector<MediaInfo>& renditions,
                             const fs::path& dir) {
  std::vector<Variant> variants;
  for (size_t i = 0; i < plan.renditions.size(); ++i) {
    const auto& r = plan.renditions[i];
    auto stats = variant_stats(dir / layout::hls_variant(r.rung));
    if (!stats) return Error{"processing failed: " + stats.error().message};
    std::string codecs = avc_codec(renditions[i].video_profile, renditions[i].video_level);
    if (plan.has_audio) codecs += ",mp4a.40.2";
    variants.push_back({.uri = fmt::format("{}/index.m3u8", r.rung),
                        .bandwidth = stats->peak_bps,
                        .average_bandwidth = stats->average_bps,
                        .width = r.size.width,
                        .height = r.size.height,
                        .frame_rate = renditions[i].frame_rate,
                        .codecs = std::move(codecs)});
  }
  return write_file(dir / layout::hls_master, master_playlist(variants));
}

// Where every attempt at the job writing `final_dir` stages its outputs, one subdirectory each.
fs::path attempts_dir(const fs::path& final_dir) {
  return final_dir.string() + ".partial";
}

// This attempt's own subdirectory of attempts_dir(): unique per process and attempt.
fs::path attempt_dir(const fs::path& attempts) {
  static std::atomic<uint64_t> attempts_made{0};
  return attempts / fmt::format("{}-{}", ::getpid(), ++attempts_made);
}

// Moves the staged outputs in `dir` to `final_dir`, replacing an earlier attempt's directory.
Status publish(const fs::path& dir, const fs::path& final_dir) {
  std::error_code ec;
  fs::remove_all(dir / layout::work, ec);
  const fs::path old = final_dir.string() + ".old";
  fs::remove_all(old, ec);
  if (fs::exists(final_dir)) fs::rename(final_dir, old, ec);
  if (!ec) fs::rename(dir, final_dir, ec);
  if (ec) return Error{fmt::format("cannot publish the processed files: {}", ec.message())};
  fs::remove_all(old, ec);
  return {};
}

std::vector<catalog::VideoFile> list_files(const Plan& plan, const fs::path& dir, const std::string& prefix) {
  std::vector<catalog::VideoFile> files;
  auto add = [&](std::string_view kind, int height, const std::string& relative, std::string mime) {
    std::error_code ec;
    const auto bytes = fs::file_size(dir / relative, ec);
    if (ec) return;
    files.push_back(
        {std::string(kind), height, prefix + relative, static_cast<int64_t>(bytes), std::move(mime)});
  };
  for (const auto& r : plan.renditions) add(kind_mp4, r.rung, layout::mp4(r.rung), "video/mp4");
  add(kind_hls, plan.renditions.back().rung, std::string(layout::hls_master),
      "application/vnd.apple.mpegurl");
  add(kind_poster, 0, std::string(layout::poster), "image/jpeg");
  for (int n = 1; n <= plan.thumbnail_count; ++n) add(kind_thumb, 0, layout::thumb(n), "image/jpeg");
  add(kind_sprite, 0, std::string(layout::sprite_image), "image/jpeg");
  add(kind_sprite, 0, std::string(layout::sprite_vtt), "text/vtt");
  add(kind_preview, 0, std::string(layout::preview), "video/mp4");
  return files;
}

int64_t tree_bytes(const fs::path& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) total += static_cast<int64_t>(it->file_size(size_ec));
  }
  return total;
}

}  // namespace

std::string describe_run_failure(std::string_view stderr_text, std::string_view input_url) {
  if (stderr_text.find("No space left on device") != std::string_view::npos) {
    return "cannot write the processed files: the disk is full";
  }
  const std::string line = last_error_line(stderr_text, input_url);
  return line.empty() ? "processing failed" : "processing failed: " + line;
}

Result<TranscodeResult> transcode(const Job& job, const MediaInfo& source, const Options& options,
                                  const ProgressCallback& callback, std::stop_token stop) {
  if (auto valid = check_output_dir(job); !valid) return valid.error();
  const std::string input_path = fs::absolute(job.input_path).string();
  auto plan = make_plan(source, input_path, options);
  if (!plan) return plan.error();

  TranscodeResult result;
  result.source = source;
  StepClock clock(result.timings);
  Progress progress(callback);
  progress.report(0);

  const fs::path final_dir = fs::path(job.media_root) / job.output_dir;
  // Earlier attempts' subdirectories are stale (whoever runs the job holds its lease: a worker that
  // died left them, perhaps with an orphaned ffmpeg still writing into one, which then fails on
  // its unlinked directory). Removed now, and with this attempt's leftovers on every way out.
  ScopedDir attempts(attempts_dir(final_dir));
  std::error_code ec;
  fs::remove_all(attempts.path(), ec);
  const fs::path dir = attempt_dir(attempts.path());
  for (const auto& sub : plan->directories) {
    fs::create_directories(dir / sub, ec);
    if (ec)
      return Error{fmt::format("cannot create the video's directory {}: {}", dir.string(), ec.message())};
  }
  if (options.check_free_space) {
    if (auto space = check_free_space(dir, *plan); !space) return space.error();
  }

  const std::string input_url = file_url(input_path);
  double base = 0;
  const Step& encode = plan->steps.at(0);
  if (auto s = run_step(encode, dir, input_url, base, source.duration_s, options, progress, stop); !s)
    return s.error();
  base += encode.weight;
  clock.lap(encode.name);

  auto renditions = verify_renditions(*plan, dir, options, stop);
  if (!renditions) return renditions.error();
  for (auto required : {layout::poster, layout::sprite_image, layout::preview}) {
    if (!fs::exists(dir / required)) return Error{fmt::format("processing failed: no {} was made", required)};
  }
  if (auto s = write_file(dir / layout::sprite_vtt,
                          sprite_vtt(plan->sprite, plan->duration_s, layout::sprite_image));
      !s) {
    return s.error();
  }
  clock.lap("verify");

  const Step& hls = plan->steps.at(1);
  if (auto s = run_step(hls, dir, input_url, base, source.duration_s, options, progress, stop); !s)
    return s.error();
  if (auto s = write_master_playlist(*plan, *renditions, dir); !s) return s.error();
  clock.lap(hls.name);

  if (stop.stop_requested()) return Error{"processing cancelled"};
  if (auto s = publish(dir, final_dir); !s) return s.error();
  std::string prefix = fs::path(job.output_dir).lexically_normal().generic_string();
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  result.files = list_files(*plan, final_dir, prefix);
  result.total_bytes = tree_bytes(final_dir);
  clock.lap("publish");
  progress.report(1.0);
  return result;
}

Result<TranscodeResult> process_video(const Job& job, const Options& options,
                                      const ProgressCallback& progress, std::stop_token stop) {
  auto source = probe(job.input_path, options, stop);
  if (!source) return source.error();
  return transcode(job, *source, options, progress, std::move(stop));
}

bool has_staging(const std::string& final_dir) {
  return fs::exists(attempts_dir(final_dir));
}

}  // namespace reel::transcode
