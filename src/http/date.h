// HTTP dates (RFC 9110 section 5.6.7): formatting as IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT")
// for Date and Last-Modified, and parsing of the three forms a client may send in
// If-Modified-Since / If-Range. Locale-independent, no allocation when formatting into a buffer.
// Thread-safety: pure functions.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace reel::http {

inline constexpr size_t http_date_size = 29;

// Writes exactly http_date_size characters (no terminator) for `t` (seconds since the epoch, UTC).
void format_http_date(std::time_t t, char* out);
std::string format_http_date(std::time_t t);

// Parses IMF-fixdate, RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
// ("Sun Nov  6 08:49:37 1994"); nullopt when `text` is none of them.
std::optional<std::time_t> parse_http_date(std::string_view text);

}  // namespace reel::http
