// Cookies (RFC 6265): reading one from a request's Cookie headers, and writing Set-Cookie values.
//
// Reel sets few cookies and never on a page meant for a shared cache: the session cookie
// (reel_session) and the double-submit CSRF cookie of the sign-in and register forms.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace reel::http {

// The value of the first cookie named `name` in the request's Cookie headers (several headers,
// as HTTP/2 gateways send, are all searched); nullopt when there is none. The value is returned
// as sent (quotes included): callers check it against the format they issued.
std::optional<std::string_view> cookie(const Request& request, std::string_view name);

struct CookieOptions {
  bool http_only = true;
  bool secure = false;                 // set over https
  std::string_view same_site = "Lax";  // "Lax", "Strict" or "None"
  std::optional<int64_t> max_age;      // seconds; nullopt: a session cookie; 0: delete it
  std::string_view path = "/";
};

// A Set-Cookie value. `name` and `value` must be cookie tokens (no ';', ',', spaces, quotes or
// controls: callers pass names they chose and values they minted, e.g. base64url).
std::string set_cookie(std::string_view name, std::string_view value, const CookieOptions& options);

}  // namespace reel::http
