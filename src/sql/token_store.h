// TokenStore: API tokens (`Authorization: Bearer TOKEN`). A token is "reel_" and 48 random hex
// digits; SQL keeps only its BLAKE2b-256 hash, so the database never holds a usable token.
// `reel admin token` creates admin tokens; the accounts issue adds per-user tokens the same way.
//
// Thread-safety: as the Connection it wraps (one thread at a time). hash_token() is pure.
// Failure: create() and find() return an Error with the engine's message; an unknown token is
// not an error (nullopt).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql {

enum class TokenRole { admin, user };

struct TokenGrant {
  TokenRole role = TokenRole::user;
  int64_t user_id = 0;  // 0 for tokens not tied to a user (admin tokens)
};

// The hex BLAKE2b-256 of a token (what the table stores).
std::string hash_token(std::string_view token);

class TokenStore {
 public:
  explicit TokenStore(Connection& connection) : db_(connection) {}

  // Makes a new token with this role (and user, when not 0) and returns it; only its hash is kept.
  Result<std::string> create(TokenRole role, std::string_view label, int64_t user_id, int64_t now);
  // What a presented token grants; nullopt when it is unknown or malformed.
  Result<std::optional<TokenGrant>> find(std::string_view token);

 private:
  Connection& db_;
};

}  // namespace reel::sql
