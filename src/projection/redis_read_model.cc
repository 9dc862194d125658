#include "projection/redis_read_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/days.h"
#include "projection/codec.h"
#include "projection/filtered_list.h"
#include "projection/keys.h"
#include "projection/replica_read.h"
#include "projection/search_index.h"
#include "redis/script.h"

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

}  // namespace

Task<Result<std::vector<Reply>>> RedisReadModel::read(std::vector<Command> commands) {
  co_return co_await read_with_fallback(redis_, &planner_, std::move(commands));
}

Task<Result<std::vector<std::optional<Card>>>> RedisReadModel::cards_of(const std::vector<std::string>& ids) {
  const auto now = clock_.now();
  std::vector<std::optional<Card>> out(ids.size());
  Command mget("MGET");
  std::vector<size_t> asked;  // positions in `ids` read from Redis
  std::vector<int64_t> numbers(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    std::from_chars(ids[i].data(), ids[i].data() + ids[i].size(), numbers[i]);  // 0 if not a number
    if (const Card* kept = cards_.find(numbers[i], now)) {
      out[i] = *kept;
      continue;
    }
    asked.push_back(i);
    mget.arg(keys::card(ids[i]));
  }
  if (asked.empty()) co_return out;
  std::vector<Command> batch;
  batch.push_back(std::move(mget));
  auto replies = co_await read(std::move(batch));
  if (!replies) co_return replies.error();
  const auto& values = (*replies)[0].elements();
  for (size_t k = 0; k < asked.size() && k < values.size(); ++k) {
    const int64_t id = numbers[asked[k]];
    auto card = codec::decode_card(values[k].str());
    if (!card) {
      cards_.erase(id);  // deleted since the list was read
      continue;
    }
    if (id != 0) cards_.offer(id, *card, now);
    out[asked[k]] = std::move(*card);
  }
  co_return out;
}

