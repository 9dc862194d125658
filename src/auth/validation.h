// The rules for what people type into account forms: usernames, emails, passwords, display
// names. Each function returns the value to store (normalized) or an invalid_input Error whose
// message can be shown to the person as is ("username: 3 to 32 characters ...").
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace reel::auth {

// A username is a channel handle, in URLs (/channel/{name}) and Redis keys (ch:{name}): 3..32 of
// [a-z0-9_-], starting with a letter or digit, not a reserved word (admin, api, static, media,
// ...: route names and names that would pass for the site's staff). ASCII upper case is
// lower-cased first, so "Alice" registers (and signs in as) "alice". Always accepted by
// catalog::valid_name.
Result<std::string> normalize_username(std::string_view typed);
bool reserved_username(std::string_view name);

// An email: lower-cased (ASCII), at most 254 bytes, exactly one '@' with text on both sides, valid
// UTF-8 without spaces or control characters. No attempt to tell deliverable addresses apart.
Result<std::string> normalize_email(std::string_view typed);

// A password: min_password_bytes..max_password_bytes bytes (auth/password.h), kept as typed.
Status check_password(std::string_view password);

// A display name: trimmed of ASCII whitespace, then 1..64 characters of one line of user text
// (common/text.h user_text_chars: strict UTF-8, no control or bidi-override characters).
Result<std::string> normalize_display_name(std::string_view typed);

}  // namespace reel::auth
