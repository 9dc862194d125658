// Time of the whole media pipeline (probe, encode, verify, HLS remux, publish) on a synthetic
// clip: testsrc2 + a sine tone, H.264/AAC, made first and not timed. Prints each step and the
// figure docs/benchmarks.md records: seconds of processing per minute of source (wall time, and the
// CPU time of the ffmpeg/ffprobe processes, which other load on a shared machine moves less).
// Run: /work/build/bench/transcode/reel_transcode_bench [--seconds 60] [--size 1280x720]
//      [--preset veryfast] [--keep DIR]
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "transcode/test_clip.h"
#include "transcode/transcoder.h"

namespace {

namespace fs = std::filesystem;
using namespace reel::transcode;

double children_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  auto seconds = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int usage() {
  std::fprintf(stderr, "usage: reel_transcode_bench [--seconds N] [--size WxH] [--preset P] [--keep DIR]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ClipSpec spec{.seconds = 60, .width = 1280, .height = 720};
  Options options;
  std::string keep;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) return usage();
    const std::string arg = argv[i];
    const std::string value = argv[i + 1];
    if (arg == "--seconds") {
      spec.seconds = std::atof(value.c_str());
    } else if (arg == "--size") {
      if (std::sscanf(value.c_str(), "%dx%d", &spec.width, &spec.height) != 2) return usage();
    } else if (arg == "--preset") {
      options.preset = value;
    } else if (arg == "--keep") {
      keep = value;
    } else {
      return usage();
    }
  }

  const fs::path dir = keep.empty()
                           ? fs::temp_directory_path() / fmt::format("reel-transcode-bench-{}", getpid())
                           : fs::path(keep);
  fs::create_directories(dir);
  const fs::path source = dir / fmt::format("source-{}x{}-{:g}s.mp4", spec.width, spec.height, spec.seconds);
  if (!fs::exists(source)) {
    fmt::print("making {} ...\n", source.string());
    if (auto made = make_test_clip(source.string(), spec, options); !made) {
      fmt::print(stderr, "{}\n", made.error().message);
      return 1;
    }
  }

  const double cpu_before = children_cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  auto result = process_video(
      {.input_path = source.string(), .media_root = dir.string(), .output_dir = "out"}, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = children_cpu_seconds() - cpu_before;
  if (!result) {
    fmt::print(stderr, "failed: {}\n", result.error().message);
    return 1;
  }
  fmt::print("source: {}x{} {:g} s, {} renditions, preset {}, {} cores\n", result->source.width,
             result->source.height, result->source.duration_s,
             std::count_if(result->files.begin(), result->files.end(),
                           [](const auto& f) { return f.kind == kind_mp4; }),
             options.preset, std::thread::hardware_concurrency());
  for (const auto& step : result->timings) fmt::print("  {:8} {:7.2f} s\n", step.name, step.seconds);
  const double minutes = result->source.duration_s / 60;
  fmt::print("total {:.2f} s wall, {:.2f} s CPU (probe included); outputs {:.1f} MB\n", seconds, cpu,
             result->total_bytes / 1e6);
  fmt::print("per minute of source: {:.1f} s of processing (wall), {:.1f} CPU-seconds\n", seconds / minutes,
             cpu / minutes);
  if (keep.empty()) fs::remove_all(dir);
  return 0;
}
