// Random tokens for cookies and forms (session ids, CSRF tokens): 256 random bits from libsodium,
// base64url without padding (43 characters, safe in cookies, headers, URLs and HTML attributes).
// Thread-safety: pure functions (libsodium's generator is thread-safe).
// Failure: none (random_token() aborts only if libsodium cannot start, which cannot happen on a
// working Linux: sodium_init() needs only getrandom()).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace reel::auth {

inline constexpr size_t token_bytes = 32;
inline constexpr size_t token_chars = 43;  // base64url of token_bytes without padding

std::string random_token();

// Exactly token_chars characters of the base64url alphabet: what random_token() makes. Checked
// before a presented token costs a Redis round trip or a hash.
bool well_formed_token(std::string_view token);

// base64url without padding of any bytes.
std::string base64url(std::string_view bytes);

// Equal, in time that depends on the lengths only (sodium_memcmp), so a presented secret cannot be
// guessed byte by byte from response times.
bool tokens_equal(std::string_view expected, std::string_view presented);

}  // namespace reel::auth
