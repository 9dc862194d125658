#include "people/playlists.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include "common/text.h"
#include "people/collection_writes.h"
#include "projection/codec.h"
#include "projection/collection_keys.h"
#include "projection/collections.h"
#include "sql/collection_store.h"

namespace reel::people {
namespace {

// The title as stored: trimmed, one line of 1..max_playlist_title_chars characters.
Result<std::string_view> playlist_title(std::string_view title) {
  const std::string_view trimmed = trim(title);
  const std::optional<size_t> chars = user_text_chars(trimmed, Lines::one);
  if (!chars) {
    return Error{"a playlist title must be valid UTF-8 on one line, without control characters",
                 ErrorKind::invalid_input};
  }
  if (*chars == 0 || *chars > max_playlist_title_chars) {
    return Error{fmt::format("a playlist title has 1 to {} characters", max_playlist_title_chars),
                 ErrorKind::invalid_input};
  }
  return trimmed;
}

// Locks the playlist and returns it when `user_id` owns it.
Result<catalog::Playlist> lock_owned(writes::Transaction& tx, sql::CollectionStore& store, int64_t user_id,
                                     int64_t playlist_id) {
  if (Status locked = tx.lock(playlist_object(playlist_id)); !locked) return locked.error();
  Result<std::optional<catalog::Playlist>> found = store.find_playlist(playlist_id);
  if (!found) return found.error();
  if (!*found || ((**found).user_id != user_id && !(**found).is_public)) {
    return Error{fmt::format("there is no playlist {}", playlist_id), ErrorKind::not_found};
  }
  if ((**found).user_id != user_id) {
    return Error{fmt::format("playlist {} is not yours to change", playlist_id), ErrorKind::forbidden};
  }
  return std::move(**found);
}

// Whether `order` names each of `items`' videos exactly once.
bool is_permutation_of(const std::vector<int64_t>& order, const std::vector<catalog::PlaylistItem>& items) {
  if (order.size() != items.size()) return false;
  std::vector<int64_t> sorted_order = order;
  std::vector<int64_t> current;
  current.reserve(items.size());
  for (const auto& item : items) current.push_back(item.video_id);
  std::sort(sorted_order.begin(), sorted_order.end());
  std::sort(current.begin(), current.end());
  return sorted_order == current;
}

}  // namespace

Result<int64_t> create_playlist(writes::Transaction& tx, int64_t user_id, std::string_view title,
                                bool is_public, int64_t now) {
  Result<std::string_view> clean = playlist_title(title);
  if (!clean) return clean.error();
  if (Status locked = tx.lock(user_object(user_id)); !locked) return locked.error();
  sql::CollectionStore store(tx.db());
  Result<int64_t> owned = store.count_playlists(user_id);
  if (!owned) return owned;
  if (*owned >= max_playlists_per_user) {
    return Error{fmt::format("you have {} playlists, the most one may have", *owned),
                 ErrorKind::invalid_input};
  }
  catalog::Playlist playlist;
  playlist.user_id = user_id;
  playlist.title = *clean;
  playlist.is_public = is_public;
  Result<int64_t> id = store.insert_playlist(playlist, now);
  if (!id) return id;
  const std::string object = playlist_object(*id);
  if (Status locked = tx.lock(object); !locked) return locked.error();
  Result<std::optional<catalog::Playlist>> stored = store.find_playlist(*id);
  if (!stored) return stored.error();
  if (!*stored) return Error{fmt::format("playlist {} is missing after its insert", *id)};
  tx.emit(object, projection::playlist_commands(**stored));
  return id;
}

Status rename_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id, std::string_view title,
                       int64_t now) {
  Result<std::string_view> clean = playlist_title(title);
  if (!clean) return clean.error();
  sql::CollectionStore store(tx.db());
  Result<catalog::Playlist> playlist = lock_owned(tx, store, user_id, playlist_id);
  if (!playlist) return playlist.error();
  if (Status set = store.set_playlist_title(playlist_id, *clean, now); !set) return set;
  playlist->title = *clean;
  tx.emit(playlist_object(playlist_id), projection::playlist_commands(*playlist));
  return {};
}

