// Small text helpers shared by components that handle user text and protocol tokens (header
// names, methods, units: compared without regard to ASCII case, locale-independently).
// Thread-safety: pure functions.
#pragma once

#include <string_view>

namespace reel {

// `text` without leading and trailing ASCII whitespace (space, tab, CR, LF, FF, VT).
std::string_view trim(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` that does not split a UTF-8 character.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

// True when `a` and `b` are equal ignoring ASCII case.
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace reel
