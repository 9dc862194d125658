#include "auth/validation.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "auth/password.h"
#include "common/text.h"

namespace reel::auth {
namespace {

constexpr size_t min_username_chars = 3;
constexpr size_t max_username_chars = 32;
constexpr size_t max_email_bytes = 254;
constexpr size_t max_display_name_chars = 64;

// Route segments, and names that would pass for the site or its staff.
constexpr std::array<std::string_view, 52> reserved = {
    "about",     "account", "admin",    "administrator", "anonymous", "api",       "categories",
    "category",  "channel", "channels", "contact",       "deleted",   "favorites", "feed",
    "healthz",   "help",    "home",     "login",         "logout",    "mail",      "me",
    "media",     "metrics", "mod",      "moderator",     "new",       "null",      "playlist",
    "playlists", "privacy", "readyz",   "reel",          "register",  "root",      "search",
    "security",  "session", "settings", "sign-in",       "sign-out",  "signin",    "signout",
    "signup",    "staff",   "static",   "subscriptions", "support",   "system",    "tag",
    "upload",    "user",    "watch",
};

Error invalid(std::string message) {
  return Error{std::move(message), ErrorKind::invalid_input};
}

bool username_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::string ascii_lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

}  // namespace

bool reserved_username(std::string_view name) {
  return std::find(reserved.begin(), reserved.end(), name) != reserved.end();
}

Result<std::string> normalize_username(std::string_view typed) {
  std::string name = ascii_lowered(typed);
  if (name.size() < min_username_chars || name.size() > max_username_chars ||
      !std::all_of(name.begin(), name.end(), username_char)) {
    return invalid(fmt::format("username: {} to {} characters: letters a-z, digits, '_' and '-'",
                               min_username_chars, max_username_chars));
  }
  if (name.front() == '_' || name.front() == '-')
    return invalid("username: must start with a letter or a digit");
  if (reserved_username(name)) return invalid("username: that name is reserved");
  return name;
}

Result<std::string> normalize_email(std::string_view typed) {
  std::string email = ascii_lowered(typed);
  const size_t at = email.find('@');
  const bool shaped = at != std::string::npos && at > 0 && at + 1 < email.size() &&
                      email.find('@', at + 1) == std::string::npos && email.find(' ') == std::string::npos;
  if (email.size() > max_email_bytes || !shaped || !user_text_chars(email, Lines::one)) {
    return invalid(fmt::format("email: one address, name@domain, at most {} bytes", max_email_bytes));
  }
  return email;
}

Status check_password(std::string_view password) {
  if (password.size() < min_password_bytes || password.size() > max_password_bytes) {
    return invalid(fmt::format("password: {} to {} characters", min_password_bytes, max_password_bytes));
  }
  return {};
}

Result<std::string> normalize_display_name(std::string_view typed) {
  const std::string_view name = trim(typed);
  const std::optional<size_t> chars = user_text_chars(name, Lines::one);
  if (!chars || *chars == 0 || *chars > max_display_name_chars) {
    return invalid(fmt::format("display name: 1 to {} characters on one line", max_display_name_chars));
  }
  return std::string(name);
}

}  // namespace reel::auth
