// CSRF protection for state-changing requests made with a cookie.
//
// With a session: each session has its own random token (auth/session_store.h, Session::csrf),
// handed to the page or the API client at sign-in; every state-changing request carries it
// (header X-CSRF-Token, or a hidden form field) and session_csrf_valid() compares it in constant
// time. Another site can make the browser send the cookie but cannot read the token.
//
// Without a session (the sign-in and register forms, which must resist login CSRF too): a signed
// double-submit token. form_token() makes one; the page sets it as a cookie and puts the same
// value in a hidden field; form_token_valid() accepts a request whose cookie and field are equal
// and carry a valid MAC under the site's secret. The MAC stops a sibling subdomain that can set
// cookies (cookie tossing) from planting a token of its own making. Suggested for the lead: cookie
// `reel_csrf` (`__Host-reel_csrf` over https), SameSite=Lax, HttpOnly (the page's form carries the
// field, no script needs to read it), no expiry (a browser session).
//
// Thread-safety: a FormCsrf is immutable; share one. Failure: nothing fails: a check is true or
// false, and the caller answers 403 on false.
#pragma once

#include <string>
#include <string_view>

namespace reel::auth {

// The token a request presents against the session's own; false when either is empty.
bool session_csrf_valid(std::string_view session_token, std::string_view presented);

class FormCsrf {
 public:
  // `secret`: the site's secret (any length; at least 32 random bytes), e.g. [auth] secret. The MAC
  // key is its BLAKE2b-256 hash.
  explicit FormCsrf(std::string_view secret);

  // A new token: a random value and its MAC, "RANDOM.MAC" (both base64url, 87 characters).
  std::string form_token() const;
  // True when the cookie and the field are one token (constant-time compare) with a valid MAC.
  bool form_token_valid(std::string_view cookie, std::string_view field) const;

 private:
  std::string mac(std::string_view random) const;

  std::string key_;  // crypto_auth_KEYBYTES bytes
};

}  // namespace reel::auth