std::vector<Card> RedisReadModel::present(std::vector<std::optional<Card>>& cards, size_t begin, size_t end) {
  std::vector<Card> out;
  out.reserve(end - begin);
  for (size_t i = begin; i < end && i < cards.size(); ++i) {
    if (cards[i]) out.push_back(std::move(*cards[i]));
  }
  return out;
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

Task<Result<std::shared_ptr<const Home>>> RedisReadModel::home() {
  const int32_t today = utc_day(clock_.unix_seconds());
  const auto now = clock_.now();
  if (const auto* kept = homes_.find(today, now)) co_return *kept;
  auto fresh = co_await read_home(today, now);
  co_return or_stale(std::move(fresh), homes_, today, now);
}

Task<Result<std::shared_ptr<const Home>>> RedisReadModel::read_home(
    int32_t today, std::chrono::system_clock::time_point now) {
  std::vector<Command> first;
  first.emplace_back("ZREVRANGE", keys::list({ListKind::all, {}}, Sort::views, Period::day, today), 0,
                     home_popular - 1);
  first.emplace_back("ZREVRANGE", keys::list({ListKind::all, {}}, Sort::views), 0, home_popular - 1);
  first.emplace_back("ZREVRANGE", keys::list({ListKind::all, {}}, Sort::newest), 0, home_newest - 1);
  const bool nav_requested = request_nav(first);
  auto lists = co_await read(std::move(first));
  if (!lists) co_return lists.error();

  Home home;
  home.nav = take_nav(nav_requested, lists->back());
  auto popular = ids_of((*lists)[0]);
  if (popular.empty()) popular = ids_of((*lists)[1]);
  auto newest = ids_of((*lists)[2]);
  if (!popular.empty() || !newest.empty()) {
    std::vector<std::string> all = popular;
    all.insert(all.end(), newest.begin(), newest.end());
    auto cards = co_await cards_of(all);
    if (!cards) co_return cards.error();
    home.popular = present(*cards, 0, popular.size());
    home.newest = present(*cards, popular.size(), all.size());
  }
  auto shared = std::make_shared<const Home>(std::move(home));
  homes_.offer(today, shared, now);
  co_return shared;
}

Task<Result<std::shared_ptr<const Listing>>> RedisReadModel::listing(const ListQuery& query) {
  const int32_t today = utc_day(clock_.unix_seconds());
  const int64_t start = int64_t{query.page - 1} * query.per_page;
  const auto now = clock_.now();
  if (query.filtered()) {
    FilteredPageCall call(query, today, clock_.unix_seconds(), filter_limits_);
    const std::string page_key = fmt::format("{}@{}+{}", call.result_key(), start, query.per_page);
    if (const auto* kept = listings_.find(page_key, now)) co_return *kept;
    auto fresh = co_await read_filtered_listing(query, call, page_key, now);
    co_return or_stale(std::move(fresh), listings_, page_key, now);
  }
  const std::string key = keys::list({query.kind, query.name}, query.sort, query.period, today);
  const std::string page_key = fmt::format("{}@{}+{}", key, start, query.per_page);
  if (const auto* kept = listings_.find(page_key, now)) co_return *kept;
  auto fresh = co_await read_listing(query, key, start, page_key, now);
  co_return or_stale(std::move(fresh), listings_, page_key, now);
}

void RedisReadModel::describe_scope(const ListQuery& query, const Reply& scope, Listing& listing) {
  switch (query.kind) {
    case ListKind::all:
      break;
    case ListKind::category: {
      auto it = std::find_if(listing.nav.begin(), listing.nav.end(),
                             [&](const CategoryLink& c) { return c.slug == query.name; });
      listing.found = it != listing.nav.end();
      if (listing.found) listing.title = it->name;
      break;
    }
    case ListKind::tag:
      listing.found = scope.integer() > 0;
      listing.title = query.name;
      break;
    case ListKind::channel: {
      const auto& fields = scope.elements();
      listing.found = fields.size() == 2 && !fields[0].is_nil();
      if (listing.found) {
        listing.title = fields[0].str();
        listing.subscribers = fields[1].integer();
      }
      break;
    }
  }
}

Task<Result<std::shared_ptr<const Listing>>> RedisReadModel::with_cards(
    Listing listing, const std::vector<std::string>& ids, const std::string& page_key,
    std::chrono::system_clock::time_point now) {
  if (listing.found && !ids.empty()) {
    auto cards = co_await cards_of(ids);
    if (!cards) co_return cards.error();
    listing.cards = present(*cards, 0, ids.size());
  }
  auto shared = std::make_shared<const Listing>(std::move(listing));
  listings_.offer(page_key, shared, now);
  co_return shared;
}

Task<Result<std::shared_ptr<const Listing>>> RedisReadModel::read_listing(
    const ListQuery& query, const std::string& key, int64_t start, const std::string& page_key,
    std::chrono::system_clock::time_point now) {
  std::vector<Command> first;
  first.emplace_back("ZCARD", key);
  first.emplace_back("ZREVRANGE", key, start, start + query.per_page - 1);
  if (query.kind == ListKind::channel) {
    first.emplace_back("HMGET", keys::channel(query.name), "display_name", codec::channel_subscribers_field);
  }
  const bool nav_requested = request_nav(first);
  auto lists = co_await read(std::move(first));
  if (!lists) co_return lists.error();

  Listing listing;
  listing.page = query.page;
  listing.total = (*lists)[0].integer();
  listing.pages = static_cast<int>((listing.total + query.per_page - 1) / query.per_page);
  listing.nav = take_nav(nav_requested, lists->back());
  // A tag exists while its list has videos; a channel has its hash.
  describe_scope(query, (*lists)[query.kind == ListKind::channel ? 2 : 0], listing);
  auto ids = ids_of((*lists)[1]);
  co_return co_await with_cards(std::move(listing), ids, page_key, now);
}

Task<Result<std::vector<Reply>>> RedisReadModel::execute_script_batch(std::vector<Command> batch,
                                                                      const std::function<Command()>& eval) {
  auto replies = co_await planner_.execute(std::move(batch));
  if (!replies || replies->empty() || !redis::Script::is_noscript(replies->front())) co_return replies;
  // Redis lost its script cache (a restart): the source once, which caches it again.
  Command with_source = eval();  // named, not a temporary in co_await (STYLE.md)
  auto again = co_await planner_.execute(std::move(with_source));
  if (!again) co_return again.error();
  replies->front() = std::move(*again);
  co_return replies;
}

Task<Result<std::shared_ptr<const Listing>>> RedisReadModel::read_filtered_listing(
    const ListQuery& query, const FilteredPageCall& call, const std::string& page_key,
    std::chrono::system_clock::time_point now) {
  std::vector<Command> first;
  first.push_back(call.evalsha());
  if (query.kind == ListKind::channel) {
    first.emplace_back("HMGET", keys::channel(query.name), "display_name", codec::channel_subscribers_field);
  } else if (query.kind == ListKind::tag) {
    first.emplace_back("ZCARD", keys::list({query.kind, query.name}, Sort::newest));
  }
  const bool nav_requested = request_nav(first);
  auto replies = co_await execute_script_batch(std::move(first), [&call] { return call.eval(); });
  if (!replies) co_return replies.error();
  auto page = parse_filtered_page(replies->front());
  if (!page) co_return page.error();
  replies = checked(std::move(replies));
  if (!replies) co_return replies.error();

  Listing listing;
  listing.page = query.page;
  listing.total = page->total;
  listing.pages = static_cast<int>((page->pageable + query.per_page - 1) / query.per_page);
  listing.nav = take_nav(nav_requested, replies->back());
  const bool scope_read = query.kind == ListKind::channel || query.kind == ListKind::tag;
  describe_scope(query, (*replies)[scope_read ? 1 : 0], listing);
  co_return co_await with_cards(std::move(listing), page->ids, page_key, now);
}

Task<Result<std::shared_ptr<const SearchResults>>> RedisReadModel::search(const SearchQuery& query) {
  const int per_page = std::clamp(query.per_page, 1, max_search_per_page);
  const int page = std::max(query.page, 1);
  const int64_t start = int64_t{page - 1} * per_page;
  const int64_t stop = std::min(start + per_page, search_query::max_results) - 1;
  // The loop's kept page is found by the query as typed, before the analysis and the digest, so a
  // hot query costs one lookup. The text goes last: no other field can hold the separator (a name
  // that could is no match, and a no-match query is never kept).
  const std::string page_key =
      fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}+{}\x1f{}", search_sort_name(query.sort),
                  query.category, query.tag, query.channel, duration_name(query.duration),
                  period_name(query.period), start, per_page, query.text);
  const auto now = clock_.now();
  if (const auto* kept = searches_.find(page_key, now)) co_return *kept;
  const search_query::Plan plan =
      search_query::plan(query, search::thread_analyzer(), clock_.unix_seconds(), start, stop);
  if (plan.empty_query || plan.no_match) {
    SearchResults results;
    results.page = page;
    results.empty_query = plan.empty_query;
    std::vector<Command> first;
    const bool nav_requested = request_nav(first);
    if (nav_requested) {
      auto replies = co_await read(std::move(first));
      if (!replies) co_return replies.error();
      results.nav = take_nav(true, replies->back());
    } else {
      results.nav = nav_;
    }
    co_return std::make_shared<const SearchResults>(std::move(results));
  }
  auto fresh = co_await read_search(plan, page, per_page, page_key, now);
  co_return or_stale(std::move(fresh), searches_, page_key, now);
}

