#include "projection/rebuild.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "common/days.h"
#include "projection/account_keys.h"
#include "projection/collection_keys.h"
#include "projection/collections.h"
#include "projection/community.h"
#include "projection/community_keys.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "projection/search_index.h"
#include "projection/view_hold.h"
#include "projection/view_lists.h"
#include "sql/collection_store.h"
#include "sql/community_store.h"
#include "sql/outbox_store.h"
#include "sql/user_store.h"
#include "writes/apply.h"
#include "writes/relay.h"

namespace reel::projection {
namespace {

constexpr size_t commands_per_round_trip = 2000;
constexpr size_t members_per_zadd = 500;
constexpr int related_per_video = 12;
constexpr size_t candidates_per_list = 24;  // top videos kept per tag and category for related
constexpr int day_lists_kept = 30;

// Lets a map keyed by std::string be searched with a string_view.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

const std::vector<std::string_view> all_names = {
    "accounts", "videos", "channels", "nav",       "newest",    "views",         "rating", "duration",
    "related",  "votes",  "comments", "favorites", "playlists", "subscriptions", "search"};

// Patterns of the lists of one sort order (global, category, tag, channel).
std::vector<std::string> list_patterns(Sort sort) {
  std::vector<std::string> patterns;
  for (ListKind kind : {ListKind::all, ListKind::category, ListKind::tag, ListKind::channel}) {
    const bool full = kind == ListKind::all || kind == ListKind::category;
    if (!full && (sort == Sort::rating || sort == Sort::duration)) continue;
    std::string base = keys::list({kind, "*"}, sort);
    if (sort == Sort::views) base.replace(base.size() - 3, 3, "*");  // ":views:all" -> ":views:*"
    patterns.push_back(std::move(base));
  }
  return patterns;
}

// The key patterns each projection owns, for removing keys it no longer produces.
std::vector<std::string> owned_patterns(std::string_view name) {
  if (name == "videos") return {keys::video_pattern(), keys::card_pattern()};
  if (name == "channels") return {keys::channel_pattern()};
  if (name == "accounts") return {account_keys::user_pattern()};
  if (name == "related") return {keys::related_pattern()};
  if (name == "search") {
    return {keys::search_terms_pattern(), keys::search_records_pattern(),
            std::string(keys::search_dictionary()), std::string(keys::search_words())};
  }
  if (name == "votes") return {keys::user_votes_pattern()};
  if (name == "comments") return {keys::comments_pattern(), keys::comment_lists_pattern()};
  if (name == "favorites") return {keys::favorites_pattern()};
  if (name == "playlists") {
    return {keys::playlist_pattern(), keys::playlist_items_pattern(), keys::user_playlists_pattern()};
  }
  // The cached feeds are made of the subscriptions: they go, and the next read builds them again.
  if (name == "subscriptions") return {keys::subscriptions_pattern(), keys::feed_pattern()};
  if (name == "views") {
    auto patterns = list_patterns(Sort::views);
    patterns.push_back(keys::list({ListKind::all, {}}, Sort::trending));
    patterns.push_back(keys::list({ListKind::category, "*"}, Sort::trending));
    return patterns;
  }
  for (Sort sort : {Sort::newest, Sort::views, Sort::rating, Sort::duration}) {
    if (name == sort_name(sort)) return list_patterns(sort);
  }
  return {};
}

// Sends commands to Redis in pipelined round trips and turns error replies into an Error.
class CommandSink {
 public:
  CommandSink(redis::BlockingClient& redis, RebuildStats& stats) : redis_(redis), stats_(stats) {
    pending_.reserve(commands_per_round_trip);
  }

  Status add(redis::Command command) {
    pending_.push_back(std::move(command));
    return pending_.size() >= commands_per_round_trip ? flush() : Status{};
  }

