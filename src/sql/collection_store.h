// CollectionStore: the SQL side of favorites, playlists and subscriptions (people/) — the only code
// that knows their table and column names. The writes in people/ call it inside their
// transaction, after locking the object they change (writes/transaction.h); `reel rebuild` scans
// it. Both dialects are served by the same methods.
//
// Thread-safety: as the Connection it wraps (one thread at a time).
// Failure: every call returns an Error with the engine's message; inside a transaction the caller
// rolls back.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/collections.h"
#include "catalog/model.h"
#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql {

class CollectionStore {
 public:
  explicit CollectionStore(Connection& connection) : db_(connection) {}

  // --- Videos and users, as collections see them.
  // Whether the video exists and is ready (listed). On MariaDB the row stays share-locked until the
  // transaction ends, so a delete marking it failed waits for the write that saw it ready.
  Result<bool> video_ready(int64_t video_id);
  // The users row named `name` when it is not deleted (deleted_at unset).
  Result<std::optional<catalog::Channel>> live_channel(std::string_view name);

  // --- Favorites.
  // When the user made the video a favorite; nullopt when it is not one.
  Result<std::optional<int64_t>> favorite_time(int64_t user_id, int64_t video_id);
  Status insert_favorite(const catalog::Favorite& favorite);
  // Whether there was one to delete.
  Result<bool> delete_favorite(int64_t user_id, int64_t video_id);
  // Deletes every favorite of the user; returns how many.
  Result<int64_t> delete_favorites_of(int64_t user_id);
  // The users who have the video among their favorites (the delete path's Redis delta).
  Result<std::vector<int64_t>> users_favoriting(int64_t video_id);

  // --- Playlists.
  // Inserts the playlist (its id is ignored) and returns the new id.
  Result<int64_t> insert_playlist(const catalog::Playlist& playlist, int64_t now);
  // The playlist with its owner's name; nullopt when there is none.
  Result<std::optional<catalog::Playlist>> find_playlist(int64_t id);
  Result<int64_t> count_playlists(int64_t user_id);
  // Ids of the user's playlists, ascending.
  Result<std::vector<int64_t>> playlist_ids_of(int64_t user_id);
  Status set_playlist_title(int64_t id, std::string_view title, int64_t now);
  Status set_playlist_public(int64_t id, bool is_public, int64_t now);
  // Deletes the playlist and its items (ON DELETE CASCADE).
  Status delete_playlist(int64_t id);
  // The playlists holding the video (the delete path's Redis delta).
  Result<std::vector<int64_t>> playlists_containing(int64_t video_id);

  // --- Playlist items.
  // The item's position, nullopt when the video is not in the playlist.
  Result<std::optional<int64_t>> item_position(int64_t playlist_id, int64_t video_id);
  Result<int64_t> count_items(int64_t playlist_id);
  // Inserts the video after the playlist's last item; returns its position.
  Result<int64_t> append_item(int64_t playlist_id, int64_t video_id, int64_t now);
  // Whether there was one to delete.
  Result<bool> delete_item(int64_t playlist_id, int64_t video_id);
  Status set_item_position(int64_t playlist_id, int64_t video_id, int64_t position);
  // Sets playlists.items to the playlist's item count, and updated_at to `now`.
  Status touch_playlist(int64_t playlist_id, int64_t now);
  // The playlist's items by position (then video id); `listed_only`: only those whose video is
  // ready, which are the ones Redis lists.
  Result<std::vector<catalog::PlaylistItem>> items(int64_t playlist_id, bool listed_only);

  // --- Subscriptions.
  // When the user subscribed to the channel; nullopt when it did not.
  Result<std::optional<int64_t>> subscription_time(int64_t user_id, int64_t channel_id);
  Status insert_subscription(const catalog::Subscription& subscription);
  // Whether there was one to delete.
  Result<bool> delete_subscription(int64_t user_id, int64_t channel_id);
  // users.subscribers of the channel.
  Result<int64_t> subscribers(int64_t channel_id);
  // Adds `delta` to users.subscribers of the channel and returns the new value.
  Result<int64_t> add_subscribers(int64_t channel_id, int64_t delta);
  // Sets users.subscribers of the channel.
  Status set_subscribers(int64_t channel_id, int64_t subscribers);
  Result<int64_t> count_subscriptions(int64_t user_id);
  // The user's subscriptions with the channels' names, by channel id.
  Result<std::vector<catalog::Subscription>> subscriptions_of(int64_t user_id);
  // The subscriptions to the channel (with its name), by user id.
  Result<std::vector<catalog::Subscription>> subscriptions_to(int64_t channel_id);
  // Deletes every subscription to the channel; returns how many.
  Result<int64_t> delete_subscriptions_to(int64_t channel_id);

  // --- Scans for `reel rebuild`. Rows stream from the connection while `fn` runs, so `fn` must
  // not use it.
  // Favorites of ready videos, by user then time.
  Status for_each_favorite(const std::function<void(const catalog::Favorite&)>& fn);
  // Every playlist with its owner's name, by id.
  Status for_each_playlist(const std::function<void(const catalog::Playlist&)>& fn);
  // The items whose video is ready, by playlist then position.
  Status for_each_listed_item(const std::function<void(const catalog::PlaylistItem&)>& fn);
  // Every subscription with the channel's name, by user then channel.
  Status for_each_subscription(const std::function<void(const catalog::Subscription&)>& fn);

 private:
  Connection& db_;
};

}  // namespace reel::sql
