#include "transcode/hls.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <system_error>

namespace reel::transcode {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The value of URI="..." in a tag line; "" when absent.
std::string_view uri_attribute(std::string_view line) {
  const size_t at = line.find("URI=\"");
  if (at == std::string_view::npos) return {};
  const size_t start = at + 5;
  const size_t end = line.find('"', start);
  return end == std::string_view::npos ? std::string_view{} : line.substr(start, end - start);
}

}  // namespace

Result<VariantStats> variant_stats(std::string_view playlist,
                                   const std::function<int64_t(std::string_view uri)>& bytes_of) {
  VariantStats stats;
  int64_t total_bytes = 0;
  int64_t init_bytes = 0;
  double pending_duration = -1;
  double peak = 0;
  size_t start = 0;
  while (start < playlist.size()) {
    size_t end = playlist.find('\n', start);
    if (end == std::string_view::npos) end = playlist.size();
    std::string_view line = playlist.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (starts_with(line, "#EXTINF:")) {
      if (std::sscanf(std::string(line.substr(8)).c_str(), "%lf", &pending_duration) != 1) {
        return Error{"unreadable #EXTINF line in an HLS playlist"};
      }
      continue;
    }
    if (starts_with(line, "#EXT-X-MAP:")) {
      const auto uri = uri_attribute(line);
      init_bytes = bytes_of(uri);
      if (init_bytes < 0) return Error{fmt::format("HLS init segment {} is missing", uri)};
      total_bytes += init_bytes;
      continue;
    }
    if (line.front() == '#') continue;
    if (pending_duration < 0) return Error{"HLS playlist has a segment without #EXTINF"};
    const int64_t bytes = bytes_of(line);
    if (bytes < 0) return Error{fmt::format("HLS segment {} is missing", line)};
    total_bytes += bytes;
    // A player fetches the init segment with the first media segment.
    const int64_t fetched = bytes + (stats.segments == 0 ? init_bytes : 0);
    if (pending_duration > 0) peak = std::max(peak, fetched * 8 / pending_duration);
    stats.duration_s += pending_duration;
    ++stats.segments;
    pending_duration = -1;
  }
  if (stats.segments == 0 || stats.duration_s <= 0) return Error{"HLS playlist has no segments"};
  stats.peak_bps = static_cast<int64_t>(std::ceil(peak));
  stats.average_bps = static_cast<int64_t>(std::ceil(total_bytes * 8 / stats.duration_s));
  return stats;
}

Result<VariantStats> variant_stats(const std::filesystem::path& playlist_file) {
  std::ifstream in(playlist_file, std::ios::binary);
  if (!in) return Error{"cannot read " + playlist_file.filename().string()};
  const std::string text(std::istreambuf_iterator<char>(in), {});
  const auto dir = playlist_file.parent_path();
  return variant_stats(text, [&](std::string_view uri) -> int64_t {
    std::error_code ec;
    const auto size = std::filesystem::file_size(dir / std::string(uri), ec);
    return ec ? -1 : static_cast<int64_t>(size);
  });
}

std::string avc_codec(std::string_view profile, int level) {
  int profile_idc = 0x64;  // High: what the pipeline encodes
  int constraints = 0;
  if (profile == "Constrained Baseline") {
    profile_idc = 0x42, constraints = 0xe0;
  } else if (profile == "Baseline") {
    profile_idc = 0x42;
  } else if (profile == "Main") {
    profile_idc = 0x4d;
  } else if (profile == "High 10") {
    profile_idc = 0x6e;
  }
  return fmt::format("avc1.{:02x}{:02x}{:02x}", profile_idc, constraints, std::clamp(level, 0, 255));
}

std::string master_playlist(const std::vector<Variant>& variants) {
  std::string text = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (const auto& v : variants) {
    text += fmt::format("#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},RESOLUTION={}x{}", v.bandwidth,
                        v.average_bandwidth, v.width, v.height);
    if (v.frame_rate > 0) text += fmt::format(",FRAME-RATE={:.3f}", v.frame_rate);
    text += fmt::format(",CODECS=\"{}\"\n{}\n", v.codecs, v.uri);
  }
  return text;
}

}  // namespace reel::transcode
