#include "transcode/test_clip.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "transcode/run_tool.h"

namespace reel::transcode {
namespace {

// Runs ffmpeg writing `output` (the last argument); on failure nothing is left there.
Status run_ffmpeg(std::vector<std::string> args, const std::string& output, const Options& options) {
  auto argv = ffmpeg_command(options.ffmpeg);
  args.insert(args.begin(), argv.begin(), argv.end());
  args.push_back(file_url(output));
  const std::string log = output + ".log";
  auto exit = run_tool({.argv = args, .stderr_path = log, .what = "making a test clip"});
  std::error_code ignored;
  std::filesystem::remove(log, ignored);
  if (exit && exit->exit_code == 0) return {};
  std::filesystem::remove(output, ignored);
  if (!exit) return exit.error();
  return Error{"ffmpeg could not make a test clip: " + last_error_line(exit->stderr_text)};
}

}  // namespace

Status make_test_clip(const std::string& path, const ClipSpec& spec, const Options& options) {
  std::vector<std::string> args;
  if (spec.video) {
    args.insert(args.end(),
                {"-f", "lavfi", "-i",
                 fmt::format("testsrc2=size={}x{}:rate={:g}", spec.width, spec.height, spec.frame_rate)});
  }
  if (spec.audio) args.insert(args.end(), {"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"});
  args.insert(args.end(), {"-t", fmt::format("{:g}", spec.seconds)});
  if (spec.video) args.insert(args.end(), {"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"});
  if (spec.audio) args.insert(args.end(), {"-c:a", "aac", "-b:a", "96k"});
  if (spec.faststart) args.insert(args.end(), {"-movflags", "+faststart"});
  args.push_back("-shortest");
  if (spec.rotation == 0) return run_ffmpeg(std::move(args), path, options);

  // ffmpeg 5 applies the rotate tag only when copying a stream, so the clip is remuxed with it.
  const std::string upright = path + ".upright.mp4";
  if (auto made = run_ffmpeg(std::move(args), upright, options); !made) return made;
  auto rotated = run_ffmpeg(
      {"-i", file_url(upright), "-c", "copy", "-metadata:s:v:0", fmt::format("rotate={}", spec.rotation)},
      path, options);
  std::error_code ignored;
  std::filesystem::remove(upright, ignored);
  return rotated;
}

}  // namespace reel::transcode
