#include "sql/url.h"

#include <fmt/format.h>

#include <charconv>

namespace reel::sql {
namespace {

constexpr std::string_view mariadb_scheme = "mariadb://";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; returns false on a malformed escape.
bool percent_decode(std::string_view text, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out->push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return false;
    int high = hex_digit(text[i + 1]);
    int low = hex_digit(text[i + 2]);
    if (high < 0 || low < 0) return false;
    out->push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

}  // namespace

std::string redact_url(std::string_view url) {
  size_t authority = url.find("//");
  if (authority == std::string_view::npos) return std::string(url);
  authority += 2;
  size_t at = url.find('@', authority);
  size_t path = url.find('/', authority);
  if (at == std::string_view::npos || (path != std::string_view::npos && path < at)) {
    return std::string(url);
  }
  size_t colon = url.find(':', authority);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return fmt::format("{}***{}", url.substr(0, colon + 1), url.substr(at));
}

Result<MariadbAddress> parse_mariadb_url(std::string_view url) {
  auto invalid = [&](std::string_view why) {
    return Error{
        fmt::format("invalid MariaDB URL '{}': {} (expected "
                    "mariadb://USER[:PASSWORD]@HOST[:PORT]/DATABASE or "
                    "mariadb:///DATABASE?socket=PATH)",
                    redact_url(url), why)};
  };
  if (!url.starts_with(mariadb_scheme)) return invalid("it does not start with mariadb://");
  std::string_view rest = url.substr(mariadb_scheme.size());

  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return invalid("no /DATABASE");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path_and_query = rest.substr(slash + 1);

  MariadbAddress address;
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view user_info = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = user_info.find(':');
    if (!percent_decode(user_info.substr(0, colon), &address.user)) return invalid("bad %-escape in user");
    if (colon != std::string_view::npos && !percent_decode(user_info.substr(colon + 1), &address.password)) {
      return invalid("bad %-escape in password");
    }
  }
  size_t colon = authority.rfind(':');
  address.host = std::string(authority.substr(0, colon));
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), address.port);
    if (error != std::errc() || end != port.data() + port.size() || address.port == 0) {
      return invalid(fmt::format("bad port '{}'", port));
    }
  }

  size_t question = path_and_query.find('?');
  address.database = std::string(path_and_query.substr(0, question));
  if (address.database.empty()) return invalid("no database name");
  if (question != std::string_view::npos) {
    std::string_view query = path_and_query.substr(question + 1);
    constexpr std::string_view socket_key = "socket=";
    if (!query.starts_with(socket_key) || query.size() == socket_key.size()) {
      return invalid("the only option is socket=PATH");
    }
    if (!percent_decode(query.substr(socket_key.size()), &address.socket)) {
      return invalid("bad %-escape in socket");
    }
  }
  if (address.host.empty() && address.socket.empty()) return invalid("no HOST and no socket=PATH");
  return address;
}

}  // namespace reel::sql
