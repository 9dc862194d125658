// How pages (and the JSON API) show numbers, durations, ages and links. Each helper has a form
// that appends to an output string, used on the rendering hot path, and one that returns a string.
// Thread-safety: pure functions. None can fail: out-of-range input is clamped as documented.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reel::pages {

// A count in at most four characters plus a suffix, truncated (never rounded up, so 999,999 is
// "999K", not "1000K" or "1M"): 0, 950, 1K, 1.2K, 12K, 999K, 1.2M, 3B. Negative counts show as 0.
std::string format_count(int64_t n);
void append_count(std::string& out, int64_t n);

// A count with thousands separators: 1,234,567. Negative counts show as 0.
std::string format_exact_count(int64_t n);
void append_exact_count(std::string& out, int64_t n);

// A video length: 0:07, 12:34, 1:02:03. Negative lengths show as 0:00.
std::string format_duration(int32_t seconds);
void append_duration(std::string& out, int32_t seconds);

// How long ago `then` was at `now` (Unix seconds): "just now" under a minute (and for a time in
// the future), then "1 minute ago", "5 hours ago", "3 days ago", "2 weeks ago", "4 months ago",
// "2 years ago" (a month is 30 days, a year 365).
std::string format_age(int64_t then, int64_t now);
void append_age(std::string& out, int64_t then, int64_t now);

// Percent-encodes every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~), so any text, UTF-8
// included, is safe as one path segment or query value.
std::string url_encode_path_segment(std::string_view s);
void append_url_encoded(std::string& out, std::string_view s);

// The watch page of a video: "/watch/123-some-title"; "/watch/123" when the slug is empty.
std::string watch_path(int64_t id, std::string_view slug);
void append_watch_path(std::string& out, int64_t id, std::string_view slug);

}  // namespace reel::pages
