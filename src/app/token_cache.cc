#include "app/token_cache.h"

namespace reel::app {

std::optional<sql::TokenGrant> TokenCache::find(std::string_view token) {
  auto it = entries_.find(sql::hash_token(token));
  if (it == entries_.end()) return std::nullopt;
  if (clock_.now() >= it->second.expires) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.grant;
}

void TokenCache::remember(std::string_view token, const sql::TokenGrant& grant) {
  if (entries_.size() >= max_entries_) entries_.clear();
  entries_[sql::hash_token(token)] = {grant, clock_.now() + ttl_};
}

}  // namespace reel::app