  Status flush() {
    if (pending_.empty()) return {};
    std::vector<redis::Command> batch;
    batch.swap(pending_);
    pending_.reserve(commands_per_round_trip);
    stats_.redis_commands += batch.size();
    auto replies = redis_.execute(std::move(batch));
    if (!replies) return Error{"rebuild: " + replies.error().message};
    for (const auto& reply : *replies) {
      if (reply.is_error()) return Error{fmt::format("rebuild: redis answered: {}", reply.str())};
    }
    return {};
  }

  redis::BlockingClient& client() { return redis_; }

  Result<redis::Reply> call(redis::Command command) {
    if (auto flushed = flush(); !flushed) return flushed.error();
    ++stats_.redis_commands;
    return redis_.execute(std::move(command));
  }

 private:
  redis::BlockingClient& redis_;
  RebuildStats& stats_;
  std::vector<redis::Command> pending_;
};

// Collects list members (ids or text: channel names in subscriptions) and hash fields per key
// and writes them, in chunks, to the key's shadow copy.
class ListBuilder {
 public:
  explicit ListBuilder(CommandSink& sink) : sink_(sink) {}

  Status add(const std::string& key, double score, int64_t member) {
    auto [it, fresh] = pending_.try_emplace(key);
    if (auto s = begin(key, fresh); !s) return s;
    it->second.ids.emplace_back(score, member);
    return write_when_full(it);
  }

  Status add(const std::string& key, double score, std::string member) {
    auto [it, fresh] = pending_.try_emplace(key);
    if (auto s = begin(key, fresh); !s) return s;
    it->second.texts.emplace_back(score, std::move(member));
    return write_when_full(it);
  }

  // A field of a hash built whole and swapped in like a list (the per-video comments, the per-user
  // votes: fields that are gone must not survive a rebuild).
  Status add_field(const std::string& key, std::string field, std::string value) {
    auto [it, fresh] = pending_.try_emplace(key);
    if (auto s = begin(key, fresh); !s) return s;
    it->second.fields.emplace_back(std::move(field), std::move(value));
    return write_when_full(it);
  }

  // The shadow copy of `key` expires `seconds` after it is written (carried over by RENAME); a
  // relative time, so Redis's clock never meets the caller's.
  void expire_after(const std::string& key, int64_t seconds) { expiry_[key] = seconds; }

  // Writes what is pending for `key` now, freeing its memory.
  Status close(const std::string& key) {
    auto it = pending_.find(key);
    return it == pending_.end() ? Status{} : write(it);
  }

  Status finish() {
    while (!pending_.empty()) {
      if (auto s = write(pending_.begin()); !s) return s;
    }
    for (const auto& [key, seconds] : expiry_) {
      if (auto s = sink_.add(redis::Command("EXPIRE", shadow(key), seconds)); !s) return s;
    }
    return sink_.flush();
  }

  // Moves every built shadow into place.
  Status swap() {
    for (const auto& key : built_) {
      if (auto s = sink_.add(redis::Command("RENAME", shadow(key), key)); !s) return s;
    }
    return sink_.flush();
  }

  const std::unordered_set<std::string>& built() const { return built_; }

 private:
  // What waits to be written to one key: members (ids or text) of a list, or fields of a hash.
  struct Items {
    std::vector<std::pair<double, int64_t>> ids;
    std::vector<std::pair<double, std::string>> texts;
    std::vector<std::pair<std::string, std::string>> fields;
    size_t size() const { return ids.size() + texts.size() + fields.size(); }
  };
  using Pending = std::unordered_map<std::string, Items>;

  static std::string shadow(const std::string& key) { return std::string(keys::shadow_prefix()) + key; }

  // A key seen for the first time in this rebuild starts from an empty shadow.
  Status begin(const std::string& key, bool fresh) {
    if (fresh && built_.insert(key).second) return sink_.add(redis::Command("DEL", shadow(key)));
    return {};
  }

  Status write_when_full(Pending::iterator it) {
    return it->second.size() >= members_per_zadd ? write(it) : Status{};
  }

