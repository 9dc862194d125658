// Playlists: a user's ordered lists of videos, public (shown to everyone) or private (shown only to
// their owner). The record is SQL (sql/collection_store.h: playlists, playlist_items with a
// position each, so the order survives); the read model (projection/collections.h) is the packed
// playlist keys::playlist(id), its items keys::playlist_items(id) (score = position), and the
// owner's lists keys::user_playlists / keys::user_public_playlists.
//
// Writes run inside a writes::Transaction (writes/write_path.h). Each locks "playlist:{id}" first
// and emits only that object's delta: the packed playlist re-read from SQL, its item list, and its
// membership in its owner's lists (a member that is the playlist itself). Creating one also locks
// "user:{owner}" first, which orders the per-user cap. Only the owner changes a playlist.
// Reads cost two Redis round trips.
//
// Thread-safety: writes on the thread running the transaction; reads on the Connection's loop.
// Failure (writes; nothing is written): not_found for a playlist that does not exist or is someone
// else's private one, or for a video that is not ready; forbidden for someone else's public one;
// invalid_input for a bad title, a full playlist, too many playlists or an order that is not a
// permutation of the playlist's videos; else the engine's Error. Reads: an Error when Redis fails,
// invalid_input for a bad page.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "catalog/collections.h"
#include "common/asio.h"
#include "common/result.h"
#include "people/collection_reads.h"
#include "redis/connection.h"
#include "writes/transaction.h"

namespace reel::people {

inline constexpr size_t max_playlist_title_chars = 150;
inline constexpr int64_t max_playlist_items = 5000;
inline constexpr int64_t max_playlists_per_user = 1000;

// Titles are one line of 1..max_playlist_title_chars characters (common/text.h: user_text_chars),
// without the spaces around them.
Result<int64_t> create_playlist(writes::Transaction& tx, int64_t user_id, std::string_view title,
                                bool is_public, int64_t now);
Status rename_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id, std::string_view title,
                       int64_t now);
Status set_playlist_public(writes::Transaction& tx, int64_t user_id, int64_t playlist_id, bool is_public,
                           int64_t now);
Status delete_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id);
// Appends the video; true when it was not in the playlist yet (one already there keeps its place).
Result<bool> add_to_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id, int64_t video_id,
                             int64_t now);
// True when the video was in the playlist. The others keep their positions.
Result<bool> remove_from_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id,
                                  int64_t video_id, int64_t now);
// `order` is the playlist's listed videos (those the playlist page shows) in their new order, each
// exactly once. Items of videos being deleted keep their relative order after them.
Status reorder_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id,
                        const std::vector<int64_t>& order, int64_t now);

// Moves one video of the playlist to `position` (from 1; past the end: last), the others keeping
// their order (reorder_playlist with the order read under the playlist's lock). not_found when the
// video is not in the playlist.
Status move_in_playlist(writes::Transaction& tx, int64_t user_id, int64_t playlist_id, int64_t video_id,
                        int64_t position, int64_t now);

struct PlaylistPage {
  catalog::Playlist playlist;
  CardPage items;  // in playlist order
};

// The playlist and a page of its videos; nullopt when there is no such playlist, or it is private
// and `viewer_id` (0: nobody signed in) is not its owner.
Task<Result<std::optional<PlaylistPage>>> read_playlist(redis::Connection& redis, int64_t playlist_id,
                                                        int64_t viewer_id, int page, int per_page);

using catalog::PlaylistSummary;

struct PlaylistList {
  std::vector<PlaylistSummary> playlists;  // newest first
  int64_t total = 0;
  int page = 1;
  int pages = 0;
};

// The owner's playlists as `viewer_id` may see them: all of them for the owner, the public ones
// for anyone else.
Task<Result<PlaylistList>> read_user_playlists(redis::Connection& redis, int64_t owner_id, int64_t viewer_id,
                                               int page, int per_page);

}  // namespace reel::people
