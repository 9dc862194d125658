// hls: the master playlist the pipeline writes over ffmpeg's variant playlists, with the
// attributes players choose a variant by (RFC 8216 4.3.4.2): BANDWIDTH as the peak segment bit rate
// and AVERAGE-BANDWIDTH measured from the segment files, RESOLUTION, FRAME-RATE and CODECS.
// Thread-safety: pure functions, except variant_stats, which reads files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace reel::transcode {

struct VariantStats {
  double duration_s = 0;
  int64_t peak_bps = 0;     // the largest segment's bits per second (init segment included once)
  int64_t average_bps = 0;  // all media bytes over the whole duration
  int segments = 0;
};

// Reads a media playlist's #EXTINF durations and its segment URIs, and sizes each through
// `bytes_of(uri)` (-1 for a missing file → Error). #EXT-X-MAP's init segment counts once.
Result<VariantStats> variant_stats(std::string_view playlist,
                                   const std::function<int64_t(std::string_view uri)>& bytes_of);
// The same for a playlist file; segment URIs are relative to its directory.
Result<VariantStats> variant_stats(const std::filesystem::path& playlist_file);

// RFC 6381 codec string of an H.264 stream from ffprobe's profile name and level
// ("High", 31 → "avc1.64001f"); constraint flags are 0 except Constrained Baseline's.
std::string avc_codec(std::string_view profile, int level);

struct Variant {
  std::string uri{};  // relative to the master playlist
  int64_t bandwidth = 0;
  int64_t average_bandwidth = 0;
  int width = 0;
  int height = 0;
  double frame_rate = 0;  // 0: left out
  std::string codecs{};   // "avc1.64001f,mp4a.40.2"
};

// An EXT-X-VERSION 7 master playlist listing `variants` in the given order.
std::string master_playlist(const std::vector<Variant>& variants);

}  // namespace reel::transcode
