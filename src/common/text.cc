#include "common/text.h"

#include <cstdint>

namespace reel {

void write_hex(std::span<const unsigned char> bytes, char* out) {
  static constexpr char digits[] = "0123456789abcdef";
  for (unsigned char byte : bytes) {
    *out++ = digits[byte >> 4];
    *out++ = digits[byte & 15];
  }
}

std::string to_hex(std::span<const unsigned char> bytes) {
  std::string out(2 * bytes.size(), '0');
  write_hex(bytes, out.data());
  return out;
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view space = " \t\r\n\f\v";
  const size_t first = text.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

std::string_view utf8_prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

std::optional<size_t> user_text_chars(std::string_view text, Lines lines) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++chars) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code = 0;
    if (lead < 0x80) {
      length = 1;
      code = lead;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code = lead & 0x0Fu;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code = lead & 0x07u;
    } else {
      return std::nullopt;  // a continuation byte first, an overlong C0/C1 lead, or past U+10FFFF
    }
    if (i + length > text.size()) return std::nullopt;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      code = (code << 6) | (next & 0x3Fu);
    }
    constexpr uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return std::nullopt;
    const bool line_break = code == '\n' || code == '\r' || code == '\t';
    if ((code < 0x20 && !(lines == Lines::many && line_break)) || (code >= 0x7F && code <= 0x9F)) {
      return std::nullopt;
    }
    if ((code >= 0x202A && code <= 0x202E) || (code >= 0x2066 && code <= 0x2069)) return std::nullopt;
    i += length;
  }
  return chars;
}

}  // namespace reel
