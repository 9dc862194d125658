#include "projection/redis_read_model.h"

#include <algorithm>
#include <charconv>

#include "projection/codec.h"
#include "projection/keys.h"
#include "common/days.h"

namespace reel::projection {
namespace {

using redis::Command;
using redis::Reply;

// Ids of a ZREVRANGE reply.
std::vector<std::string> ids_of(const Reply& reply) {
  std::vector<std::string> ids;
  ids.reserve(reply.elements().size());
  for (const auto& element : reply.elements()) ids.emplace_back(element.str());
  return ids;
}

// Related videos: watched in the same sessions first (co-views, kept by the view aggregator),
// then the shared-tag and category fallback, without repeats or the video itself.
std::vector<std::string> related_ids(int64_t video, const Reply& coviews, const Reply& fallback) {
  const std::string self = std::to_string(video);
  std::vector<std::string> ids;
  ids.reserve(RedisReadModel::related_shown);
  for (const Reply* list : {&coviews, &fallback}) {
    for (const auto& element : list->elements()) {
      if (ids.size() == static_cast<size_t>(RedisReadModel::related_shown)) return ids;
      std::string_view id = element.str();
      if (id == self || std::find(ids.begin(), ids.end(), id) != ids.end()) continue;
      ids.emplace_back(id);
    }
  }
  return ids;
}

// A batch whose replies include a Redis error is a failure of the read model.
Result<std::vector<Reply>> checked(Result<std::vector<Reply>> replies) {
  if (!replies) return replies;
  for (const auto& reply : *replies) {
    if (reply.is_error()) return Error{"redis: " + std::string(reply.str())};
  }
  return replies;
}

}  // namespace

Task<Status> RedisReadModel::fetch_cards(const std::vector<std::string>& ids) {
  const auto now = clock_.now();
  Command mget("MGET");
  std::vector<const std::string*> asked;
  for (const auto& id : ids) {
    auto it = cards_.find(id);
    if (it != cards_.end() && now - it->second.read_at < card_ttl) continue;
    bool repeated = false;
    for (const std::string* earlier : asked) repeated = repeated || *earlier == id;
    if (repeated) continue;
    asked.push_back(&id);
    mget.arg(keys::card(id));
  }
  if (asked.empty()) co_return Status{};
  std::vector<Command> batch;
  batch.push_back(std::move(mget));
  auto replies = checked(co_await redis_.execute(std::move(batch)));
  if (!replies) co_return replies.error();
  if (cards_.size() > max_kept_cards) cards_.clear();
  const auto& values = (*replies)[0].elements();
  for (size_t i = 0; i < asked.size() && i < values.size(); ++i) {
    auto card = codec::decode_card(values[i].str());
    if (card) {
      cards_[*asked[i]] = KeptCard{std::move(*card), now};
    } else {
      cards_.erase(*asked[i]);  // deleted since the list was read
    }
  }
  co_return Status{};
}

std::vector<Card> RedisReadModel::kept_cards(const std::vector<std::string>& ids) const {
  std::vector<Card> cards;
  cards.reserve(ids.size());
  for (const auto& id : ids) {
    if (auto it = cards_.find(id); it != cards_.end()) cards.push_back(it->second.card);
  }
  return cards;
}

bool RedisReadModel::request_nav(std::vector<Command>& commands) const {
  if (nav_read_ && clock_.unix_seconds() - nav_read_at_ < nav_ttl_seconds) return false;
  commands.emplace_back("GET", keys::nav());
  return true;
}

const std::vector<CategoryLink>& RedisReadModel::take_nav(bool requested, const Reply& reply) {
  if (requested) {
    nav_ = codec::decode_nav(reply.str());
    nav_read_at_ = clock_.unix_seconds();
    nav_read_ = true;
  }
  return nav_;
}

Task<Result<Home>> RedisReadModel::home() {
  const int32_t today = utc_day(clock_.unix_seconds());
  std::vector<Command> first;
  first.emplace_back("ZREVRANGE", keys::list({ListKind::all, {}}, Sort::views, Period::day, today), 0,
                     home_popular - 1);
  first.emplace_back("ZREVRANGE", keys::list({ListKind::all, {}}, Sort::views), 0, home_popular - 1);
  first.emplace_back("ZREVRANGE", keys::list({ListKind::all, {}}, Sort::newest), 0, home_newest - 1);
  const bool nav_requested = request_nav(first);
  auto lists = checked(co_await redis_.execute(std::move(first)));
  if (!lists) co_return lists.error();

  Home home;
  home.nav = take_nav(nav_requested, lists->back());
  auto popular = ids_of((*lists)[0]);
  if (popular.empty()) popular = ids_of((*lists)[1]);
  auto newest = ids_of((*lists)[2]);
  if (popular.empty() && newest.empty()) co_return home;

  std::vector<std::string> all = popular;
  all.insert(all.end(), newest.begin(), newest.end());
  if (auto fetched = co_await fetch_cards(all); !fetched) co_return fetched.error();
  home.popular = kept_cards(popular);
  home.newest = kept_cards(newest);
  co_return home;
}

Task<Result<Listing>> RedisReadModel::listing(const ListQuery& query) {
  const int32_t today = utc_day(clock_.unix_seconds());
  const std::string key = keys::list({query.kind, query.name}, query.sort, query.period, today);
  const int64_t start = int64_t{query.page - 1} * query.per_page;
  std::vector<Command> first;
  first.emplace_back("ZCARD", key);
  first.emplace_back("ZREVRANGE", key, start, start + query.per_page - 1);
  if (query.kind == ListKind::channel) first.emplace_back("HGET", keys::channel(query.name), "display_name");
  const bool nav_requested = request_nav(first);
  auto lists = checked(co_await redis_.execute(std::move(first)));
  if (!lists) co_return lists.error();

  Listing listing;
  listing.page = query.page;
  listing.total = (*lists)[0].integer();
  listing.pages = static_cast<int>((listing.total + query.per_page - 1) / query.per_page);
  listing.nav = take_nav(nav_requested, lists->back());
  switch (query.kind) {
    case ListKind::all: break;
    case ListKind::category: {
      auto it = std::find_if(listing.nav.begin(), listing.nav.end(),
                             [&](const CategoryLink& c) { return c.slug == query.name; });
      listing.found = it != listing.nav.end();
      if (listing.found) listing.title = it->name;
      break;
    }
    case ListKind::tag:
      listing.found = listing.total > 0;
      listing.title = query.name;
      break;
    case ListKind::channel:
      listing.found = !(*lists)[2].is_nil();
      listing.title = (*lists)[2].str();
      break;
  }
  auto ids = ids_of((*lists)[1]);
  if (!listing.found || ids.empty()) co_return listing;

  if (auto fetched = co_await fetch_cards(ids); !fetched) co_return fetched.error();
  listing.cards = kept_cards(ids);
  co_return listing;
}

Task<Result<std::optional<VideoPage>>> RedisReadModel::video(int64_t id) {
  std::vector<Command> first;
  first.emplace_back("HGETALL", keys::video(id));
  first.emplace_back("ZSCORE", keys::list({ListKind::all, {}}, Sort::views), id);
  first.emplace_back("ZREVRANGE", keys::coviews(id), 0, related_shown);
  first.emplace_back("ZREVRANGE", keys::related(id), 0, related_shown - 1);
  const bool nav_requested = request_nav(first);
  auto replies = checked(co_await redis_.execute(std::move(first)));
  if (!replies) co_return replies.error();

  const auto& nav = take_nav(nav_requested, replies->back());
  std::vector<std::string_view> fields;
  for (const auto& element : (*replies)[0].elements()) fields.push_back(element.str());
  auto page = codec::decode_video_hash(fields, nav);
  if (!page) co_return std::optional<VideoPage>{};
  page->nav = nav;
  page->views = static_cast<int64_t>((*replies)[1].number());

  auto related = related_ids(id, (*replies)[2], (*replies)[3]);
  if (!related.empty()) {
    if (auto fetched = co_await fetch_cards(related); !fetched) co_return fetched.error();
    page->related = kept_cards(related);
  }
  co_return page;
}

Task<Result<bool>> RedisReadModel::video_exists(int64_t id) {
  auto reply = co_await redis_.execute(Command("EXISTS", keys::card(id)));
  if (!reply) co_return reply.error();
  if (reply->is_error()) co_return Error{"redis: " + std::string(reply->str())};
  co_return reply->integer() == 1;
}

Task<Result<std::optional<UploadStatus>>> RedisReadModel::upload_status(int64_t id) {
  auto reply = co_await redis_.execute(Command("HGETALL", keys::job_progress(id)));
  if (!reply) co_return reply.error();
  if (reply->is_error()) co_return Error{"redis: " + std::string(reply->str())};
  const auto& fields = reply->elements();
  if (fields.empty()) co_return std::optional<UploadStatus>{};
  UploadStatus status;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    std::string_view name = fields[i].str(), value = fields[i + 1].str();
    if (name == "state") status.state = value;
    if (name == "progress") std::from_chars(value.data(), value.data() + value.size(), status.progress);
    if (name == "error") status.error = value;
  }
  co_return std::optional<UploadStatus>{std::move(status)};
}

Task<bool> RedisReadModel::ready() {
  auto pong = co_await redis_.execute(Command("PING"));
  co_return pong.ok() && !pong->is_error();
}

}  // namespace reel::projection