Status set_playlist_public(writes::Transaction& tx, int64_t user_id, int64_t playlist_id, bool is_public,
                           int64_t now) {
  sql::CollectionStore store(tx.db());
  Result<catalog::Playlist> playlist = lock_owned(tx, store, user_id, playlist_id);
  if (!playlist) return playlist.error();
  if (Status set = store.set_playlist_public(playlist_id, is_public, now); !set) return set;
  playlist->is_public = is_public;
  tx.emit(playlist_object(playlist_id), projection::playlist_commands(*playlist));
  return {};
}

Status delete_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id) {
  sql::CollectionStore store(tx.db());
  Result<catalog::Playlist> playlist = lock_owned(tx, store, user_id, playlist_id);
  if (!playlist) return playlist.error();
  if (Status deleted = store.delete_playlist(playlist_id); !deleted) return deleted;
  tx.emit(playlist_object(playlist_id), projection::playlist_removal_commands(*playlist));
  return {};
}

Result<bool> add_to_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id, int64_t video_id,
                             int64_t now) {
  sql::CollectionStore store(tx.db());
  Result<catalog::Playlist> playlist = lock_owned(tx, store, user_id, playlist_id);
  if (!playlist) return playlist.error();
  if (Status ready = require_ready(store, video_id); !ready) return ready.error();
  Result<std::optional<int64_t>> position = store.item_position(playlist_id, video_id);
  if (!position) return position.error();
  const bool added = !position->has_value();
  if (added) {
    Result<int64_t> items = store.count_items(playlist_id);
    if (!items) return items.error();
    if (*items >= max_playlist_items) {
      return Error{fmt::format("playlist {} is full ({} videos)", playlist_id, max_playlist_items),
                   ErrorKind::invalid_input};
    }
    Result<int64_t> appended = store.append_item(playlist_id, video_id, now);
    if (!appended) return appended.error();
    *position = *appended;
    if (Status touched = store.touch_playlist(playlist_id, now); !touched) return touched.error();
  }
  tx.emit(playlist_object(playlist_id),
          {projection::add_command(projection::item_membership({playlist_id, video_id, **position}))});
  return added;
}

Result<bool> remove_from_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id,
                                  int64_t video_id, int64_t now) {
  sql::CollectionStore store(tx.db());
  Result<catalog::Playlist> playlist = lock_owned(tx, store, user_id, playlist_id);
  if (!playlist) return playlist.error();
  Result<bool> removed = store.delete_item(playlist_id, video_id);
  if (!removed) return removed;
  if (*removed) {
    if (Status touched = store.touch_playlist(playlist_id, now); !touched) return touched.error();
  }
  tx.emit(playlist_object(playlist_id),
          {projection::remove_command(projection::item_membership({playlist_id, video_id, 0}))});
  return removed;
}

Status reorder_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id,
                        const std::vector<int64_t>& order, int64_t now) {
  sql::CollectionStore store(tx.db());
  Result<catalog::Playlist> playlist = lock_owned(tx, store, user_id, playlist_id);
  if (!playlist) return playlist.error();
  Result<std::vector<catalog::PlaylistItem>> listed = store.items(playlist_id, true);
  if (!listed) return listed.error();
  if (!is_permutation_of(order, *listed)) {
    return Error{
        fmt::format("the new order must name each of the playlist's {} videos exactly once", listed->size()),
        ErrorKind::invalid_input};
  }
  Result<std::vector<catalog::PlaylistItem>> all = store.items(playlist_id, false);
  if (!all) return all.error();
  std::vector<catalog::PlaylistItem> reordered;
  reordered.reserve(all->size());
  for (int64_t video_id : order) reordered.push_back({playlist_id, video_id, 0});
  const std::unordered_set<int64_t> listed_ids(order.begin(), order.end());
  for (const auto& item : *all) {  // the unlisted ones (being deleted), after, in their order
    if (!listed_ids.contains(item.video_id)) reordered.push_back(item);
  }
  for (size_t i = 0; i < reordered.size(); ++i) {
    reordered[i].position = static_cast<int64_t>(i) + 1;
    if (Status set = store.set_item_position(playlist_id, reordered[i].video_id, reordered[i].position); !set)
      return set;
  }
  if (Status touched = store.touch_playlist(playlist_id, now); !touched) return touched;
  reordered.resize(order.size());
  tx.emit(playlist_object(playlist_id), projection::playlist_items_commands(playlist_id, reordered));
  return {};
}

