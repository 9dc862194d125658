#include "people/collection_reads.h"

#include <fmt/format.h>

#include "projection/codec.h"
#include "projection/keys.h"

namespace reel::people {

Status check_page(int page, int per_page) {
  if (page < 1)
    return Error{fmt::format("page {} is not a page number (1, 2, ...)", page), ErrorKind::invalid_input};
  if (per_page < 1 || per_page > max_per_page) {
    return Error{fmt::format("{} per page is not between 1 and {}", per_page, max_per_page),
                 ErrorKind::invalid_input};
  }
  return {};
}

int64_t first_rank(int page, int per_page) {
  return int64_t{page - 1} * per_page;
}

int page_count(int64_t total, int per_page) {
  return static_cast<int>((total + per_page - 1) / per_page);
}

std::vector<std::string> strings_of(const redis::Reply& reply) {
  std::vector<std::string> out;
  out.reserve(reply.elements().size());
  for (const auto& element : reply.elements()) out.emplace_back(element.str());
  return out;
}

Result<std::vector<redis::Reply>> checked(Result<std::vector<redis::Reply>> replies) {
  if (!replies) return replies;
  for (const auto& reply : *replies) {
    if (reply.is_error()) return Error{"redis: " + std::string(reply.str())};
  }
  return replies;
}

std::vector<projection::Card> cards_of(std::span<const redis::Reply> packed) {
  std::vector<projection::Card> cards;
  cards.reserve(packed.size());
  for (const auto& value : packed) {
    if (auto card = projection::codec::decode_card(value.str())) cards.push_back(std::move(*card));
  }
  return cards;
}

Task<Result<std::vector<projection::Card>>> read_cards(redis::Connection& redis,
                                                       const std::vector<std::string>& ids) {
  if (ids.empty()) co_return std::vector<projection::Card>{};
  redis::Command mget("MGET");
  for (const auto& id : ids) mget.arg(projection::keys::card(id));
  std::vector<redis::Command> batch;
  batch.push_back(std::move(mget));
  auto replies = checked(co_await redis.execute(std::move(batch)));
  if (!replies) co_return replies.error();
  co_return cards_of((*replies)[0].elements());
}

Task<Result<ListPage>> read_list_page(redis::Connection& redis, std::string key, bool newest_first,
                                      bool with_scores, int page, int per_page) {
  if (Status valid = check_page(page, per_page); !valid) co_return valid.error();
  const int64_t start = first_rank(page, per_page);
  std::vector<redis::Command> commands;
  commands.emplace_back("ZCARD", key);
  commands.emplace_back(newest_first ? "ZREVRANGE" : "ZRANGE", key, start, start + per_page - 1);
  if (with_scores) commands.back().arg("WITHSCORES");
  auto replies = checked(co_await redis.execute(std::move(commands)));
  if (!replies) co_return replies.error();
  ListPage out;
  out.page = page;
  out.total = (*replies)[0].integer();
  out.pages = page_count(out.total, per_page);
  out.members = std::move((*replies)[1]);
  co_return out;
}

Task<Result<CardPage>> read_card_list(redis::Connection& redis, std::string key, bool newest_first, int page,
                                      int per_page) {
  auto list = co_await read_list_page(redis, std::move(key), newest_first, false, page, per_page);
  if (!list) co_return list.error();
  const std::vector<std::string> ids = strings_of(list->members);  // named: not a temporary in co_await
  auto cards = co_await read_cards(redis, ids);
  if (!cards) co_return cards.error();
  co_return CardPage{std::move(*cards), list->total, list->page, list->pages};
}

Task<Result<bool>> is_member(redis::Connection& redis, std::string key, std::string member) {
  redis::Command score("ZSCORE", key, member);
  auto reply = co_await redis.execute(std::move(score));
  if (!reply) co_return reply.error();
  if (reply->is_error()) co_return Error{"redis: " + std::string(reply->str())};
  co_return !reply->is_nil();
}

}  // namespace reel::people
