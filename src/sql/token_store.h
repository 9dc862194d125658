// TokenStore: API tokens (`Authorization: Bearer TOKEN`). A token is "reel_" and 48 random hex
// digits; SQL keeps only its BLAKE2b-256 hash, so the database never holds a usable token (and its
// last four characters, the hint that tells an operator which token a row is).
// `reel admin token` creates admin tokens, lists them (`--list`) and revokes one (`--revoke ID`:
// the row is deleted, so find() no longer grants it; event loops that verified it lately forget it
// within app::TokenCache's ttl, a second). The accounts issue adds per-user tokens the same way.
//
// Thread-safety: as the Connection it wraps (one thread at a time). hash_token() is pure.
// Failure: every call returns an Error with the engine's message; an unknown token is not an
// error (nullopt; false for revoke()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql {

enum class TokenRole { admin, user };

struct TokenGrant {
  TokenRole role = TokenRole::user;
  int64_t user_id = 0;  // 0 for tokens not tied to a user (admin tokens)
};

// A token as list() shows it: never the token itself.
struct TokenInfo {
  int64_t id = 0;
  TokenRole role = TokenRole::user;
  int64_t user_id = 0;
  std::string label;
  int64_t created_at = 0;  // Unix seconds
  std::string hint;        // its last four characters; "" for tokens made before hints were kept
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
  // Every token, oldest first.
  Result<std::vector<TokenInfo>> list();
  // Deletes the token with this id: it grants nothing from then on. false when there is none.
  Result<bool> revoke(int64_t id);

 private:
  Connection& db_;
};

}  // namespace reel::sql