  Status write(Pending::iterator it) {
    const Items& items = it->second;
    redis::Command command(items.fields.empty() ? "ZADD" : "HSET", shadow(it->first));
    for (const auto& [score, member] : items.ids) command.arg(score).arg(member);
    for (const auto& [score, member] : items.texts) command.arg(score).arg(member);
    for (const auto& [field, value] : items.fields) command.arg(field).arg(value);
    pending_.erase(it);
    return sink_.add(std::move(command));
  }

  CommandSink& sink_;
  Pending pending_;
  std::unordered_set<std::string> built_;
  std::map<std::string, int64_t> expiry_;
};

// Related videos by shared tags and category: each video's candidates are the most viewed
// videos of its tags and categories, ranked by how much they share with it.
class RelatedIndex {
 public:
  void add(const catalog::Video& video) {
    Item item{video.id, video.views, intern(video.tags, tag_ids_, top_by_tag_),
              intern(video.categories, category_ids_, top_by_category_)};
    const uint32_t index = static_cast<uint32_t>(items_.size());
    for (uint32_t t : item.tags) offer(top_by_tag_[t], index, item.views);
    for (uint32_t c : item.categories) offer(top_by_category_[c], index, item.views);
    items_.push_back(std::move(item));
  }

  size_t size() const { return items_.size(); }

  // Calls fn(video id, related id, score) for each related pair of video `index`.
  template <class Fn>
  void related(size_t index, Fn&& fn) const {
    const Item& item = items_[index];
    std::vector<uint32_t> candidates;
    for (uint32_t t : item.tags) append_members(top_by_tag_[t], candidates);
    for (uint32_t c : item.categories) append_members(top_by_category_[c], candidates);
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    std::vector<std::pair<double, uint32_t>> scored;
    scored.reserve(candidates.size());
    for (uint32_t other : candidates) {
      if (other == index) continue;
      const Item& o = items_[other];
      const double score = 2.0 * shared(item.tags, o.tags) + shared(item.categories, o.categories) +
                           static_cast<double>(std::min<int64_t>(o.views, 999'999'999)) / 1e9;
      scored.emplace_back(score, other);
    }
    const size_t keep = std::min<size_t>(scored.size(), related_per_video);
    std::partial_sort(scored.begin(), scored.begin() + static_cast<ptrdiff_t>(keep), scored.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t i = 0; i < keep; ++i) fn(item.id, items_[scored[i].second].id, scored[i].first);
  }

 private:
  struct Item {
    int64_t id;
    int64_t views;
    std::vector<uint32_t> tags;        // sorted
    std::vector<uint32_t> categories;  // sorted
  };
  using Top = std::vector<std::pair<int64_t, uint32_t>>;  // min-heap of (views, item index)

  static std::vector<uint32_t> intern(const std::vector<std::string>& names,
                                      std::unordered_map<std::string, uint32_t>& ids,
                                      std::vector<Top>& tops) {
    std::vector<uint32_t> out;
    for (const auto& name : names) {
      auto [it, fresh] = ids.try_emplace(name, static_cast<uint32_t>(ids.size()));
      if (fresh) tops.emplace_back();
      out.push_back(it->second);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  static void offer(Top& top, uint32_t index, int64_t views) {
    auto greater = [](const auto& a, const auto& b) { return a.first > b.first; };
    if (top.size() < candidates_per_list) {
      top.emplace_back(views, index);
      std::push_heap(top.begin(), top.end(), greater);
    } else if (views > top.front().first) {
      std::pop_heap(top.begin(), top.end(), greater);
      top.back() = {views, index};
      std::push_heap(top.begin(), top.end(), greater);
    }
  }

  static void append_members(const Top& top, std::vector<uint32_t>& out) {
    for (const auto& entry : top) out.push_back(entry.second);
  }

  static int shared(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
    int n = 0;
    for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
      if (a[i] == b[j])
        ++n, ++i, ++j;
      else if (a[i] < b[j])
        ++i;
      else
        ++j;
    }
    return n;
  }

  std::unordered_map<std::string, uint32_t> tag_ids_, category_ids_;
  std::vector<Top> top_by_tag_, top_by_category_;
  std::vector<Item> items_;
};

class Rebuild {
 public:
  Rebuild(sql::CatalogStore& store, redis::BlockingClient& redis, const RebuildOptions& options)
      : store_(store),
        community_(store.connection()),
        options_(options),
        sink_(redis, stats_),
        lists_(sink_),
        named_lists_(sink_),
        hold_(redis, {"rebuild", options.hold_ttl, options.confirm_timeout}) {
    for (auto name : all_names) {
      selected_[name] = options.projections.empty() ||
                        std::find(options.projections.begin(), options.projections.end(), name) !=
                            options.projections.end();
    }
  }

