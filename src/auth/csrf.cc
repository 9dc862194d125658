#include "auth/csrf.h"

#include <sodium.h>

#include <array>

#include "auth/token.h"

namespace reel::auth {

bool session_csrf_valid(std::string_view session_token, std::string_view presented) {
  return tokens_equal(session_token, presented);
}

FormCsrf::FormCsrf(std::string_view secret) : key_(crypto_auth_KEYBYTES, '\0') {
  static_assert(crypto_auth_KEYBYTES <= crypto_generichash_BYTES_MAX);
  crypto_generichash(reinterpret_cast<unsigned char*>(key_.data()), key_.size(),
                     reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), nullptr, 0);
}

std::string FormCsrf::mac(std::string_view random) const {
  std::array<unsigned char, crypto_auth_BYTES> tag{};
  crypto_auth(tag.data(), reinterpret_cast<const unsigned char*>(random.data()), random.size(),
              reinterpret_cast<const unsigned char*>(key_.data()));
  return base64url(std::string_view(reinterpret_cast<const char*>(tag.data()), tag.size()));
}

std::string FormCsrf::form_token() const {
  std::string random = random_token();
  return random + "." + mac(random);
}

bool FormCsrf::form_token_valid(std::string_view cookie, std::string_view field) const {
  if (!tokens_equal(cookie, field)) return false;
  const size_t dot = cookie.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view random = cookie.substr(0, dot);
  return well_formed_token(random) && tokens_equal(mac(random), cookie.substr(dot + 1));
}

}  // namespace reel::auth
