#include "common/host_port.h"

#include <charconv>

namespace reel {

Result<HostPort> parse_host_port(std::string_view text, bool allow_port_zero) {
  const auto invalid = [&] { return Error{"'" + std::string(text) + "' is not HOST:PORT"}; };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid();
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535 || (port == 0 && !allow_port_zero)) {
    return invalid();
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace reel