  // Builds under a hold of view counting when it writes view counts (the lists of the views
  // projection, and the cards of the videos projection).
  Result<RebuildStats> run() {
    if (selected_["views"] || selected_["videos"]) {
      report("hold views", 0, 0);
      if (auto held = hold_.begin(); !held) {
        auto ended = hold_.end();  // a hold set before the wait failed is removed again
        return ended ? held.error() : Error{held.error().message + "; " + ended.error().message};
      }
    }
    auto built = build();
    auto ended = hold_.end();
    if (!built && !ended) return Error{built.error().message + "; " + ended.error().message};
    if (!built) return built;
    if (!ended) return ended.error();
    return built;
  }

 private:
  // Reads SQL in one snapshot (with the write path's sequence numbers), writes the shadow keys,
  // swaps them in, sweeps, and brings the write path's watermarks in step with the snapshot.
  Result<RebuildStats> build() {
    sql::Connection& db = store_.connection();
    if (Status begun = db.begin_snapshot(); !begun) return begun.error();
    Status read = read_snapshot();
    Status ended = read ? db.commit() : db.rollback();
    if (!read) return read.error();
    if (!ended) return ended.error();
    // The last moment to refuse: shadow keys built while views went on being counted would, once
    // swapped in, lose those views. Nothing is published, and run() reports the lapse.
    if (hold_.lapsed()) return Error{"rebuild: the hold on view counting lapsed: nothing was swapped in"};
    report("swap", 0, stats_.lists);
    if (auto s = lists_.swap(); !s) return s.error();
    if (auto s = named_lists_.swap(); !s) return s.error();
    if (selected_["search"]) {
      if (auto s = sink_.add(redis::Command("SET", keys::search_videos(), stats_.videos)); !s)
        return s.error();
    }
    if (auto s = sweep(); !s) return s.error();
    if (auto s = rebase_watermarks(); !s) return s.error();
    return stats_;
  }

  // Everything that reads SQL, inside build()'s snapshot: the objects' sequence numbers, then
  // each selected projection into shadow keys.
  Status read_snapshot() {
    report("sequence numbers", 0, 0);
    Status listed =
        sql::OutboxStore(store_.connection()).for_each_seq([&](std::string_view object, int64_t seq) {
          snapshot_seqs_.emplace(object, seq);
          return true;
        });
    if (!listed) return listed;
    auto categories = store_.categories();
    if (!categories) return categories.error();
    auto channels = store_.channels();
    if (!channels) return channels.error();
    std::unordered_map<std::string, std::string> display_names;
    for (const auto& channel : *channels) display_names[channel.name] = channel.display_name;

    if (selected_["nav"]) {
      if (auto s = sink_.add(nav_command(*categories)); !s) return s;
    }
    if (selected_["channels"]) {
      for (const auto& channel : *channels) {
        produced_.insert(keys::channel(channel.name));
        if (auto s = sink_.add(channel_command(channel)); !s) return s;
      }
    }
    if (auto s = scan_videos(display_names); !s) return s;
    if (selected_["search"]) {
      if (auto s = dictionary(); !s) return s;
    }
    if (selected_["views"]) {
      if (auto s = period_views(*categories); !s) return s;
    }
    if (selected_["related"]) {
      if (auto s = related(); !s) return s;
    }
    if (selected_["accounts"]) {
      if (auto s = accounts(); !s) return s;
    }
    if (selected_["votes"]) {
      if (auto s = votes(); !s) return s;
    }
    if (selected_["comments"]) {
      if (auto s = comments(); !s) return s;
    }
    if (auto s = collections(); !s) return s;
    if (auto s = lists_.finish(); !s) return s;
    if (auto s = named_lists_.finish(); !s) return s;
    stats_.lists = lists_.built().size() + named_lists_.built().size();
    return {};
  }

