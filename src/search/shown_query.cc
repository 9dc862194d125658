#include "search/shown_query.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include "common/text.h"

namespace reel::search {
namespace {

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Appends `piece` to `out` with a single space between words: a separator sets `space`, which the
// next kept character writes (so nothing leads or trails).
struct Collapser {
  std::string& out;
  bool space = false;
  void separator() { space = !out.empty(); }
  void keep(std::string_view piece) {
    if (space) out.push_back(' ');
    space = false;
    out.append(piece);
  }
};

void fold_ascii(std::string_view text, Collapser& collapser) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      collapser.separator();
    } else {
      const char lower = ascii_lower(c);
      collapser.keep(std::string_view(&lower, 1));
    }
  }
}

void fold_unicode(std::string_view text, Collapser& collapser) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_casefold = icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status)) {
    fold_ascii(text, collapser);  // cannot happen with Debian's libicu; keep what needs no data
    return;
  }
  // fromUTF8 reads each ill-formed sequence as U+FFFD, which becomes a separator below.
  const auto source =
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  const icu::UnicodeString folded = nfkc_casefold->normalize(source, status);
  if (U_FAILURE(status)) return;
  std::string character;
  for (int32_t i = 0; i < folded.length();) {
    const UChar32 c = folded.char32At(i);
    i += U16_LENGTH(c);
    if (c == 0xFFFD || u_isUWhiteSpace(c) || u_iscntrl(c) || (c >= 0x202A && c <= 0x202E) ||
        (c >= 0x2066 && c <= 0x2069) || U_IS_SURROGATE(c)) {
      collapser.separator();
      continue;
    }
    character.clear();
    icu::UnicodeString(c).toUTF8String(character);
    collapser.keep(character);
  }
}

}  // namespace

std::string shown_query(std::string_view text, size_t max_bytes) {
  text = utf8_prefix(text, 4 * max_bytes);
  std::string out;
  Collapser collapser{out};
  if (is_ascii(text)) {
    fold_ascii(text, collapser);
  } else {
    fold_unicode(text, collapser);
  }
  out.resize(utf8_prefix(out, max_bytes).size());
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace reel::search
