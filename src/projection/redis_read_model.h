// RedisReadModel: the ReadModel over Redis. Every call costs at most two round trips, each one
// pipelined batch on the event loop's shared connection: the first reads list ids (and the video
// hash or channel, and a video's co-view and fallback related lists), the second one MGET of the
// cards (each carrying its view count). A listing with a duration or period filter reads its ids
// with one script call in the first batch (projection/filtered_list.h; once more with the script's
// source after Redis lost its script cache). SQL is never touched. The header's category list changes
// only on a rebuild, so it is read at most once per nav_ttl_seconds per event loop and kept. Cards
// and list pages read twice are kept for card_ttl (kept.h), so a hot page costs no round trip.
// Search (search_query.h): the first round trip is the planner's EVALSHA, which writes its result
// key (so this connection must reach the primary); a cold query with quoted phrases costs a third,
// storing the checked result.
// Grace: when Redis fails (unreachable, timing out, still loading), the home page, list pages and
// search pages this loop holds are served stale, up to `grace` after they were read (counted in
// stale_served()); what it does not hold fails.
// Thread-safety: as its redis::Connection (one event loop); stale_served() from any thread.
// Failure: an Error when Redis is unreachable or times out and no page within grace is held.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "projection/filtered_list.h"
#include "projection/kept.h"
#include "projection/read_model.h"
#include "projection/search_query.h"
#include "redis/connection.h"

namespace reel::projection {

class RedisReadModel final : public ReadModel {
 public:
  // Both references must outlive this object. `filter_limits` bound filtered listings
  // (projection/filtered_list.h).
  // `planner`: where the scripts of searches and filtered listings run, which write their result
  // keys — the primary when `redis` is a read-only replica; null: `redis`.
  RedisReadModel(redis::Connection& redis, const Clock& clock, std::chrono::milliseconds grace = {},
                 FilterLimits filter_limits = {}, redis::Connection* planner = nullptr)
      : redis_(redis),
        planner_(planner != nullptr ? *planner : redis),
        clock_(clock),
        grace_(grace),
        filter_limits_(filter_limits) {}

  Task<Result<std::shared_ptr<const Home>>> home() override;
  Task<Result<std::shared_ptr<const Listing>>> listing(const ListQuery& query) override;
  Task<Result<std::shared_ptr<const SearchResults>>> search(const SearchQuery& query) override;
  Task<Result<std::optional<VideoPage>>> video(int64_t id) override;
  Task<Result<bool>> video_exists(int64_t id) override;
  Task<Result<std::optional<UploadStatus>>> upload_status(int64_t id) override;
  // Ready when this loop's read connection or its planner connection (the primary) answers a
  // PING within ready_deadline. Either is enough: a read connection stuck on a frozen replica is
  // replaced after its command timeout and its pages are served in grace meanwhile, so one stalled
  // replica must not take every app server out of the load balancer (HAProxy checks /readyz with a
  // 1 s timeout, shorter than the command timeout). Not ready only when neither answers.
  Task<bool> ready() override;
  static constexpr std::chrono::milliseconds ready_deadline{750};

  // Pages served stale (Redis failed, the page was held within grace) since the start.
  uint64_t stale_served() const { return stale_served_.load(std::memory_order_relaxed); }

  static constexpr int home_popular = 12;
  static constexpr int home_newest = 24;
  static constexpr int related_shown = 12;
  static constexpr int64_t nav_ttl_seconds = 10;
  // A card or list page read from Redis is reused by this loop for this long (see kept.h): a
  // grid's cards and the first pages of the main lists are the hot objects of the site; their
  // view counts and order may lag by up to this much (pages say max-age=30 anyway).
  static constexpr std::chrono::milliseconds card_ttl{1000};
  // At most this many cards (list pages) are kept per loop, bounding its memory (kept.h: a new one
  // takes the slot of an older one; a kept page holds its 30 cards).
  static constexpr size_t max_kept_cards = 50000;
  static constexpr size_t max_kept_pages = 2000;
  // A search page holds at most this many cards (a larger per_page is cut to it).
  static constexpr int max_search_per_page = 100;

