#include "pages/card_cache.h"

namespace reel::pages {

void CardCache::begin_page(uint64_t owner) {
  if (owner != owner_ || entries_.size() > capacity_) entries_.clear();
  if (owner != owner_ || seen_once_.size() > capacity_) seen_once_.clear();
  owner_ = owner;
  page_only_.clear();
  ++page_;
}

const std::string* CardCache::find(const projection::Card& card, std::string_view age, int64_t links_expire,
                                   std::string_view variant) {
  auto it = entries_.find(key_of(card.id, variant));
  if (it == entries_.end() || it->second.links_expire != links_expire || it->second.age != age ||
      it->second.variant != variant || !it->second.card.same_as(card)) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  it->second.page = page_;
  return &it->second.html;
}

const std::string& CardCache::store(const projection::Card& card, std::string_view age, int64_t links_expire,
                                    std::string html, std::string_view variant) {
  const Key key = key_of(card.id, variant);
  auto found = entries_.find(key);
  // A card is kept from its second rendering on: a long tail shown once is not worth the copy.
  if (found == entries_.end() && seen_once_.insert(key).second)
    return page_only_.emplace_back(std::move(html));
  seen_once_.erase(key);
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& entry = it->second;
  if (!inserted && entry.page == page_) return page_only_.emplace_back(std::move(html));
  entry.card = card;
  entry.age.assign(age);
  entry.links_expire = links_expire;
  entry.variant.assign(variant);
  entry.html = std::move(html);
  entry.page = page_;
  return entry.html;
}

}  // namespace reel::pages