Task<Result<std::shared_ptr<const SearchResults>>> RedisReadModel::read_search(
    const search_query::Plan& plan, int page, int per_page, const std::string& page_key,
    std::chrono::system_clock::time_point now) {
  const redis::Script& script = search_query::script();
  std::vector<Command> first;
  first.push_back(script.evalsha_command(plan.keys, plan.args));
  const bool nav_requested = request_nav(first);
  auto replies = co_await execute_script_batch(std::move(first),
                                               [&] { return script.eval_command(plan.keys, plan.args); });
  if (!replies) co_return replies.error();
  if (nav_requested && replies->back().is_error())
    co_return Error{"redis: " + std::string(replies->back().str())};
  Reply planned = std::move(replies->front());
  auto answer = search_query::read_answer(planned);
  if (!answer) co_return answer.error();

  SearchResults results;
  results.page = page;
  results.terms = plan.terms;
  results.nav = take_nav(nav_requested, replies->back());
  results.total = answer->total;
  results.approximate = answer->approximate;
  int64_t pageable = answer->pageable;
  if (!answer->cached && !plan.checked.empty()) {
    // The candidates, checked on their titles; the checked ranking is what the result key keeps.
    auto cards = co_await cards_of(answer->ids);
    if (!cards) co_return cards.error();
    std::vector<std::string> ids;
    std::vector<Card> passed;
    for (size_t i = 0; i < cards->size(); ++i) {
      auto& card = (*cards)[i];
      if (!card || !search_query::passes_checks(search::thread_analyzer(), card->title, plan.checked))
        continue;
      ids.push_back(answer->ids[i]);
      passed.push_back(std::move(*card));
    }
    results.total = pageable = static_cast<int64_t>(passed.size());
    const bool approximate = answer->approximate || answer->total > static_cast<int64_t>(answer->ids.size());
    results.approximate = approximate;
    search_query::StoreCall store = search_query::store_call(plan, ids, results.total, approximate);
    auto stored = co_await script.run(planner_, std::move(store.keys), std::move(store.args));
    if (!stored) co_return stored.error();
    if (stored->is_error()) co_return Error{"redis: search: " + std::string(stored->str())};
    const size_t begin = static_cast<size_t>(page - 1) * per_page;
    for (size_t i = begin; i < passed.size() && i < begin + per_page; ++i)
      results.cards.push_back(std::move(passed[i]));
  } else if (!answer->ids.empty()) {
    auto cards = co_await cards_of(answer->ids);
    if (!cards) co_return cards.error();
    results.cards = present(*cards, 0, answer->ids.size());
  }
  results.pages = static_cast<int>((std::min(pageable, search_query::max_results) + per_page - 1) / per_page);
  auto shared = std::make_shared<const SearchResults>(std::move(results));
  searches_.offer(page_key, shared, now);
  co_return shared;
}