  // Writes committed after the snapshot may have landed on the keys the swap replaced: every
  // object whose sequence number moved since the snapshot gets the snapshot's number as its
  // watermark again, and its outbox rows above it are applied anew, in order (rebuild.h). The
  // users' sessions objects are left out: a rebuild rebuilds no session (they live only in Redis,
  // maybe on a node of their own), so their watermarks stay true.
  Status rebase_watermarks() {
    report("watermarks", 0, 0);
    sql::Connection& primary = options_.primary != nullptr ? *options_.primary : store_.connection();
    std::vector<std::pair<std::string, int64_t>> moved;
    Status listed = sql::OutboxStore(primary).for_each_seq([&](std::string_view object, int64_t seq) {
      auto found = snapshot_seqs_.find(object);
      const int64_t at_snapshot = found == snapshot_seqs_.end() ? 0 : found->second;
      if (seq > at_snapshot && !writes::on_sessions_node(object))
        moved.emplace_back(std::string(object), at_snapshot);
      return true;
    });
    if (!listed) return listed;
    if (auto s = sink_.flush(); !s) return s;
    Result<int64_t> replayed = writes::rebase_watermarks(primary, sink_.client(), moved);
    if (!replayed) return Error{"rebuild: " + replayed.error().message};
    stats_.objects_rebased = moved.size();
    stats_.rows_replayed = static_cast<uint64_t>(*replayed);
    report("watermarks", moved.size(), moved.size());
    return {};
  }

  void report(std::string_view stage, uint64_t done, uint64_t total) {
    if (options_.progress) options_.progress(stage, done, total);
  }

  Status scan_videos(const std::unordered_map<std::string, std::string>& display_names) {
    auto total = store_.count_videos();
    if (!total) return total.error();
    const bool keep_categories = selected_["views"];
    Status failed;
    auto scanned = store_.for_each_video(catalog::VideoStatus::ready, [&](const catalog::Video& video) {
      if (!failed) return;
      ++stats_.videos;
      auto named = display_names.find(video.channel_name);
      const std::string_view display = named != display_names.end() ? named->second : video.channel_name;
      if (selected_["videos"]) {
        for (auto& command : video_object_commands(video, display)) {
          if (failed = sink_.add(std::move(command)); !failed) return;
        }
        produced_.insert(keys::video(video.id));
        produced_.insert(keys::card(video.id));
      }
      for (const auto& entry : list_memberships(video)) {
        if (!selected_[sort_name(entry.sort)]) continue;
        if (failed = lists_.add(entry.key, entry.score, video.id); !failed) return;
      }
      if (selected_["related"]) related_.add(video);
      if (selected_["search"]) {
        if (failed = index(video, display); !failed) return;
      }
      if (keep_categories) categories_of_[video.id] = video.categories;
      if (stats_.videos % 10000 == 0) report("videos", stats_.videos, static_cast<uint64_t>(*total));
    });
    report("videos", stats_.videos, static_cast<uint64_t>(*total));
    if (!scanned) return scanned;
    return failed;
  }

  // The video's search entries: each term's set built in a shadow like every list, its record
  // replaced whole (like v:{id}); the counter is set after the swap.
  Status index(const catalog::Video& video, std::string_view channel_display_name) {
    const std::vector<search_index::TermEntry> entries =
        search_index::video_terms(video, channel_display_name);
    for (const auto& entry : entries) {
      if (auto s = lists_.add(keys::search_term(entry.term), entry.weight, video.id); !s) return s;
      DictionaryEntry& known = dictionary_[entry.term];
      ++known.videos;
      if (known.word.empty() || search_index::preferred_word(entry.word, known.word)) known.word = entry.word;
    }
    std::string record = keys::search_record(video.id);
    produced_.insert(record);
    return sink_.add(redis::Command("SET", std::move(record), search_index::encode_record(entries)));
  }

