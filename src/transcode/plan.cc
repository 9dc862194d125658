#include "transcode/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "transcode/run_tool.h"

namespace reel::transcode {

namespace layout {
std::string mp4(int rung) {
  return fmt::format("mp4/{}.mp4", rung);
}
std::string hls_variant(int rung) {
  return fmt::format("hls/{}/index.m3u8", rung);
}
std::string thumb(int n) {
  return fmt::format("thumbs/{}.jpg", n);
}
}  // namespace layout

namespace {

constexpr int thumb_rung = 180;
constexpr int sprite_rung = 90;
constexpr int preview_rung = 240;
constexpr int poster_max_rung = 720;
constexpr double preview_fps = 15;
constexpr int preview_crf = 30;
// maxrate of a 426x240 picture at 30 fps; other sizes scale with pixels^0.8 (bigger pictures
// need fewer bits per pixel), and rates above 31 fps get half as much again.
constexpr double base_kbps = 400;
constexpr double base_pixels = 426.0 * 240.0;

int even_down(int value) {
  return std::max(2, value / 2 * 2);
}
// The nearest even number, a tie going down (427 → 426, as 16:9 at 240 is written).
int even_round(double value) {
  return std::max(2, static_cast<int>(std::ceil(value / 2.0 - 0.5)) * 2);
}

// min(rung, the source's short side): images and the preview are never scaled up.
int capped_rung(const MediaInfo& info, int rung) {
  return std::min(rung, even_down(std::min(info.width, info.height)));
}

// "0.250": seconds in filter expressions and cues, to the millisecond.
std::string secs(double seconds) {
  return fmt::format("{:.3f}", seconds);
}

std::string scale(Size size) {
  return fmt::format("scale={}:{},setsar=1", size.width, size.height);
}

std::vector<std::string> ffmpeg_head(const Options& options, std::string_view progress_path) {
  auto argv = ffmpeg_command(options.ffmpeg);
  argv.insert(argv.end(), {"-progress", std::string(progress_path)});
  return argv;
}

void append(std::vector<std::string>& argv, std::initializer_list<std::string> more) {
  argv.insert(argv.end(), more);
}

// libx264 settings shared by the renditions and the preview.
void append_x264(std::vector<std::string>& argv, const Options& options, int crf, int maxrate_kbps) {
  append(argv, {"-c:v", "libx264", "-preset", options.preset, "-profile:v", "high", "-pix_fmt", "yuv420p",
                "-crf", std::to_string(crf), "-maxrate", fmt::format("{}k", maxrate_kbps), "-bufsize",
                fmt::format("{}k", 2 * maxrate_kbps)});
}

Step encode_step(const Plan& plan, const MediaInfo& info, const std::string& input_path,
                 const Options& options) {
  Step step{.name = "encode", .progress_path = std::string(layout::work) + "/encode.progress", .weight = 0.9};
  // One decode, split into every output's chain.
  std::string pre;
  if (info.interlaced) pre += "bwdif=deint=interlaced,";
  if (info.frame_rate > options.max_frame_rate) pre += fmt::format("fps={:g},", options.max_frame_rate);
  const size_t branches = plan.renditions.size() + 4;
  std::string graph = fmt::format("[0:{}]{}split={}", info.video_stream, pre, branches);
  for (size_t i = 0; i < branches; ++i) graph += fmt::format("[s{}]", i);
  size_t branch = 0;
  for (const auto& r : plan.renditions)
    graph += fmt::format(";[s{}]{}[v{}]", branch++, scale(r.size), r.rung);
  graph += fmt::format(";[s{}]select=gte(t\\,{})*eq(selected_n\\,0),{}[poster]", branch++,
                       secs(plan.poster_at_s), scale(plan.poster));
  // The first frame at or after the middle of each of N equal parts.
  graph += fmt::format(";[s{}]select=gte(t\\,(selected_n+0.5)*{}),{}[thumbs]", branch++,
                       secs(plan.duration_s / plan.thumbnail_count), scale(plan.thumb));
  graph += fmt::format(";[s{}]select=gte(t\\,selected_n*{}),{},tile={}x{}[sprite]", branch++,
                       secs(plan.sprite.interval_s), scale(plan.sprite.tile), plan.sprite.columns,
                       plan.sprite.rows);
  std::string windows;
  for (const auto& [start, end] : preview_windows(plan.duration_s, options)) {
    windows += fmt::format("{}between(t\\,{}\\,{})", windows.empty() ? "" : "+", secs(start), secs(end));
  }
  graph += fmt::format(";[s{}]fps={:g},select={},setpts=N/{:g}/TB,{}[preview]", branch++, preview_fps,
                       windows, preview_fps, scale(plan.preview));

  auto& argv = step.argv = ffmpeg_head(options, step.progress_path);
  append(argv, {"-format_whitelist", format_whitelist, "-protocol_whitelist", "file", "-i",
                file_url(input_path), "-filter_complex", graph});
  const std::string keyframes = fmt::format("expr:gte(t,n_forced*{:g})", options.hls_segment_s);
  for (const auto& r : plan.renditions) {
    append(argv, {"-map", fmt::format("[v{}]", r.rung)});
    if (plan.has_audio) append(argv, {"-map", fmt::format("0:{}", info.audio_stream)});
    append_x264(argv, options, options.crf, r.video_kbps);
    append(argv, {"-force_key_frames", keyframes});
    if (plan.has_audio) append(argv, {"-c:a", "aac", "-b:a", fmt::format("{}k", r.audio_kbps), "-ac", "2"});
    append(argv,
           {"-max_muxing_queue_size", "1024", "-movflags", "+faststart", "-f", "mp4", layout::mp4(r.rung)});
  }
  // Image outputs take the selected frames as they come (image2 would otherwise repeat frames to
  // keep the source's frame rate, and -frames:v would count the copies).
  append(argv, {"-map", "[poster]", "-fps_mode", "passthrough", "-frames:v", "1", "-update", "1", "-q:v", "3",
                "-f", "image2", std::string(layout::poster)});
  append(argv,
         {"-map", "[thumbs]", "-fps_mode", "passthrough", "-frames:v", std::to_string(plan.thumbnail_count),
          "-q:v", "5", "-start_number", "1", "-f", "image2", "thumbs/%d.jpg"});
  append(argv, {"-map", "[sprite]", "-fps_mode", "passthrough", "-frames:v", "1", "-update", "1", "-q:v", "5",
                "-f", "image2", std::string(layout::sprite_image)});
  append(argv, {"-map", "[preview]", "-an"});
  append_x264(argv, options, preview_crf, video_kbps_for(plan.preview, preview_fps) / 2);
  append(argv, {"-movflags", "+faststart", "-f", "mp4", std::string(layout::preview)});
  return step;
}

Step hls_step(const Plan& plan, const Options& options) {
  Step step{.name = "hls", .progress_path = std::string(layout::work) + "/hls.progress", .weight = 0.08};
  auto& argv = step.argv = ffmpeg_head(options, step.progress_path);
  for (const auto& r : plan.renditions) append(argv, {"-i", "file:" + layout::mp4(r.rung)});
  for (size_t i = 0; i < plan.renditions.size(); ++i) {
    const int rung = plan.renditions[i].rung;
    append(argv, {"-map", fmt::format("{}:v:0", i)});
    if (plan.has_audio) append(argv, {"-map", fmt::format("{}:a:0", i)});
    append(argv, {"-c", "copy", "-f", "hls", "-hls_time", fmt::format("{:g}", options.hls_segment_s),
                  "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename",
                  "init.mp4", "-hls_flags", "independent_segments", "-hls_segment_filename",
                  fmt::format("hls/{}/%d.m4s", rung), layout::hls_variant(rung)});
  }
  return step;
}

}  // namespace

std::vector<int> rungs_for(const MediaInfo& info, const Options& options) {
  const int short_side = std::min(info.width, info.height);
  std::vector<int> rungs;
  for (int rung : options.ladder) {
    if (rung > 0 && rung <= short_side) rungs.push_back(even_down(rung));
  }
  std::sort(rungs.begin(), rungs.end());
  rungs.erase(std::unique(rungs.begin(), rungs.end()), rungs.end());
  if (rungs.empty()) rungs.push_back(even_down(short_side));
  return rungs;
}

Size scaled_size(const MediaInfo& info, int rung) {
  const bool portrait = info.height > info.width;
  const double short_side = portrait ? info.width : info.height;
  const double long_side = portrait ? info.height : info.width;
  const int scaled_long = even_round(long_side * rung / short_side);
  const int scaled_short = even_down(rung);
  return portrait ? Size{scaled_short, scaled_long} : Size{scaled_long, scaled_short};
}

int video_kbps_for(Size size, double frame_rate) {
  double kbps = base_kbps * std::pow(static_cast<double>(size.width) * size.height / base_pixels, 0.8);
  if (frame_rate > 31) kbps *= 1.5;
  return static_cast<int>(std::lround(kbps / 10.0)) * 10;
}

std::vector<std::pair<double, double>> preview_windows(double duration_s, const Options& options) {
  const double total = options.preview_seconds;
  const int clips = std::max(1, options.preview_clips);
  // A short video is previewed from its start; a longer one by clips centred in equal parts.
  if (duration_s <= 2 * total || clips == 1) return {{0.0, std::min(duration_s, total)}};
  const double length = total / clips;
  std::vector<std::pair<double, double>> windows;
  for (int i = 0; i < clips; ++i) {
    const double start = duration_s * (i + 0.5) / clips - length / 2;
    windows.emplace_back(start, start + length);
  }
  return windows;
}

Result<Plan> make_plan(const MediaInfo& info, const std::string& input_path, const Options& options) {
  if (info.width <= 0 || info.height <= 0 || info.duration_s <= 0 || info.video_stream < 0) {
    return Error{"cannot plan the processing: the video has no picture size or duration"};
  }
  Plan plan;
  plan.duration_s = info.duration_s;
  plan.has_audio = info.has_audio && info.audio_stream >= 0;
  const double frame_rate = std::min(info.frame_rate > 0 ? info.frame_rate : 25.0, options.max_frame_rate);
  for (int rung : rungs_for(info, options)) {
    Rendition r{.rung = rung, .size = scaled_size(info, rung)};
    r.video_kbps = video_kbps_for(r.size, frame_rate);
    r.audio_kbps = plan.has_audio ? (rung < 480 ? 96 : 128) : 0;
    plan.renditions.push_back(r);
  }

  int poster_rung = plan.renditions.front().rung;
  for (const auto& r : plan.renditions) {
    if (r.rung <= poster_max_rung) poster_rung = r.rung;
  }
  plan.poster = scaled_size(info, poster_rung);
  plan.poster_at_s = info.duration_s < 1 ? 0 : std::min(info.duration_s * 0.2, 30.0);
  plan.thumb = scaled_size(info, capped_rung(info, thumb_rung));
  plan.thumbnail_count = std::max(1, options.thumbnail_count);
  plan.preview = scaled_size(info, capped_rung(info, preview_rung));

  // Tiles every interval (widened for long videos) up to the last frame, so the last cell is filled.
  SpriteSheet& sprite = plan.sprite;
  sprite.tile = scaled_size(info, capped_rung(info, sprite_rung));
  sprite.interval_s =
      std::max(options.sprite_interval_s, info.duration_s / std::max(1, options.sprite_max_tiles));
  const double last_frame_s = info.duration_s - 1.0 / frame_rate;
  sprite.tiles = std::max(1, static_cast<int>(std::ceil(last_frame_s / sprite.interval_s - 1e-9)));
  sprite.columns = std::min(sprite.tiles, std::max(1, options.sprite_columns));
  sprite.rows = (sprite.tiles + sprite.columns - 1) / sprite.columns;

  plan.directories = {std::string(layout::work), "mp4", "thumbs", "hls"};
  for (const auto& r : plan.renditions) plan.directories.push_back(fmt::format("hls/{}", r.rung));
  plan.steps.push_back(encode_step(plan, info, input_path, options));
  plan.steps.push_back(hls_step(plan, options));
  return plan;
}

std::string sprite_vtt(const SpriteSheet& sprite, double duration_s, std::string_view image_uri) {
  auto timestamp = [](double seconds) {
    const long ms = std::lround(seconds * 1000);
    return fmt::format("{:02}:{:02}:{:02}.{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
  };
  std::string vtt = "WEBVTT\n";
  for (int i = 0; i < sprite.tiles; ++i) {
    const double start = i * sprite.interval_s;
    const double end = i + 1 == sprite.tiles ? std::max(duration_s, start) : (i + 1) * sprite.interval_s;
    vtt += fmt::format("\n{} --> {}\n{}#xywh={},{},{},{}\n", timestamp(start), timestamp(end), image_uri,
                       i % sprite.columns * sprite.tile.width, i / sprite.columns * sprite.tile.height,
                       sprite.tile.width, sprite.tile.height);
  }
  return vtt;
}

int64_t estimated_output_bytes(const Plan& plan) {
  double bits_per_second = 0;
  for (const auto& r : plan.renditions) bits_per_second += (r.video_kbps + r.audio_kbps) * 1000.0;
  // The MP4s and their HLS copies, plus the images and the preview (a few MB at most).
  const double bytes = 2 * bits_per_second / 8 * plan.duration_s;
  return static_cast<int64_t>(bytes) + 8 * 1024 * 1024;
}

}  // namespace reel::transcode