Status move_in_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id, int64_t video_id,
                        int64_t position, int64_t now) {
  sql::CollectionStore store(tx.db());
  Result<catalog::Playlist> playlist = lock_owned(tx, store, user_id, playlist_id);
  if (!playlist) return playlist.error();
  Result<std::vector<catalog::PlaylistItem>> listed = store.items(playlist_id, true);
  if (!listed) return listed.error();
  std::vector<int64_t> order;
  order.reserve(listed->size());
  for (const auto& item : *listed) {
    if (item.video_id != video_id) order.push_back(item.video_id);
  }
  if (order.size() == listed->size()) {
    return Error{fmt::format("video {} is not in playlist {}", video_id, playlist_id), ErrorKind::not_found};
  }
  const auto at = std::clamp<int64_t>(position, 1, static_cast<int64_t>(order.size()) + 1) - 1;
  order.insert(order.begin() + at, video_id);
  return reorder_playlist(tx, user_id, playlist_id, order, now);
}

Task<Result<std::optional<PlaylistPage>>> read_playlist(redis::Connection& redis, int64_t playlist_id,
                                                        int64_t viewer_id, int page, int per_page) {
  if (Status valid = check_page(page, per_page); !valid) co_return valid.error();
  const std::string items_key = projection::keys::playlist_items(playlist_id);
  const int64_t start = first_rank(page, per_page);
  std::vector<redis::Command> first;
  first.emplace_back("GET", projection::keys::playlist(playlist_id));
  first.emplace_back("ZCARD", items_key);
  first.emplace_back("ZRANGE", items_key, start, start + per_page - 1);
  auto replies = checked(co_await redis.execute(std::move(first)));
  if (!replies) co_return replies.error();
  std::optional<catalog::Playlist> playlist = projection::codec::decode_playlist((*replies)[0].str());
  if (!playlist || (!playlist->is_public && playlist->user_id != viewer_id)) {
    co_return std::optional<PlaylistPage>{};
  }
  PlaylistPage out{std::move(*playlist), {}};
  out.items.page = page;
  out.items.total = (*replies)[1].integer();
  out.items.pages = page_count(out.items.total, per_page);
  const std::vector<std::string> ids = strings_of((*replies)[2]);
  auto cards = co_await read_cards(redis, ids);
  if (!cards) co_return cards.error();
  out.items.cards = std::move(*cards);
  co_return std::optional<PlaylistPage>{std::move(out)};
}

Task<Result<PlaylistList>> read_user_playlists(redis::Connection& redis, int64_t owner_id, int64_t viewer_id,
                                               int page, int per_page) {
  std::string key = owner_id == viewer_id ? projection::keys::user_playlists(owner_id)
                                          : projection::keys::user_public_playlists(owner_id);
  auto list = co_await read_list_page(redis, std::move(key), true, false, page, per_page);
  if (!list) co_return list.error();
  PlaylistList out;
  out.page = list->page;
  out.total = list->total;
  out.pages = list->pages;
  const std::vector<std::string> ids = strings_of(list->members);
  if (ids.empty()) co_return out;

  std::vector<redis::Command> second;
  second.emplace_back("MGET");
  for (const auto& id : ids) {
    int64_t number = 0;
    std::from_chars(id.data(), id.data() + id.size(), number);  // members are ids this projection wrote
    second.front().arg(projection::keys::playlist(number));
    second.emplace_back("ZCARD", projection::keys::playlist_items(number));
  }
  auto details = checked(co_await redis.execute(std::move(second)));
  if (!details) co_return details.error();
  const auto& packed = (*details)[0].elements();
  for (size_t i = 0; i < ids.size() && i < packed.size(); ++i) {
    std::optional<catalog::Playlist> playlist = projection::codec::decode_playlist(packed[i].str());
    if (!playlist) continue;  // deleted since the list was read
    out.playlists.push_back({std::move(*playlist), (*details)[i + 1].integer()});
  }
  co_return out;
}

}  // namespace reel::people