  // search:terms and search:words from the counts index() gathered, built and swapped like lists.
  Status dictionary() {
    report("search dictionary", 0, dictionary_.size());
    const std::string terms(keys::search_dictionary());
    const std::string words(keys::search_words());
    for (auto& [term, entry] : dictionary_) {
      if (auto s = lists_.add(terms, static_cast<double>(entry.videos), term); !s) return s;
      if (auto s = lists_.add_field(words, term, std::move(entry.word)); !s) return s;
    }
    dictionary_.clear();
    return {};
  }

  // Adds `views` of video `id` to the period lists it feeds; views of videos that are not
  // listed (not ready, deleted) are left out.
  Status add_period_views(int64_t id, int64_t views, Period period, int32_t day) {
    auto it = categories_of_.find(id);
    if (it == categories_of_.end()) return {};
    catalog::Video video;
    video.categories = it->second;
    for (const auto& key : period_lists(video, period, day)) {
      if (auto s = lists_.add(key, static_cast<double>(views), id); !s) return s;
      if (period == Period::day) {
        lists_.expire_after(key, day_start(day) + day_list_ttl_days * 86400 - options_.now);
      }
    }
    return {};
  }

  // Trending from the daily counts of the last days, as the aggregator would have scored them:
  // each day's views weigh exp(lambda * (middle of the day - t0)), with t0 = the rebuild's time
  // written to trending:epoch, so the aggregator's later increments (scaled by the same t0) add
  // up with these.
  Status add_trending_views(const catalog::DailyViews& row, int64_t epoch) {
    auto it = categories_of_.find(row.video_id);
    if (it == categories_of_.end()) return {};
    const double lambda = std::log(2.0) / trending_half_life_seconds;
    const double weight = static_cast<double>(row.views) *
                          std::exp(lambda * static_cast<double>(day_start(row.day) + 43200 - epoch));
    if (auto s = lists_.add(keys::list({ListKind::all, {}}, Sort::trending), weight, row.video_id); !s)
      return s;
    for (const auto& slug : it->second) {
      if (auto s = lists_.add(keys::list({ListKind::category, slug}, Sort::trending), weight, row.video_id);
          !s) {
        return s;
      }
    }
    return {};
  }

  // The day lists, the week and month lists with their windows (views/windows.h: each list the
  // sum of its day lists from its window's first day), and trending.
  Status period_views(const std::vector<catalog::Category>& categories) {
    const int32_t today = utc_day(options_.now);
    const int64_t epoch = day_start(today) + 86400;  // the end of today: every weight <= 1
    const int32_t trending_since = days_before(today, trending_rebuild_days - 1);
    std::vector<std::string> slugs;
    for (const auto& category : categories) slugs.push_back(category.slug);
    const std::vector<keys::Scope> scopes = view_list_scopes(slugs);
    Status failed;
    for (const ViewWindow& window : view_windows) {
      report(window.period == Period::week ? "views/week" : "views/month", 0, 0);
      const int32_t first = window.first_day(today);
      auto scanned = store_.for_each_view_sum(first, [&](int64_t id, int64_t views) {
        if (failed) failed = add_period_views(id, views, window.period, 0);
      });
      if (!scanned) return scanned;
      if (!failed) return failed;
      for (const keys::Scope& scope : scopes) {
        if (auto s = lists_.add_field(std::string(keys::views_windows()),
                                      keys::list(scope, Sort::views, window.period), std::to_string(first));
            !s)
          return s;
      }
    }
    report("views/day", 0, 0);
    auto scanned = store_.for_each_daily_views(
        days_before(today, day_lists_kept - 1), [&](const catalog::DailyViews& row) {
          if (failed && row.day <= today) {
            failed = add_period_views(row.video_id, row.views, Period::day, row.day);
          }
          if (failed && row.day <= today && row.day >= trending_since) {
            failed = add_trending_views(row, epoch);
          }
        });
    if (!scanned) return scanned;
    if (!failed) return failed;
    return sink_.add(redis::Command("SET", keys::trending_epoch(), epoch));
  }

