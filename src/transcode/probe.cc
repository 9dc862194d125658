#include "transcode/probe.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <system_error>

#include "transcode/run_tool.h"
#include "transcode/scoped_dir.h"

namespace reel::transcode {

// Containers people upload video in, and audio-only ones (so an audio file is told apart from an
// unknown format). A name matches any of a demuxer's aliases ("mov" admits "mov,mp4,m4a,...").
const char* const format_whitelist = "mov,matroska,webm,avi,flv,mpegts,mpeg,asf,ogg,mxf,dv,mp3,wav,flac,aac";

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ffprobe prints numbers as strings ("3.000000", "25/1"); these read either form, 0 when absent.
double number(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return 0;
  if (it->is_number()) return it->get<double>();
  if (!it->is_string()) return 0;
  double value = 0;
  return std::sscanf(it->get<std::string>().c_str(), "%lf", &value) == 1 && std::isfinite(value) ? value : 0;
}

std::string text(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "30000/1001" or "16:9" as a number; 0 for "0/0", "N/A" or nothing.
double ratio(const std::string& value) {
  double num = 0, den = 0;
  char sep = 0;
  if (std::sscanf(value.c_str(), "%lf%c%lf", &num, &sep, &den) != 3 || den <= 0 || num <= 0) return 0;
  return num / den;
}

// What is wrong with the upload itself: the worker fails the video at once instead of retrying.
Error bad_upload(std::string message) {
  return Error{std::move(message), ErrorKind::invalid_input};
}

bool is_cover_art(const json& stream) {
  auto disposition = stream.find("disposition");
  return disposition != stream.end() && disposition->is_object() && number(*disposition, "attached_pic") != 0;
}

// Clockwise quarter turns from the display matrix side data (ffmpeg 5) or the old "rotate" tag.
int rotation_of(const json& stream) {
  double degrees = 0;
  if (auto side = stream.find("side_data_list"); side != stream.end() && side->is_array()) {
    for (const auto& item : *side) {
      if (item.is_object() && item.contains("rotation")) degrees = number(item, "rotation");
    }
  } else if (auto tags = stream.find("tags"); tags != stream.end() && tags->is_object()) {
    degrees = number(*tags, "rotate");
  }
  const int quarter = static_cast<int>(std::lround(degrees / 90.0));
  return ((quarter % 4) + 4) % 4 * 90;
}

}  // namespace

std::string clock_text(double seconds) {
  const long total = std::lround(std::max(0.0, seconds));
  if (total >= 3600) return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
  return fmt::format("{}:{:02}", total / 60, total % 60);
}

Result<MediaInfo> parse_ffprobe_json(std::string_view document) {
  const json root = json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object()) return bad_upload("cannot read the file: ffprobe gave no description of it");
  try {
    MediaInfo info;
    const json& format = root.contains("format") ? root["format"] : json::object();
    info.format = text(format, "format_name");
    info.size_bytes = static_cast<int64_t>(number(format, "size"));
    info.bit_rate = static_cast<int64_t>(number(format, "bit_rate"));
    info.duration_s = number(format, "duration");

    const json* video = nullptr;
    if (root.contains("streams") && root["streams"].is_array()) {
      for (const auto& stream : root["streams"]) {
        const std::string type = text(stream, "codec_type");
        if (type == "video" && video == nullptr && !is_cover_art(stream)) video = &stream;
        if (type == "audio" && !info.has_audio) {
          info.has_audio = true;
          info.audio_stream = static_cast<int>(number(stream, "index"));
          info.audio_codec = text(stream, "codec_name");
        }
      }
    }
    if (video == nullptr) {
      return bad_upload(info.has_audio ? "not a video file: no video stream (audio only)"
                                       : "not a video file: no video stream");
    }
    info.video_stream = static_cast<int>(number(*video, "index"));
    info.video_codec = text(*video, "codec_name");
    info.video_profile = text(*video, "profile");
    info.video_level = static_cast<int>(number(*video, "level"));
    info.pixel_format = text(*video, "pix_fmt");
    info.coded_width = static_cast<int>(number(*video, "width"));
    info.coded_height = static_cast<int>(number(*video, "height"));
    info.rotation = rotation_of(*video);
    info.frame_rate = ratio(text(*video, "avg_frame_rate"));
    if (info.frame_rate == 0) info.frame_rate = ratio(text(*video, "r_frame_rate"));
    const std::string field_order = text(*video, "field_order");
    info.interlaced =
        field_order == "tt" || field_order == "bb" || field_order == "tb" || field_order == "bt";
    if (info.duration_s <= 0) info.duration_s = number(*video, "duration");

    if (info.coded_width <= 0 || info.coded_height <= 0) {
      return bad_upload("the video file is truncated or corrupt (its picture size is unknown)");
    }
    const double sar = ratio(text(*video, "sample_aspect_ratio"));
    info.width = sar > 0 ? static_cast<int>(std::lround(info.coded_width * sar)) : info.coded_width;
    info.height = info.coded_height;
    if (info.rotation % 180 == 90) std::swap(info.width, info.height);
    if (info.duration_s <= 0) return bad_upload("not a video file: it has no duration");
    return info;
  } catch (const json::exception& e) {
    return bad_upload(std::string("cannot read the file: unexpected ffprobe output (") + e.what() + ")");
  }
}

