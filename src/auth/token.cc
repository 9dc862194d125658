#include "auth/token.h"

#include <sodium.h>

#include <array>
#include <cassert>

namespace reel::auth {

std::string base64url(std::string_view bytes) {
  constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string random_token() {
  [[maybe_unused]] const int started = sodium_init();
  assert(started >= 0);
  std::array<char, token_bytes> random{};
  randombytes_buf(random.data(), random.size());
  return base64url(std::string_view(random.data(), random.size()));
}

bool well_formed_token(std::string_view token) {
  if (token.size() != token_chars) return false;
  for (char c : token) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  }
  return true;
}

bool tokens_equal(std::string_view expected, std::string_view presented) {
  return expected.size() == presented.size() && !expected.empty() &&
         sodium_memcmp(expected.data(), presented.data(), expected.size()) == 0;
}

}  // namespace reel::auth
