// Small text helpers shared by components that handle user text and protocol tokens (header
// names, methods, units: compared without regard to ASCII case, locale-independently).
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace reel {

// `text` without leading and trailing ASCII whitespace (space, tab, CR, LF, FF, VT).
std::string_view trim(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` that does not split a UTF-8 character.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

// What people type into forms (titles, names, comments, playlist titles): `many` allows line breaks
// and tabs, `one` does not.
enum class Lines { one, many };

// The number of characters (code points) of `text` when it is strict UTF-8 — no overlong forms, no
// surrogates, nothing past U+10FFFF — free of control characters (C0 but, with Lines::many, LF, CR
// and tab; DEL; C1) and of the bidirectional overrides and isolates (U+202A..U+202E,
// U+2066..U+2069) that make text display as something else; nullopt otherwise.
std::optional<size_t> user_text_chars(std::string_view text, Lines lines);

// `bytes` as lowercase hexadecimal, two digits per byte, written to out[0, 2 * bytes.size()).
void write_hex(std::span<const unsigned char> bytes, char* out);
// The same as a string.
std::string to_hex(std::span<const unsigned char> bytes);

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
