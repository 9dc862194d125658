// Codec: how catalog rows are laid out inside Redis values — the packed card string, the packed
// category list, and the fields of the per-video hash. The writer (projector) and the reader
// (RedisReadModel) both use these functions, so the layout is defined once.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/collections.h"
#include "catalog/model.h"
#include "projection/read_model.h"

namespace reel::projection::codec {

// The public URL of a file stored under the media root.
std::string media_url(std::string_view relative_path);

// The card's thumbnail: the first "thumb" file, else the "poster", else empty.
std::string thumb_url(const catalog::Video& video);
// The short muted clip shown when a card is hovered: the "preview" file, or empty.
std::string preview_url(const catalog::Video& video);

// Packs what a card shows. The all-time view count comes first, as exactly `views_width` digits,
// so the view aggregator can overwrite it in place (SETRANGE card:{id} 0 <digits>) without
// reading or rebuilding the rest; the rating changes only on a vote, when the write path rewrites
// the card. One MGET of 30 cards is then all a grid reads. Control characters in text become
// spaces.
constexpr size_t views_width = 12;
// The largest count views_width digits hold.
constexpr int64_t views_max = [] {
  int64_t power = 1;
  for (size_t i = 0; i < views_width; ++i) power *= 10;
  return power - 1;
}();
// The fixed-width view count field (clamped to 0 .. views_max).
std::string views_field(int64_t views);
std::string encode_card(const catalog::Video& video, std::string_view channel_display_name);
// nullopt for a value that is not a packed card.
std::optional<Card> decode_card(std::string_view packed);

std::string encode_nav(const std::vector<catalog::Category>& categories);
std::vector<CategoryLink> decode_nav(std::string_view packed);

// Fields of the video hash that name the lists a video is in: its categories and tags (each a
// list of names joined by a separator, see lua_helpers()) and its channel.
inline constexpr std::string_view video_categories_field = "categories";
inline constexpr std::string_view video_tags_field = "tags";
inline constexpr std::string_view video_channel_field = "channel";

// The field of the channel hash (keys::channel) holding its subscriber count, set from SQL by the
// channels projection and by every subscription write (people/subscriptions.h).
inline constexpr std::string_view channel_subscribers_field = "subscribers";

// Lua text for server-side scripts that read or write these layouts in place (the view flush,
// views/flush.cc), so a script spells no width, field name or separator of its own. It defines:
//   card_views(total)       the card's count field for a view total (views_field in Lua)
//   video_list_fields       {categories, tags, channel}: the video hash fields to HMGET, in order
//   each_name(packed)       an iterator over the names of a packed categories or tags field
std::string lua_helpers();

// Field/value pairs of the video hash (keys::video).
std::vector<std::pair<std::string, std::string>> video_hash(const catalog::Video& video,
                                                            std::string_view channel_display_name);
// Builds a VideoPage from HGETALL's flat field/value list; nullopt when it is empty (no video).
// Category names are looked up in `nav`.
std::optional<VideoPage> decode_video_hash(const std::vector<std::string_view>& fields_and_values,
                                           const std::vector<CategoryLink>& nav);

// Packs a playlist's own fields (keys::playlist): id, owner id and name, public, created, title.
// Control characters in text become spaces. decode_playlist returns nullopt for a value that is
// not a packed playlist.
std::string encode_playlist(const catalog::Playlist& playlist);
std::optional<catalog::Playlist> decode_playlist(std::string_view packed);

// Percent liked (0..100), or -1 when there are no votes: the score of the rating lists.
double rating(int64_t likes, int64_t dislikes);

}  // namespace reel::projection::codec
