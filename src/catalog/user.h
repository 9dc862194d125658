// User: an account as the record holds it, shared by SQL (sql/user_store.h), the projection
// (projection/account_keys.h) and the account logic (auth/). A user is also a channel: its name is
// the channel's handle (/channel/{name}, ch:{name}).
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace reel::catalog {

// What an account may do, from least to most. Values are ordered: `role >= Role::moderator`.
enum class Role { user, uploader, moderator, admin };

// The name SQL and Redis store ("user", "uploader", "moderator", "admin").
constexpr std::string_view role_name(Role role) {
  switch (role) {
    case Role::uploader:
      return "uploader";
    case Role::moderator:
      return "moderator";
    case Role::admin:
      return "admin";
    case Role::user:
      break;
  }
  return "user";
}

// The role named `name` (exactly as role_name() spells it); nullopt for anything else.
constexpr std::optional<Role> parse_role(std::string_view name) {
  for (Role role : {Role::user, Role::uploader, Role::moderator, Role::admin}) {
    if (role_name(role) == name) return role;
  }
  return std::nullopt;
}

struct User {
  int64_t id = 0;
  std::string name;           // the handle: [a-z0-9_-]{3,32} for registered accounts
  std::string display_name;   // as typed (1..64 characters)
  std::string email;          // lower-cased; "" once deleted (and for channels made by `reel seed`)
  std::string password_hash;  // crypto_pwhash_str's string; "" when the account cannot sign in
  Role role = Role::user;
  int64_t created_at = 0;             // Unix seconds
  int64_t password_changed_at = 0;    // Unix seconds; 0: never changed
  std::optional<int64_t> deleted_at;  // Unix seconds; set: the account is gone, its name stays taken
};

}  // namespace reel::catalog
