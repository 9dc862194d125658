// "HOST:PORT" addresses as written in settings and flags ("127.0.0.1:6379", "[::1]:8080").
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace reel {

struct HostPort {
  std::string host;  // without the brackets of an IPv6 literal
  uint16_t port = 0;
};

// Splits at the last ':'; the port must be a number up to 65535, and above 0 unless
// `allow_port_zero` (a listener's "any free port"). An Error names the text.
Result<HostPort> parse_host_port(std::string_view text, bool allow_port_zero = false);

}  // namespace reel