Task<Result<std::optional<VideoPage>>> RedisReadModel::video(int64_t id) {
  std::vector<Command> first;
  first.emplace_back("HGETALL", keys::video(id));
  first.emplace_back("ZSCORE", keys::list({ListKind::all, {}}, Sort::views), id);
  first.emplace_back("ZREVRANGE", keys::coviews(id), 0, related_shown);
  first.emplace_back("ZREVRANGE", keys::related(id), 0, related_shown - 1);
  const bool nav_requested = request_nav(first);
  auto replies = co_await read(std::move(first));
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
    auto cards = co_await cards_of(related);
    if (!cards) co_return cards.error();
    page->related = present(*cards, 0, related.size());
  }
  co_return page;
}

Task<Result<bool>> RedisReadModel::video_exists(int64_t id) {
  std::vector<Command> exists;
  exists.emplace_back("EXISTS", keys::card(id));
  auto reply = co_await read(std::move(exists));
  if (!reply) co_return reply.error();
  co_return reply->front().integer() == 1;
}

Task<Result<std::optional<UploadStatus>>> RedisReadModel::upload_status(int64_t id) {
  std::vector<Command> progress;
  progress.emplace_back("HGETALL", keys::job_progress(id));
  auto reply = co_await read(std::move(progress));
  if (!reply) co_return reply.error();
  const auto& fields = reply->front().elements();
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

namespace {

// One readiness probe in flight: the PINGs still out, whether one answered, and the timer ready()
// waits on (cancelled by the first answer or the last failure). Shared with the PINGs, which may
// finish after ready() has returned.
struct ReadyProbe {
  explicit ReadyProbe(asio::any_io_executor executor, int pings) : done(executor), pending(pings) {}
  asio::steady_timer done;
  int pending;
  bool answered = false;
};

Task<void> ping_for(std::shared_ptr<ReadyProbe> probe, redis::Connection& connection) {
  Command ping("PING");
  auto pong = co_await connection.execute(std::move(ping));
  if (pong.ok() && !pong->is_error()) probe->answered = true;
  if (probe->answered || --probe->pending == 0) probe->done.cancel();
}

}  // namespace

Task<bool> RedisReadModel::ready() {
  auto executor = co_await asio::this_coro::executor;
  const bool one_connection = &planner_ == &redis_;
  auto probe = std::make_shared<ReadyProbe>(executor, one_connection ? 1 : 2);
  probe->done.expires_after(ready_deadline);
  asio::co_spawn(executor, ping_for(probe, redis_), asio::detached);
  if (!one_connection) asio::co_spawn(executor, ping_for(probe, planner_), asio::detached);
  boost::system::error_code cancelled_or_expired;
  co_await probe->done.async_wait(asio::redirect_error(asio::use_awaitable, cancelled_or_expired));
  co_return probe->answered;
}

}  // namespace reel::projection