  Status related() {
    for (size_t i = 0; i < related_.size(); ++i) {
      std::string key;
      Status failed;
      related_.related(i, [&](int64_t id, int64_t other, double score) {
        if (key.empty()) key = keys::related(id);
        if (failed) failed = lists_.add(key, score, other);
      });
      if (!failed) return failed;
      if (!key.empty()) {
        if (auto s = lists_.close(key); !s) return s;
      }
      if (i % 10000 == 0) report("related", i, related_.size());
    }
    report("related", related_.size(), related_.size());
    return {};
  }

  // uv:{user} from the votes on ready videos, one user at a time (SQL orders them by user).
  Status votes() {
    report("votes", 0, 0);
    uint64_t done = 0;
    std::string key;
    Status failed;
    auto scanned = community_.for_each_vote([&](const catalog::Vote& vote) {
      if (!failed) return;
      std::string user_key = keys::user_votes(vote.user_id);
      if (user_key != key) {
        if (!key.empty()) failed = lists_.close(key);
        key = std::move(user_key);
      }
      if (failed) failed = lists_.add_field(key, std::to_string(vote.video_id), std::to_string(vote.value));
      if (++done % 100000 == 0) report("votes", done, 0);
    });
    if (!scanned) return scanned;
    if (!failed) return failed;
    report("votes", done, done);
    return key.empty() ? Status{} : lists_.close(key);
  }

  // cm:{video} and its lists from the comments on ready videos, one video at a time.
  Status comments() {
    report("comments", 0, 0);
    uint64_t done = 0;
    int64_t video = 0;
    Status failed;
    auto close_video = [&] {
      for (const std::string& key : community::video_comment_keys(video)) {
        if (failed) failed = lists_.close(key);
      }
    };
    auto scanned = community_.for_each_comment([&](const catalog::Comment& comment) {
      if (!failed) return;
      if (comment.video_id != video) {
        if (video != 0) close_video();
        video = comment.video_id;
      }
      if (failed) {
        failed = lists_.add_field(keys::comments(video), std::to_string(comment.id),
                                  community::encode_comment(comment));
      }
      for (community::CommentEntry& entry : community::comment_memberships(comment)) {
        if (failed) failed = lists_.add(entry.key, entry.score, std::move(entry.member));
      }
      if (++done % 100000 == 0) report("comments", done, 0);
    });
    if (!scanned) return scanned;
    if (video != 0) close_video();
    if (!failed) return failed;
    report("comments", done, done);
    return {};
  }

  // u:{id} of every live account: what a session lookup reads (a session whose user hash is
  // missing is refused), written one HSET each.
  Status accounts() {
    report("accounts", 0, 0);
    Status failed;
    Status scanned = sql::UserStore(store_.connection()).for_each_live([&](const catalog::User& user) {
      if (!failed) return;
      produced_.insert(account_keys::user(user.id));
      failed = sink_.add(account_keys::user_command(user));
    });
    if (!scanned) return scanned;
    return failed;
  }

  // Adds a member to a list of a collection, whose rows come grouped by list: the list before it is
  // complete, so it is written out now (`open` names the list being built).
  Status add_grouped(Membership membership, std::string& open) {
    if (membership.key != open) {
      if (auto s = named_lists_.close(open); !s) return s;
      open = membership.key;
    }
    return named_lists_.add(membership.key, membership.score, std::move(membership.member));
  }

