// The people's collections as SQL stores them and the projection reads them: favorites, playlists
// with their items, and subscriptions to channels. Plain structs, no behaviour; times are Unix
// seconds (UTC).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace reel::catalog {

// A user's favorite video.
struct Favorite {
  int64_t user_id = 0;
  int64_t video_id = 0;
  int64_t created_at = 0;
};

// A user's playlist. Only its owner changes it; a private one is shown only to its owner.
struct Playlist {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string owner_name;  // users.name of the owner, joined on reads
  std::string title;
  bool is_public = true;
  int64_t created_at = 0;
};

// One video of a playlist; `position` orders the playlist (ascending; gaps are allowed).
struct PlaylistItem {
  int64_t playlist_id = 0;
  int64_t video_id = 0;
  int64_t position = 0;
};

// A playlist with its number of items, as a list of playlists shows it.
struct PlaylistSummary {
  Playlist playlist;
  int64_t items = 0;
};

// A channel a user follows, as the subscriptions page shows it.
struct FollowedChannel {
  std::string name;
  std::string display_name;
  int64_t subscribers = 0;
  int64_t subscribed_at = 0;
};

// A signed-in viewer's relation to one video: the watch page's controls (people reads it, pages
// render it).
struct ViewerRelation {
  int vote = 0;  // 1 liked, -1 disliked, 0 neither
  bool favorite = false;
  bool subscribed = false;
  struct Playlist {
    int64_t id = 0;
    std::string title;
    bool holds = false;  // the video is in it
  };
  std::vector<Playlist> playlists;  // the viewer's newest, newest first
};

// A user following a channel (another users row).
struct Subscription {
  int64_t user_id = 0;
  int64_t channel_id = 0;
  std::string channel_name;  // users.name of the channel, joined on reads
  int64_t created_at = 0;
};

}  // namespace reel::catalog
