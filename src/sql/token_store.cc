#include "sql/token_store.h"

#include <sodium.h>

#include <array>

#include "common/text.h"

namespace reel::sql {
namespace {

constexpr std::string_view token_prefix = "reel_";
constexpr size_t token_random_bytes = 24;
constexpr size_t hint_chars = 4;

bool well_formed(std::string_view token) {
  if (!token.starts_with(token_prefix) || token.size() != token_prefix.size() + 2 * token_random_bytes)
    return false;
  for (char c : token.substr(token_prefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string hash_token(std::string_view token) {
  std::array<unsigned char, crypto_generichash_BYTES> digest{};
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return to_hex(digest);
}

Result<std::string> TokenStore::create(TokenRole role, std::string_view label, int64_t user_id, int64_t now) {
  if (sodium_init() < 0) return Error{"libsodium failed to initialize"};
  std::array<unsigned char, token_random_bytes> random{};
  randombytes_buf(random.data(), random.size());
  std::string token = std::string(token_prefix) + to_hex(random);
  Params params{hash_token(token), std::string(role == TokenRole::admin ? "admin" : "user")};
  if (user_id > 0) {
    params.emplace_back(user_id);
  } else {
    params.emplace_back(std::monostate{});
  }
  params.emplace_back(std::string(label));
  params.emplace_back(now);
  params.emplace_back(token.substr(token.size() - hint_chars));
  auto inserted = db_.execute(
      "INSERT INTO api_tokens (token_hash, role, user_id, label, created_at, hint) VALUES (?, ?, ?, ?, ?, ?)",
      params);
  if (!inserted) return inserted.error();
  return token;
}

Result<std::optional<TokenGrant>> TokenStore::find(std::string_view token) {
  if (!well_formed(token)) return std::optional<TokenGrant>{};
  auto rows = db_.query_all("SELECT role, user_id FROM api_tokens WHERE token_hash = ?", {hash_token(token)});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<TokenGrant>{};
  const Row& row = rows->front();
  return std::optional<TokenGrant>{
      TokenGrant{row.text(0) == "admin" ? TokenRole::admin : TokenRole::user, row.integer(1)}};
}

Result<std::vector<TokenInfo>> TokenStore::list() {
  auto rows = db_.query_all("SELECT id, role, user_id, label, created_at, hint FROM api_tokens ORDER BY id");
  if (!rows) return rows.error();
  std::vector<TokenInfo> tokens;
  for (const Row& row : *rows) {
    tokens.push_back({row.integer(0), row.text(1) == "admin" ? TokenRole::admin : TokenRole::user,
                      row.integer(2), row.text(3), row.integer(4), row.text(5)});
  }
  return tokens;
}

Result<bool> TokenStore::revoke(int64_t id) {
  auto deleted = db_.execute("DELETE FROM api_tokens WHERE id = ?", {id});
  if (!deleted) return deleted.error();
  return *deleted > 0;
}

}  // namespace reel::sql