  // Favorites, playlists and subscriptions (projection/collections.h maps each row).
  Status collections() {
    sql::CollectionStore store(store_.connection());
    Status failed;
    std::string open;
    if (selected_["favorites"]) {
      report("favorites", 0, 0);
      auto scanned = store.for_each_favorite([&](const catalog::Favorite& favorite) {
        if (failed) failed = add_grouped(favorite_membership(favorite), open);
      });
      if (!scanned) return scanned;
      if (!failed) return failed;
    }
    if (selected_["playlists"]) {
      report("playlists", 0, 0);
      auto scanned = store.for_each_playlist([&](const catalog::Playlist& playlist) {
        if (!failed) return;
        produced_.insert(keys::playlist(playlist.id));
        failed = sink_.add(playlist_object_command(playlist));
        for (auto& membership : playlist_memberships(playlist)) {
          if (failed)
            failed = named_lists_.add(membership.key, membership.score, std::move(membership.member));
        }
      });
      if (!scanned) return scanned;
      if (!failed) return failed;
      scanned = store.for_each_listed_item([&](const catalog::PlaylistItem& item) {
        if (failed) failed = add_grouped(item_membership(item), open);
      });
      if (!scanned) return scanned;
      if (!failed) return failed;
    }
    if (selected_["subscriptions"]) {
      report("subscriptions", 0, 0);
      auto scanned = store.for_each_subscription([&](const catalog::Subscription& subscription) {
        if (failed) failed = add_grouped(subscription_membership(subscription), open);
      });
      if (!scanned) return scanned;
      if (!failed) return failed;
    }
    return named_lists_.close(open);
  }

  // Removes keys of the selected projections that this rebuild did not produce.
  Status sweep() {
    std::vector<std::string> stale;
    for (auto name : all_names) {
      if (!selected_[name]) continue;
      for (const auto& pattern : owned_patterns(name)) {
        std::string cursor = "0";
        do {
          auto reply = sink_.call(redis::Command("SCAN", cursor, "MATCH", pattern, "COUNT", 10000));
          if (!reply) return reply.error();
          if (!reply->is_array() || reply->elements().size() != 2) {
            return Error{"rebuild: unexpected SCAN reply"};
          }
          cursor = std::string(reply->elements()[0].str());
          for (const auto& key : reply->elements()[1].elements()) {
            std::string k(key.str());
            if (!produced_.contains(k) && !lists_.built().contains(k) && !named_lists_.built().contains(k)) {
              stale.push_back(std::move(k));
            }
          }
        } while (cursor != "0");
      }
    }
    report("sweep", 0, stale.size());
    for (const auto& key : stale) {
      if (auto s = sink_.add(redis::Command("UNLINK", key)); !s) return s;
    }
    stats_.stale_keys_removed = stale.size();
    return sink_.flush();
  }

  sql::CatalogStore& store_;
  sql::CommunityStore community_;
  const RebuildOptions& options_;
  RebuildStats stats_;
  CommandSink sink_;
  ListBuilder lists_;
  ListBuilder named_lists_;  // the collections' lists
  ViewHold hold_;
  RelatedIndex related_;
  std::map<std::string_view, bool> selected_;
  std::unordered_set<std::string> produced_;  // object keys written (lists are in lists_)
  std::unordered_map<int64_t, std::vector<std::string>> categories_of_;
  struct DictionaryEntry {
    int64_t videos = 0;
    std::string word;  // the preferred_word of the videos' spellings
  };
  std::unordered_map<std::string, DictionaryEntry> dictionary_;  // term ->
  // The write path's sequence number of every object, as of the snapshot.
  std::unordered_map<std::string, int64_t, TextHash, std::equal_to<>> snapshot_seqs_;
};

}  // namespace

const std::vector<std::string_view>& projection_names() {
  return all_names;
}

Result<RebuildStats> rebuild(sql::CatalogStore& store, redis::BlockingClient& redis,
                             const RebuildOptions& options) {
  for (const auto& name : options.projections) {
    if (std::find(all_names.begin(), all_names.end(), name) == all_names.end()) {
      return Error{fmt::format("unknown projection '{}' (known: {})", name, fmt::join(all_names, ", "))};
    }
  }
  return Rebuild(store, redis, options).run();
}

}  // namespace reel::projection
