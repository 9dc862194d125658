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
// reading or rebuilding the rest; the rating follows at rating_offset, as exactly rating_width
// characters, so a vote rewrites it in place too (SETRANGE card:{id} rating_offset <field>) and
// neither writer ever rewrites the other's field. One MGET of 30 cards is then all a grid reads.
// Control characters in text become spaces.
constexpr size_t views_width = 12;
// The largest count views_width digits hold.
constexpr int64_t views_max = [] {
  int64_t power = 1;
  for (size_t i = 0; i < views_width; ++i) power *= 10;
  return power - 1;
}();
// The fixed-width view count field (clamped to 0 .. views_max).
std::string views_field(int64_t views);
// The rating field: percent liked with one decimal, zero-padded ("075.0", "100.0"), or "-----"
// with no votes. Always holds a '.' or a '-', so a card packed before the field existed (its id in
// that place) is refused rather than misread.
constexpr size_t rating_width = 5;
constexpr size_t rating_offset = views_width + 1;  // after the count and its separator
std::string rating_field(int64_t likes, int64_t dislikes);
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
// The video hash's counts a vote or a comment sets from SQL (HSET v:{id} ...).
inline constexpr std::string_view video_likes_field = "likes";
inline constexpr std::string_view video_dislikes_field = "dislikes";
inline constexpr std::string_view video_comments_field = "comments";

// The field of the channel hash (keys::channel) holding its subscriber count, set from SQL by the
// channels projection and by every subscription write (people/subscriptions.h).
inline constexpr std::string_view channel_subscribers_field = "subscribers";

// Lua text for server-side scripts that read or write these layouts in place (the view flush,
// views/flush.cc), so a script spells no width, field name or separator of its own. It defines:
//   card_views(total)       the card's count field for a view total (views_field in Lua)
//   video_list_fields       {categories, tags, channel}: the video hash fields to HMGET, in order
//   each_name(packed)       an iterator over the names of a packed categories or tags field
std::string lua_helpers();

// A command only the write path's apply script knows (writes/apply.h), for deltas that must
// delete keys Redis alone can name: `REEL.DELMEMBERS set prefix` unlinks prefix..member for
// every member of `set`, then the set (a user's sessions, whose ids SQL never sees).
inline constexpr std::string_view delete_members_op = "REEL.DELMEMBERS";
// Another: `REEL.IFEXISTS key n` runs the delta's next n commands only while `key` exists (a
// script cannot EVAL one of its own). The community's deltas run under it, guarded by the card, so
// a vote or comment landing after its video was withdrawn recreates none of the video's keys
// (projection/community.h).
inline constexpr std::string_view if_exists_op = "REEL.IFEXISTS";

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

// Percent liked (0..100), or -1 when there are no votes: what cards and the watch page show.
double rating(int64_t likes, int64_t dislikes);

// The score of the top-rated lists (z:rating, z:cat:{slug}:rating): the lower bound of the 95%
// Wilson score interval of the share of likes (0..1), or -1 when there are no votes. It ranks by
// how sure the votes make a good rating, so 3 likes and no dislike (0.44) stay below 9,000 likes
// and 100 dislikes (0.987). The delta of a vote and `reel rebuild rating` both use it, so their
// scores are the same doubles.
double rating_score(int64_t likes, int64_t dislikes);

}  // namespace reel::projection::codec
