#include "http/cookie.h"

#include <fmt/format.h>

#include "common/text.h"

namespace reel::http {

std::optional<std::string_view> cookie(const Request& request, std::string_view name) {
  for (const Header& header : request.headers) {
    if (!iequals(header.name, "cookie")) continue;
    std::string_view rest = header.value;
    while (!rest.empty()) {
      const size_t end = rest.find(';');
      const std::string_view pair = trim(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      const size_t equals = pair.find('=');
      if (equals == std::string_view::npos) continue;
      if (trim(pair.substr(0, equals)) == name) return trim(pair.substr(equals + 1));
    }
  }
  return std::nullopt;
}

std::string set_cookie(std::string_view name, std::string_view value, const CookieOptions& options) {
  std::string out = fmt::format("{}={}; Path={}", name, value, options.path);
  if (options.max_age) out += fmt::format("; Max-Age={}", *options.max_age);
  if (options.http_only) out += "; HttpOnly";
  if (options.secure) out += "; Secure";
  out += fmt::format("; SameSite={}", options.same_site);
  return out;
}

}  // namespace reel::http
