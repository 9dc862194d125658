// TokenCache: the grants of API tokens one event loop has verified lately, so an upload's token is
// looked up in SQL about once a second instead of twice per request (before its body is read, and
// again by its handler) and once per request of a busy uploader. Keyed by the token's hash
// (sql::hash_token), so no token is kept. An entry lives `ttl` by the Clock; a full cache
// (max_entries) is emptied, so a flood of valid tokens costs SQL lookups, not memory. Only grants
// are cached: an unknown token is looked up every time. A token revoked in SQL (`reel admin token
// --revoke`) keeps working on a loop for up to `ttl`: one second by default, the bound the
// revocation promises.
// Thread-safety: not thread-safe: one per event loop. Ownership: the Clock must outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "sql/token_store.h"

namespace reel::app {

class TokenCache {
 public:
  explicit TokenCache(const Clock& clock, std::chrono::seconds ttl = std::chrono::seconds(1),
                      size_t max_entries = 1024)
      : clock_(clock), ttl_(ttl), max_entries_(max_entries) {}

  // The token's grant if it was remembered less than `ttl` ago.
  std::optional<sql::TokenGrant> find(std::string_view token);
  void remember(std::string_view token, const sql::TokenGrant& grant);

 private:
  struct Entry {
    sql::TokenGrant grant;
    std::chrono::system_clock::time_point expires;
  };

  const Clock& clock_;
  std::chrono::seconds ttl_;
  size_t max_entries_;
  std::unordered_map<std::string, Entry> entries_;  // token hash -> grant
};

}  // namespace reel::app
