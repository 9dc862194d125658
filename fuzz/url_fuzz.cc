// Fuzzes http/url.h: percent_decode on any text, and query_param on any query string.
// Invariants: a decoded text holds no NUL byte the input did not (an escaped NUL is refused) and is
// the input less two bytes per escape;
// encoding any bytes (but NUL) and decoding them gives them back; query_param finds a parameter
// appended after any query that does not already name it, with its value intact.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "check.h"
#include "http/url.h"

namespace {

// Escapes every byte but RFC 3986's unreserved characters, so '+', '&', '=' and '%' survive.
std::string encode(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += digits[byte >> 4];
      out += digits[byte & 0xf];
    }
  }
  return out;
}

// Whether some parameter of `query` is called `name` (the oracle for query_param).
bool names(std::string_view query, std::string_view name) {
  for (;;) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, pair.find('=')) == name) return true;
    if (amp == std::string_view::npos) return false;
    query.remove_prefix(amp + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using reel::http::percent_decode;
  using reel::http::query_param;
  FuzzedDataProvider input(data, size);
  const bool plus_is_space = input.ConsumeBool();
  const std::string name = input.ConsumeRandomLengthString(16);
  const std::string text = input.ConsumeRemainingBytesAsString();

  if (const auto decoded = percent_decode(text, plus_is_space)) {
    const auto escapes = static_cast<size_t>(std::count(text.begin(), text.end(), '%'));
    FUZZ_CHECK(decoded->size() == text.size() - 2 * escapes);
    FUZZ_CHECK(std::count(decoded->begin(), decoded->end(), '\0') ==
               std::count(text.begin(), text.end(), '\0'));
  }

  std::string value = text;
  value.erase(std::remove(value.begin(), value.end(), '\0'), value.end());
  FUZZ_CHECK(percent_decode(encode(value), plus_is_space) == value);

  // `text` as a query, then name=value: the first `name` parameter is ours unless text has one.
  const bool plain_name = !name.empty() && name.find_first_of("&=") == std::string::npos;
  if (plain_name && !names(text, name)) {
    FUZZ_CHECK(!query_param(text, name));
    FUZZ_CHECK(query_param(text + "&" + name + "=" + encode(value), name) == value);
  }
  if (const auto found = query_param(text, name)) FUZZ_CHECK(names(text, name));
  return 0;
}