Status check_limits(const MediaInfo& info, const Options& options) {
  if (info.duration_s > options.max_duration_s) {
    return bad_upload(fmt::format("the video is too long: {} (the limit is {})", clock_text(info.duration_s),
                                  clock_text(options.max_duration_s)));
  }
  if (std::max(info.width, info.height) > options.max_dimension) {
    return bad_upload(
        fmt::format("the video is too large: {}x{} (the limit is {} pixels on the longest side)", info.width,
                    info.height, options.max_dimension));
  }
  return {};
}

std::string describe_probe_failure(std::string_view stderr_text, std::string_view input) {
  if (stderr_text.find("moov atom not found") != std::string_view::npos) {
    return "the video file is truncated or corrupt (its index is missing)";
  }
  // "[png_pipe @ 0x...] Format not on whitelist '...'": a real format, but not a video container.
  if (size_t at = stderr_text.find("Format not on whitelist"); at != std::string_view::npos) {
    const size_t open = stderr_text.rfind('[', at);
    std::string_view name;
    if (open != std::string_view::npos) {
      name = stderr_text.substr(open + 1);
      name = name.substr(0, name.find_first_of(" @]"));
    }
    const bool image = name == "image2" || name == "gif" || name == "webp" ||
                       (name.size() > 5 && name.substr(name.size() - 5) == "_pipe");
    return image ? "not a video file: it is an image" : "not a video file: the format is not supported";
  }
  if (stderr_text.find("Invalid data found when processing input") != std::string_view::npos) {
    return "not a video file: the format is not recognized";
  }
  const std::string line = last_error_line(stderr_text, input);
  return line.empty() ? "cannot read the file" : "cannot read the file: " + line;
}

Result<MediaInfo> probe(const std::string& path, const Options& options, std::stop_token stop) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return bad_upload("cannot read the file: " + ec.message());
  if (size == 0) return bad_upload("the file is empty");

  const auto scratch = ScopedDir::temporary("reel-probe-");
  if (scratch.path().empty()) return Error{"cannot probe the file: no temporary directory"};
  const std::string input = file_url(path);
  auto exit = run_tool(
      {.argv = {options.ffprobe, "-v", "error", "-format_whitelist", format_whitelist, "-protocol_whitelist",
                "file", "-print_format", "json", "-show_format", "-show_streams", input},
       .stdout_path = (scratch.path() / "probe.json").string(),
       .stderr_path = (scratch.path() / "probe.log").string(),
       .time_limit = options.probe_time_limit,
       .stop = std::move(stop),
       .what = "reading the file"});
  if (!exit) return exit.error();
  if (exit->exit_code != 0) return bad_upload(describe_probe_failure(exit->stderr_text, input));
  auto info = parse_ffprobe_json(read_all(scratch.path() / "probe.json"));
  if (!info) return info;
  if (info->size_bytes == 0) info->size_bytes = static_cast<int64_t>(size);
  if (auto limits = check_limits(*info, options); !limits) return limits.error();
  return info;
}

}  // namespace reel::transcode