 private:
  // The replies of `commands` from the read connection, with the planner's (the primary) as the
  // fallback (replica_read.h).
  Task<Result<std::vector<redis::Reply>>> read(std::vector<redis::Command> commands);
  // Appends GET of the category list to `commands` when the kept copy is stale; returns whether.
  bool request_nav(std::vector<redis::Command>& commands) const;
  // Keeps the category list from `reply` (the last of the batch) when it was requested.
  const std::vector<CategoryLink>& take_nav(bool requested, const redis::Reply& reply);

  // The home page (today's lists) from Redis, kept when read twice.
  Task<Result<std::shared_ptr<const Home>>> read_home(int32_t today,
                                                      std::chrono::system_clock::time_point now);
  // The page of `query` (list `key`, from rank `start`) from Redis, kept under `page_key`.
  Task<Result<std::shared_ptr<const Listing>>> read_listing(const ListQuery& query, const std::string& key,
                                                            int64_t start, const std::string& page_key,
                                                            std::chrono::system_clock::time_point now);
  // Runs `batch` (a script call first, then plain reads) on the planner's connection; when Redis
  // lost its script cache, runs `eval()` (the same call with the script's source) once, in place
  // of the first reply. An Error when Redis fails.
  Task<Result<std::vector<redis::Reply>>> execute_script_batch(std::vector<redis::Command> batch,
                                                               const std::function<redis::Command()>& eval);
  // A listing with a duration or period filter (query.filtered()): one script call (the page's
  // ids, from the cached matches or a walk of the list) with the scope's reads, then the cards.
  Task<Result<std::shared_ptr<const Listing>>> read_filtered_listing(
      const ListQuery& query, const FilteredPageCall& call, const std::string& page_key,
      std::chrono::system_clock::time_point now);
  // Sets found, title and subscribers from the nav and `scope`: for a tag, a ZCARD of one of its
  // lists (found when not empty); for a channel, HMGET display_name and subscribers of its hash.
  static void describe_scope(const ListQuery& query, const redis::Reply& scope, Listing& listing);
  // `listing` with the cards of `ids` (none when not found), kept under `page_key`.
  Task<Result<std::shared_ptr<const Listing>>> with_cards(Listing listing,
                                                          const std::vector<std::string>& ids,
                                                          const std::string& page_key,
                                                          std::chrono::system_clock::time_point now);
  // The page of a planned search (search_query.h) from Redis, kept under `page_key`.
  Task<Result<std::shared_ptr<const SearchResults>>> read_search(const search_query::Plan& plan, int page,
                                                                 int per_page, const std::string& page_key,
                                                                 std::chrono::system_clock::time_point now);
  // `fresh` when it was read; else the page `kept` holds under `key` within grace, if any.
  template <class Key, class Value>
  Result<Value> or_stale(Result<Value> fresh, const Kept<Key, Value>& kept, const Key& key,
                         std::chrono::system_clock::time_point now) {
    if (fresh) return fresh;
    const Value* held = kept.find_within(key, now, grace_);
    if (held == nullptr) return fresh;
    stale_served_.fetch_add(1, std::memory_order_relaxed);
    return *held;
  }

  // The cards of `ids`, position for position (nullopt: the video has no card, it was deleted):
  // kept ones younger than card_ttl, the rest from one MGET (none when all are fresh). A card is
  // kept from its second read on. An Error when Redis fails.
  Task<Result<std::vector<std::optional<Card>>>> cards_of(const std::vector<std::string>& ids);
  // The cards present among cards[begin, end), moved out in order.
  static std::vector<Card> present(std::vector<std::optional<Card>>& cards, size_t begin, size_t end);

  Kept<int64_t, Card> cards_{card_ttl, max_kept_cards};  // by video id
  // By list key, first rank and page size.
  Kept<std::string, std::shared_ptr<const Listing>> listings_{card_ttl, max_kept_pages};
  Kept<int32_t, std::shared_ptr<const Home>> homes_{card_ttl, 2};  // by UTC day (today's list)
  // By the query as typed (its fields, first rank and page size; RedisReadModel::search).
  Kept<std::string, std::shared_ptr<const SearchResults>> searches_{card_ttl, max_kept_pages};

  redis::Connection& redis_;
  redis::Connection& planner_;
  const Clock& clock_;
  std::chrono::milliseconds grace_;
  FilterLimits filter_limits_;
  std::atomic<uint64_t> stale_served_{0};
  std::vector<CategoryLink> nav_;
  int64_t nav_read_at_ = 0;
  bool nav_read_ = false;
};

}  // namespace reel::projection
