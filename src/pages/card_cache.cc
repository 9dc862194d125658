#include "pages/card_cache.h"

namespace reel::pages {

void CardCache::begin_page(uint64_t owner) {
  if (owner != owner_ || entries_.size() > capacity_) entries_.clear();
  owner_ = owner;
  page_only_.clear();
  ++page_;
}

const std::string* CardCache::find(const projection::Card& card, std::string_view age) {
  auto it = entries_.find(card.id);
  if (it == entries_.end() || it->second.age != age || !(it->second.card == card)) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  it->second.page = page_;
  return &it->second.html;
}

const std::string& CardCache::store(const projection::Card& card, std::string_view age, std::string html) {
  auto [it, inserted] = entries_.try_emplace(card.id);
  Entry& entry = it->second;
  if (!inserted && entry.page == page_) return page_only_.emplace_back(std::move(html));
  entry.card = card;
  entry.age.assign(age);
  entry.html = std::move(html);
  entry.page = page_;
  return entry.html;
}

}  // namespace reel::pages
