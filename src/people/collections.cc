#include "people/collections.h"

#include <algorithm>

#include "people/collection_writes.h"
#include "projection/collections.h"
#include "sql/collection_store.h"

namespace reel::people {
namespace {

// The user's subscriptions go; each followed channel's delta carries its new count.
Status remove_subscriptions(writes::Transaction& tx, sql::CollectionStore& store,
                            const std::vector<catalog::Subscription>& followed) {
  for (const catalog::Subscription& subscription : followed) {
    Result<bool> deleted = store.delete_subscription(subscription.user_id, subscription.channel_id);
    if (!deleted) return deleted.error();
    Result<int64_t> subscribers = store.add_subscribers(subscription.channel_id, *deleted ? -1 : 0);
    if (!subscribers) return subscribers.error();
    tx.emit(channel_object(subscription.channel_id),
            {projection::remove_command(projection::subscription_membership(subscription)),
             projection::subscribers_command(subscription.channel_name, *subscribers)});
  }
  return {};
}

// Every subscription to the user's own channel goes; the channel's delta takes it out of each
// subscriber's list and sets its count to 0.
Status remove_subscribers(writes::Transaction& tx, sql::CollectionStore& store, int64_t user_id,
                          const std::vector<catalog::Subscription>& subscribers) {
  if (subscribers.empty()) return {};
  if (Result<int64_t> deleted = store.delete_subscriptions_to(user_id); !deleted) return deleted.error();
  if (Status zero = store.set_subscribers(user_id, 0); !zero) return zero;
  std::vector<redis::Command> commands;
  commands.reserve(subscribers.size() + 1);
  for (const catalog::Subscription& subscription : subscribers) {
    commands.push_back(projection::remove_command(projection::subscription_membership(subscription)));
  }
  commands.push_back(projection::subscribers_command(subscribers.front().channel_name, 0));
  tx.emit(channel_object(user_id), std::move(commands));
  return {};
}

Status remove_playlists(writes::Transaction& tx, sql::CollectionStore& store,
                        const std::vector<int64_t>& ids) {
  for (int64_t id : ids) {
    if (Status locked = tx.lock(playlist_object(id)); !locked) return locked;
    Result<std::optional<catalog::Playlist>> playlist = store.find_playlist(id);
    if (!playlist) return playlist.error();
    if (!*playlist) continue;
    if (Status deleted = store.delete_playlist(id); !deleted) return deleted;
    tx.emit(playlist_object(id), projection::playlist_removal_commands(**playlist));
  }
  return {};
}

}  // namespace

Status remove_user_collections(writes::Transaction& tx, int64_t user_id) {
  const std::string user = user_object(user_id);
  if (Status locked = tx.lock(user); !locked) return locked;
  sql::CollectionStore store(tx.db());
  if (Result<int64_t> deleted = store.delete_favorites_of(user_id); !deleted) return deleted.error();
  tx.emit(user, {projection::favorites_removal_command(user_id), projection::feed_reset_command(user_id)});

  Result<std::vector<catalog::Subscription>> followed = store.subscriptions_of(user_id);
  if (!followed) return followed.error();
  Result<std::vector<catalog::Subscription>> subscribers = store.subscriptions_to(user_id);
  if (!subscribers) return subscribers.error();
  std::vector<int64_t> channels;
  for (const auto& subscription : *followed) channels.push_back(subscription.channel_id);
  if (!subscribers->empty()) channels.push_back(user_id);
  std::sort(channels.begin(), channels.end());
  for (int64_t channel : channels) {
    if (Status locked = tx.lock(channel_object(channel)); !locked) return locked;
  }
  if (Status removed = remove_subscriptions(tx, store, *followed); !removed) return removed;
  if (Status removed = remove_subscribers(tx, store, user_id, *subscribers); !removed) return removed;

  Result<std::vector<int64_t>> playlists = store.playlist_ids_of(user_id);
  if (!playlists) return playlists.error();
  return remove_playlists(tx, store, *playlists);
}

Result<std::vector<redis::Command>> video_removal_commands(sql::Connection& db, int64_t video_id) {
  sql::CollectionStore store(db);
  Result<std::vector<int64_t>> users = store.users_favoriting(video_id);
  if (!users) return users.error();
  Result<std::vector<int64_t>> playlists = store.playlists_containing(video_id);
  if (!playlists) return playlists.error();
  std::vector<redis::Command> commands;
  for (int64_t user : *users) {
    commands.push_back(projection::remove_command(projection::favorite_membership({user, video_id, 0})));
  }
  for (int64_t playlist : *playlists) {
    commands.push_back(projection::remove_command(projection::item_membership({playlist, video_id, 0})));
  }
  return commands;
}

}  // namespace reel::people
