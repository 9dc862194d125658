#include "sql/collection_store.h"

#include <fmt/format.h>

#include "sql/statements.h"

namespace reel::sql {
namespace {

// SQLite has one writer at a time; MariaDB needs the share lock (see video_ready()).
constexpr DialectSql select_video_status = {"SELECT status FROM videos WHERE id = ?",
                                            "SELECT status FROM videos WHERE id = ? LOCK IN SHARE MODE"};
constexpr std::string_view select_live_channel =
    "SELECT id, name, display_name, created_at, subscribers FROM users WHERE name = ? AND deleted_at IS NULL";

constexpr std::string_view select_favorite_time =
    "SELECT created_at FROM favorites WHERE user_id = ? AND video_id = ?";
constexpr std::string_view insert_favorite_row =
    "INSERT INTO favorites (user_id, video_id, created_at) VALUES (?, ?, ?)";
constexpr std::string_view delete_favorite_row = "DELETE FROM favorites WHERE user_id = ? AND video_id = ?";
constexpr std::string_view delete_user_favorites = "DELETE FROM favorites WHERE user_id = ?";
constexpr std::string_view select_favoriting_users =
    "SELECT user_id FROM favorites WHERE video_id = ? ORDER BY user_id";

constexpr std::string_view insert_playlist_row =
    "INSERT INTO playlists (user_id, title, public, items, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)";
#define REEL_PLAYLIST_SELECT                                                                                 \
  "SELECT p.id, p.user_id, u.name, p.title, p.public, p.created_at FROM playlists p JOIN users u ON u.id = " \
  "p.user_id "
constexpr std::string_view select_playlist = REEL_PLAYLIST_SELECT "WHERE p.id = ?";
constexpr std::string_view select_all_playlists = REEL_PLAYLIST_SELECT "ORDER BY p.id";
#undef REEL_PLAYLIST_SELECT
constexpr std::string_view count_user_playlists = "SELECT COUNT(*) FROM playlists WHERE user_id = ?";
constexpr std::string_view select_user_playlist_ids =
    "SELECT id FROM playlists WHERE user_id = ? ORDER BY id";
constexpr std::string_view update_playlist_title =
    "UPDATE playlists SET title = ?, updated_at = ? WHERE id = ?";
constexpr std::string_view update_playlist_public =
    "UPDATE playlists SET public = ?, updated_at = ? WHERE id = ?";
constexpr std::string_view delete_playlist_row = "DELETE FROM playlists WHERE id = ?";
constexpr std::string_view select_playlists_containing =
    "SELECT playlist_id FROM playlist_items WHERE video_id = ? ORDER BY playlist_id";

constexpr std::string_view select_item_position =
    "SELECT position FROM playlist_items WHERE playlist_id = ? AND video_id = ?";
constexpr std::string_view count_playlist_items = "SELECT COUNT(*) FROM playlist_items WHERE playlist_id = ?";
constexpr std::string_view select_next_position =
    "SELECT COALESCE(MAX(position), 0) + 1 FROM playlist_items WHERE playlist_id = ?";
constexpr std::string_view insert_item_row =
    "INSERT INTO playlist_items (playlist_id, video_id, position, added_at) VALUES (?, ?, ?, ?)";
constexpr std::string_view delete_item_row =
    "DELETE FROM playlist_items WHERE playlist_id = ? AND video_id = ?";
constexpr std::string_view update_item_position =
    "UPDATE playlist_items SET position = ? WHERE playlist_id = ? AND video_id = ?";
constexpr std::string_view update_playlist_items =
    "UPDATE playlists SET items = (SELECT COUNT(*) FROM playlist_items WHERE playlist_id = ?), updated_at = "
    "? "
    "WHERE id = ?";
constexpr std::string_view select_items =
    "SELECT playlist_id, video_id, position FROM playlist_items WHERE playlist_id = ? "
    "ORDER BY position, video_id";
constexpr std::string_view select_listed_items =
    "SELECT i.playlist_id, i.video_id, i.position FROM playlist_items i JOIN videos v ON v.id = i.video_id "
    "WHERE i.playlist_id = ? AND v.status = 'ready' ORDER BY i.position, i.video_id";
constexpr std::string_view select_all_listed_items =
    "SELECT i.playlist_id, i.video_id, i.position FROM playlist_items i JOIN videos v ON v.id = i.video_id "
    "WHERE v.status = 'ready' ORDER BY i.playlist_id, i.position, i.video_id";

constexpr std::string_view select_subscription_time =
    "SELECT created_at FROM subscriptions WHERE user_id = ? AND channel_id = ?";
constexpr std::string_view insert_subscription_row =
    "INSERT INTO subscriptions (user_id, channel_id, created_at) VALUES (?, ?, ?)";
constexpr std::string_view delete_subscription_row =
    "DELETE FROM subscriptions WHERE user_id = ? AND channel_id = ?";
constexpr std::string_view update_add_subscribers =
    "UPDATE users SET subscribers = subscribers + ? WHERE id = ?";
constexpr std::string_view update_set_subscribers = "UPDATE users SET subscribers = ? WHERE id = ?";
constexpr std::string_view select_subscribers = "SELECT subscribers FROM users WHERE id = ?";
constexpr std::string_view count_user_subscriptions = "SELECT COUNT(*) FROM subscriptions WHERE user_id = ?";
#define REEL_SUBSCRIPTION_SELECT                                                                      \
  "SELECT s.user_id, s.channel_id, u.name, s.created_at FROM subscriptions s JOIN users u ON u.id = " \
  "s.channel_id "
constexpr std::string_view select_user_subscriptions =
    REEL_SUBSCRIPTION_SELECT "WHERE s.user_id = ? ORDER BY s.channel_id";
constexpr std::string_view select_all_subscriptions =
    REEL_SUBSCRIPTION_SELECT "ORDER BY s.user_id, s.channel_id";
constexpr std::string_view select_channel_subscriptions =
    REEL_SUBSCRIPTION_SELECT "WHERE s.channel_id = ? ORDER BY s.user_id";
#undef REEL_SUBSCRIPTION_SELECT
constexpr std::string_view delete_channel_subscriptions = "DELETE FROM subscriptions WHERE channel_id = ?";

constexpr std::string_view select_all_favorites =
    "SELECT f.user_id, f.video_id, f.created_at FROM favorites f JOIN videos v ON v.id = f.video_id "
    "WHERE v.status = 'ready' ORDER BY f.user_id, f.created_at, f.video_id";

Result<bool> changed(const Result<int64_t>& result) {
  if (!result.ok()) return result.error();
  return *result > 0;
}

// The first column of the first row, nullopt when there is no row.
Result<std::optional<int64_t>> single_integer(Connection& db, std::string_view sql, const Params& params) {
  Result<std::vector<Row>> rows = db.query_all(sql, params);
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return std::optional<int64_t>{};
  return std::optional<int64_t>{rows->front().integer(0)};
}

// A count (or another value every row set has).
Result<int64_t> integer(Connection& db, std::string_view sql, const Params& params) {
  Result<std::optional<int64_t>> value = single_integer(db, sql, params);
  if (!value.ok()) return value.error();
  if (!*value) return Error{fmt::format("no row from \"{}\"", sql)};
  return **value;
}

catalog::Favorite favorite_of(const Row& row) {
  return {row.integer(0), row.integer(1), row.integer(2)};
}

catalog::Playlist playlist_of(const Row& row) {
  return {row.integer(0), row.integer(1), row.text(2), row.text(3), row.integer(4) != 0, row.integer(5)};
}

catalog::PlaylistItem item_of(const Row& row) {
  return {row.integer(0), row.integer(1), row.integer(2)};
}

catalog::Subscription subscription_of(const Row& row) {
  return {row.integer(0), row.integer(1), row.text(2), row.integer(3)};
}

int64_t first_integer(const Row& row) {
  return row.integer(0);
}

// Calls `fn` with `make(row)` for every row of `sql`.
template <class T>
Status for_each(Connection& db, std::string_view sql, const Params& params, T (*make)(const Row&),
                const std::function<void(const T&)>& fn) {
  return db.query(sql, params, [&](const Row& row) {
    fn(make(row));
    return true;
  });
}

// `make(row)` of every row of `sql`.
template <class T>
Result<std::vector<T>> all_of(Connection& db, std::string_view sql, const Params& params,
                              T (*make)(const Row&)) {
  std::vector<T> out;
  Status read = for_each<T>(db, sql, params, make, [&](const T& value) { out.push_back(value); });
  if (!read.ok()) return read.error();
  return out;
}

}  // namespace

Result<bool> CollectionStore::video_ready(int64_t video_id) {
  Result<std::vector<Row>> rows = db_.query_all(select_video_status.in(db_.dialect()), {video_id});
  if (!rows.ok()) return rows.error();
  return !rows->empty() && rows->front().text(0) == catalog::to_string(catalog::VideoStatus::ready);
}

Result<std::optional<catalog::Channel>> CollectionStore::live_channel(std::string_view name) {
  Result<std::vector<Row>> rows = db_.query_all(select_live_channel, {std::string(name)});
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return std::optional<catalog::Channel>{};
  const Row& row = rows->front();
  return std::optional<catalog::Channel>{catalog::Channel{.id = row.integer(0),
                                                          .name = row.text(1),
                                                          .display_name = row.text(2),
                                                          .created_at = row.integer(3),
                                                          .subscribers = row.integer(4)}};
}

Result<std::optional<int64_t>> CollectionStore::favorite_time(int64_t user_id, int64_t video_id) {
  return single_integer(db_, select_favorite_time, {user_id, video_id});
}

Status CollectionStore::insert_favorite(const catalog::Favorite& favorite) {
  return unit(db_.execute(insert_favorite_row, {favorite.user_id, favorite.video_id, favorite.created_at}));
}

Result<bool> CollectionStore::delete_favorite(int64_t user_id, int64_t video_id) {
  return changed(db_.execute(delete_favorite_row, {user_id, video_id}));
}

Result<int64_t> CollectionStore::delete_favorites_of(int64_t user_id) {
  return db_.execute(delete_user_favorites, {user_id});
}

Result<std::vector<int64_t>> CollectionStore::users_favoriting(int64_t video_id) {
  return all_of(db_, select_favoriting_users, {video_id}, first_integer);
}

Result<int64_t> CollectionStore::insert_playlist(const catalog::Playlist& playlist, int64_t now) {
  Result<int64_t> inserted = db_.execute(
      insert_playlist_row, {playlist.user_id, playlist.title, int64_t{playlist.is_public ? 1 : 0}, now, now});
  if (!inserted.ok()) return inserted.error();
  return db_.last_insert_id();
}

Result<std::optional<catalog::Playlist>> CollectionStore::find_playlist(int64_t id) {
  Result<std::vector<Row>> rows = db_.query_all(select_playlist, {id});
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return std::optional<catalog::Playlist>{};
  return std::optional<catalog::Playlist>{playlist_of(rows->front())};
}

Result<int64_t> CollectionStore::count_playlists(int64_t user_id) {
  return integer(db_, count_user_playlists, {user_id});
}

Result<std::vector<int64_t>> CollectionStore::playlist_ids_of(int64_t user_id) {
  return all_of(db_, select_user_playlist_ids, {user_id}, first_integer);
}

Status CollectionStore::set_playlist_title(int64_t id, std::string_view title, int64_t now) {
  return unit(db_.execute(update_playlist_title, {std::string(title), now, id}));
}

Status CollectionStore::set_playlist_public(int64_t id, bool is_public, int64_t now) {
  return unit(db_.execute(update_playlist_public, {int64_t{is_public ? 1 : 0}, now, id}));
}

Status CollectionStore::delete_playlist(int64_t id) {
  return unit(db_.execute(delete_playlist_row, {id}));
}

Result<std::vector<int64_t>> CollectionStore::playlists_containing(int64_t video_id) {
  return all_of(db_, select_playlists_containing, {video_id}, first_integer);
}

Result<std::optional<int64_t>> CollectionStore::item_position(int64_t playlist_id, int64_t video_id) {
  return single_integer(db_, select_item_position, {playlist_id, video_id});
}

Result<int64_t> CollectionStore::count_items(int64_t playlist_id) {
  return integer(db_, count_playlist_items, {playlist_id});
}

Result<int64_t> CollectionStore::append_item(int64_t playlist_id, int64_t video_id, int64_t now) {
  Result<int64_t> position = integer(db_, select_next_position, {playlist_id});
  if (!position.ok()) return position;
  if (Status inserted = unit(db_.execute(insert_item_row, {playlist_id, video_id, *position, now}));
      !inserted.ok()) {
    return inserted.error();
  }
  return position;
}

Result<bool> CollectionStore::delete_item(int64_t playlist_id, int64_t video_id) {
  return changed(db_.execute(delete_item_row, {playlist_id, video_id}));
}

Status CollectionStore::set_item_position(int64_t playlist_id, int64_t video_id, int64_t position) {
  return unit(db_.execute(update_item_position, {position, playlist_id, video_id}));
}

Status CollectionStore::touch_playlist(int64_t playlist_id, int64_t now) {
  return unit(db_.execute(update_playlist_items, {playlist_id, now, playlist_id}));
}

Result<std::vector<catalog::PlaylistItem>> CollectionStore::items(int64_t playlist_id, bool listed_only) {
  return all_of(db_, listed_only ? select_listed_items : select_items, {playlist_id}, item_of);
}

Result<std::optional<int64_t>> CollectionStore::subscription_time(int64_t user_id, int64_t channel_id) {
  return single_integer(db_, select_subscription_time, {user_id, channel_id});
}

Status CollectionStore::insert_subscription(const catalog::Subscription& subscription) {
  return unit(db_.execute(insert_subscription_row,
                          {subscription.user_id, subscription.channel_id, subscription.created_at}));
}

Result<bool> CollectionStore::delete_subscription(int64_t user_id, int64_t channel_id) {
  return changed(db_.execute(delete_subscription_row, {user_id, channel_id}));
}

Result<int64_t> CollectionStore::subscribers(int64_t channel_id) {
  return integer(db_, select_subscribers, {channel_id});
}

Result<int64_t> CollectionStore::add_subscribers(int64_t channel_id, int64_t delta) {
  if (Status added = unit(db_.execute(update_add_subscribers, {delta, channel_id})); !added.ok()) {
    return added.error();
  }
  return subscribers(channel_id);
}

Status CollectionStore::set_subscribers(int64_t channel_id, int64_t subscribers) {
  return unit(db_.execute(update_set_subscribers, {subscribers, channel_id}));
}

Result<int64_t> CollectionStore::count_subscriptions(int64_t user_id) {
  return integer(db_, count_user_subscriptions, {user_id});
}

Result<std::vector<catalog::Subscription>> CollectionStore::subscriptions_of(int64_t user_id) {
  return all_of(db_, select_user_subscriptions, {user_id}, subscription_of);
}

Result<std::vector<catalog::Subscription>> CollectionStore::subscriptions_to(int64_t channel_id) {
  return all_of(db_, select_channel_subscriptions, {channel_id}, subscription_of);
}

Result<int64_t> CollectionStore::delete_subscriptions_to(int64_t channel_id) {
  return db_.execute(delete_channel_subscriptions, {channel_id});
}

Status CollectionStore::for_each_favorite(const std::function<void(const catalog::Favorite&)>& fn) {
  return for_each<catalog::Favorite>(db_, select_all_favorites, {}, favorite_of, fn);
}

Status CollectionStore::for_each_playlist(const std::function<void(const catalog::Playlist&)>& fn) {
  return for_each<catalog::Playlist>(db_, select_all_playlists, {}, playlist_of, fn);
}

Status CollectionStore::for_each_listed_item(const std::function<void(const catalog::PlaylistItem&)>& fn) {
  return for_each<catalog::PlaylistItem>(db_, select_all_listed_items, {}, item_of, fn);
}

Status CollectionStore::for_each_subscription(const std::function<void(const catalog::Subscription&)>& fn) {
  return for_each<catalog::Subscription>(db_, select_all_subscriptions, {}, subscription_of, fn);
}

}  // namespace reel::sql
