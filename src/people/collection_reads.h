// What the collection reads (favorites, playlists, subscriptions, the subscription feed) share:
// pages of video cards read from a Redis list — the page arithmetic and the one MGET of
// `card:{id}` strings that turns a page of ids into cards — and membership tests. A video deleted since it
// was listed has no card: it is skipped, so a page may hold fewer cards than ids while `total` still counts
// it. Thread-safety: read_cards() runs on the Connection's event loop; the rest are pure functions. Failure:
// an Error when Redis fails (unreachable, timing out, an error reply).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/result.h"
#include "projection/read_model.h"
#include "redis/connection.h"
#include "redis/reply.h"

namespace reel::people {

inline constexpr int max_per_page = 100;

struct CardPage {
  std::vector<projection::Card> cards;
  int64_t total = 0;  // items in the whole list
  int page = 1;
  int pages = 0;  // ceil(total / per_page)
};

// invalid_input unless page >= 1 and 1 <= per_page <= max_per_page.
Status check_page(int page, int per_page);
// The rank of the page's first item.
int64_t first_rank(int page, int per_page);
// ceil(total / per_page).
int page_count(int64_t total, int per_page);

// The elements of a list reply as strings (ids or names).
std::vector<std::string> strings_of(const redis::Reply& reply);
// The replies, or an Error when the call failed or any reply is a Redis error.
Result<std::vector<redis::Reply>> checked(Result<std::vector<redis::Reply>> replies);

// The cards of `ids` that exist, in order (one MGET; none when `ids` is empty).
Task<Result<std::vector<projection::Card>>> read_cards(redis::Connection& redis,
                                                       const std::vector<std::string>& ids);
// The cards of a packed card reply (nil ones skipped), in order.
std::vector<projection::Card> cards_of(std::span<const redis::Reply> packed);

// One page of a sorted set, with its size.
struct ListPage {
  int64_t total = 0;
  int page = 1;
  int pages = 0;
  redis::Reply members;  // the page's members (with `with_scores`: member, score, member, ...)
};

// ZCARD and one page of the sorted set `key`, highest score first (`newest_first`) or lowest
// first, in one round trip; invalid_input for a bad page.
Task<Result<ListPage>> read_list_page(redis::Connection& redis, std::string key, bool newest_first,
                                      bool with_scores, int page, int per_page);

// The page of a sorted set of video ids, highest score first (`newest_first`) or lowest first:
// ZCARD and the page's ids in one round trip, then their cards.
Task<Result<CardPage>> read_card_list(redis::Connection& redis, std::string key, bool newest_first, int page,
                                      int per_page);

// Whether `member` is in the sorted set `key` (one ZSCORE).
Task<Result<bool>> is_member(redis::Connection& redis, std::string key, std::string member);

}  // namespace reel::people
