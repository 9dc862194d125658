#include "people/favorites.h"

#include <fmt/format.h>

#include "people/collection_writes.h"
#include "projection/collection_keys.h"
#include "projection/collections.h"
#include "sql/collection_store.h"

namespace reel::people {

Result<bool> add_favorite(writes::Transaction& tx, int64_t user_id, int64_t video_id, int64_t now) {
  const std::string object = user_object(user_id);
  if (Status locked = tx.lock(object); !locked) return locked.error();
  sql::CollectionStore store(tx.db());
  Result<std::optional<int64_t>> since = store.favorite_time(user_id, video_id);
  if (!since) return since.error();
  catalog::Favorite favorite{user_id, video_id, since->value_or(now)};
  if (!*since) {
    if (Status ready = require_ready(store, video_id); !ready) return ready.error();
    if (Status inserted = store.insert_favorite(favorite); !inserted) return inserted.error();
  }
  tx.emit(object, {projection::add_command(projection::favorite_membership(favorite))});
  return !since->has_value();
}

Result<bool> remove_favorite(writes::Transaction& tx, int64_t user_id, int64_t video_id) {
  const std::string object = user_object(user_id);
  if (Status locked = tx.lock(object); !locked) return locked.error();
  Result<bool> deleted = sql::CollectionStore(tx.db()).delete_favorite(user_id, video_id);
  if (!deleted) return deleted;
  tx.emit(object, {projection::remove_command(projection::favorite_membership({user_id, video_id, 0}))});
  return deleted;
}

Task<Result<CardPage>> read_favorites(redis::Connection& redis, int64_t user_id, int page, int per_page) {
  std::string key = projection::keys::favorites(user_id);  // named: not a temporary in co_await
  co_return co_await read_card_list(redis, std::move(key), true, page, per_page);
}

Task<Result<bool>> is_favorite(redis::Connection& redis, int64_t user_id, int64_t video_id) {
  std::string key = projection::keys::favorites(user_id);  // named: not temporaries in co_await
  std::string member = std::to_string(video_id);
  co_return co_await is_member(redis, std::move(key), std::move(member));
}

}  // namespace reel::people
