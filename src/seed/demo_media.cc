#include "seed/demo_media.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "process/child.h"

namespace reel::seed {
namespace {

namespace fs = std::filesystem;

constexpr int clip_seconds = 12;
constexpr std::chrono::seconds ffmpeg_time_limit{120};

struct Source {
  std::string_view name;
  std::string_view video_filter;  // lavfi source, 640x360
  int tone_hz;
};

constexpr Source sources[] = {
    {"testcard", "testsrc2=size=640x360:rate=25", 440},
    {"bars", "smptehdbars=size=640x360:rate=25", 1000},
    {"fractal", "mandelbrot=size=640x360:rate=25", 330},
    {"automaton", "cellauto=size=640x360:rate=25:rule=110", 550},
};

Status run_ffmpeg(std::vector<std::string> args, const fs::path& log) {
  args.insert(args.begin(), {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"});
  auto child = process::Child::spawn({.argv = args, .stderr_path = log.string()});
  if (!child) return Error{"cannot start ffmpeg (install the ffmpeg package): " + child.error().message};
  auto status = child->wait_for(ffmpeg_time_limit);
  if (!status) {
    child->stop();
    return Error{
        fmt::format("ffmpeg took longer than {} s; see {}", ffmpeg_time_limit.count(), log.string())};
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return Error{fmt::format("ffmpeg failed (status {}); see {}", *status, log.string())};
  }
  return {};
}

// Makes `target` with ffmpeg writing to a temporary name first, unless it exists.
Status make_file(const fs::path& target, std::vector<std::string> args, const fs::path& log) {
  if (fs::exists(target)) return {};
  const fs::path partial = target.string() + ".partial" + target.extension().string();
  args.push_back(partial.string());
  if (auto s = run_ffmpeg(std::move(args), log); !s) return s;
  std::error_code ec;
  fs::rename(partial, target, ec);
  if (ec) return Error{fmt::format("cannot rename {}: {}", partial.string(), ec.message())};
  return {};
}

catalog::VideoFile file_entry(const fs::path& root, const std::string& relative, std::string kind, int height,
                              std::string mime) {
  std::error_code ec;
  const auto bytes = fs::file_size(root / relative, ec);
  return {std::move(kind), height, relative, ec ? 0 : static_cast<int64_t>(bytes), std::move(mime)};
}

}  // namespace

Result<std::vector<Clip>> ensure_demo_media(const std::string& media_root) {
  const fs::path root(media_root);
  const fs::path dir = root / "demo";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{fmt::format("cannot create {}: {}", dir.string(), ec.message())};
  const fs::path log = dir / "ffmpeg.log";

  std::vector<Clip> clips;
  for (const auto& source : sources) {
    const std::string base = fmt::format("demo/{}", source.name);
    const fs::path mp4 = root / (base + ".mp4");
    auto made =
        make_file(mp4, {"-f",        "lavfi",
                        "-i",        std::string(source.video_filter),
                        "-f",        "lavfi",
                        "-i",        fmt::format("sine=frequency={}:sample_rate=44100", source.tone_hz),
                        "-t",        std::to_string(clip_seconds),
                        "-c:v",      "libx264",
                        "-preset",   "veryfast",
                        "-pix_fmt",  "yuv420p",
                        "-c:a",      "aac",
                        "-b:a",      "96k",
                        "-movflags", "+faststart",
                        "-shortest", "-f",
                        "mp4"},
                  log);
    if (!made) return made.error();
    for (auto [kind, size] : {std::pair{"poster", "640:360"}, std::pair{"thumb", "320:180"}}) {
      made = make_file(root / fmt::format("{}-{}.jpg", base, kind),
                       {"-ss", "4", "-i", mp4.string(), "-frames:v", "1", "-vf",
                        fmt::format("scale={}", size), "-q:v", "4", "-f", "image2"},
                       log);
      if (!made) return made.error();
    }
    Clip clip;
    clip.duration_s = clip_seconds;
    clip.files = {file_entry(root, base + ".mp4", "mp4", 360, "video/mp4"),
                  file_entry(root, base + "-poster.jpg", "poster", 360, "image/jpeg"),
                  file_entry(root, base + "-thumb.jpg", "thumb", 180, "image/jpeg")};
    clips.push_back(std::move(clip));
  }
  return clips;
}

}  // namespace reel::seed
