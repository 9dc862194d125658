#include "projection/codec.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace reel::projection::codec {
namespace {

constexpr char field_sep = '\x1f';   // between fields of one record
constexpr char record_sep = '\x1e';  // between records of a list

void append_clean(std::string& out, std::string_view text) {
  for (char c : text) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
}

// Splits on `sep`; an empty input gives no parts.
std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  if (text.empty()) return parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

template <class Int>
Int to_int(std::string_view text) {
  Int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string join(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out.push_back(sep);
    append_clean(out, item);
  }
  return out;
}

}  // namespace

std::string media_url(std::string_view relative_path) {
  return fmt::format("/media/{}", relative_path);
}

std::string thumb_url(const catalog::Video& video) {
  for (std::string_view kind : {"thumb", "poster"}) {
    for (const auto& file : video.files) {
      if (file.kind == kind) return media_url(file.path);
    }
  }
  return {};
}

std::string preview_url(const catalog::Video& video) {
  for (const auto& file : video.files) {
    if (file.kind == "preview") return media_url(file.path);
  }
  return {};
}

std::string views_field(int64_t views) {
  return fmt::format("{:0{}}", std::clamp<int64_t>(views, 0, views_max), views_width);
}

std::string rating_field(int64_t likes, int64_t dislikes) {
  const double percent = rating(likes, dislikes);
  if (percent < 0) return std::string(rating_width, '-');
  const int per_mille = static_cast<int>(percent * 10);  // truncated: 99.96% liked is not 100.0
  return fmt::format("{:03}.{}", per_mille / 10, per_mille % 10);
}

std::string lua_helpers() {
  return fmt::format(R"lua(
local function card_views(total)
  return string.format('%0{}d', math.max(0, math.min(tonumber(total), {})))
end
local video_list_fields = {{'{}', '{}', '{}'}}
local function each_name(packed)
  return string.gmatch(packed, '[^\{}]+')
end
)lua",
                     views_width, views_max, video_categories_field, video_tags_field, video_channel_field,
                     static_cast<int>(field_sep));
}

std::string encode_card(const catalog::Video& video, std::string_view channel_display_name) {
  std::string out = views_field(video.views);
  out.reserve(128 + video.title.size());
  out += field_sep;
  out += rating_field(video.likes, video.dislikes);
  out += field_sep;
  out += std::to_string(video.id);
  out += field_sep;
  append_clean(out, video.title);
  out += field_sep;
  append_clean(out, video.slug);
  out += field_sep;
  out += std::to_string(video.duration_s);
  out += field_sep;
  out += std::to_string(video.published_at);
  out += field_sep;
  append_clean(out, thumb_url(video));
  out += field_sep;
  append_clean(out, video.channel_name);
  out += field_sep;
  append_clean(out, channel_display_name);
  out += field_sep;
  append_clean(out, preview_url(video));
  return out;
}

std::optional<Card> decode_card(std::string_view packed) {
  // Hot path (30 cards a page): fields are cut in place, without a vector of parts.
  constexpr size_t fields = 11;
  std::string_view f[fields];
  size_t count = 0;
  size_t start = 0;
  bool at_end = false;  // the last field cut ran to the end of the value
  while (count < fields && !at_end) {
    const size_t end = packed.find(field_sep, start);
    at_end = end == std::string_view::npos;
    f[count++] = packed.substr(start, at_end ? std::string_view::npos : end - start);
    start = end + 1;
  }
  if (count < fields || !at_end || f[0].size() != views_width) return std::nullopt;
  // The rating field: "ddd.d" or all '-' (no votes); anything else is an older layout.
  const std::string_view rated = f[1];
  const bool unrated = rated == std::string_view("-----", rating_width);
  if (rated.size() != rating_width || (!unrated && rated[3] != '.')) return std::nullopt;
  Card card;
  card.views = to_int<int64_t>(f[0]);
  card.rating = unrated ? -1 : to_int<int>(rated.substr(0, 3)) + to_int<int>(rated.substr(4)) / 10.0;
  card.id = to_int<int64_t>(f[2]);
  card.title = f[3];
  card.slug = f[4];
  card.duration_s = to_int<int32_t>(f[5]);
  card.published_at = to_int<int64_t>(f[6]);
  card.thumb_url = f[7];
  card.channel_name = f[8];
  card.channel_display_name = f[9];
  card.preview_url = f[10];
  card.stamp = std::hash<std::string_view>{}(packed) | 1;  // never 0
  return card;
}

std::string encode_nav(const std::vector<catalog::Category>& categories) {
  std::string out;
  for (const auto& category : categories) {
    if (!out.empty()) out += record_sep;
    append_clean(out, category.slug);
    out += field_sep;
    append_clean(out, category.name);
  }
  return out;
}

std::vector<CategoryLink> decode_nav(std::string_view packed) {
  std::vector<CategoryLink> links;
  for (auto record : split(packed, record_sep)) {
    auto f = split(record, field_sep);
    if (f.size() == 2) links.push_back({std::string(f[0]), std::string(f[1])});
  }
  return links;
}

std::string encode_playlist(const catalog::Playlist& playlist) {
  std::string out = fmt::format("{}{}{}{}", playlist.id, field_sep, playlist.user_id, field_sep);
  append_clean(out, playlist.owner_name);
  out += fmt::format("{}{}{}{}{}", field_sep, playlist.is_public ? 1 : 0, field_sep, playlist.created_at,
                     field_sep);
  append_clean(out, playlist.title);
  return out;
}

std::optional<catalog::Playlist> decode_playlist(std::string_view packed) {
  auto f = split(packed, field_sep);
  if (f.size() != 6) return std::nullopt;
  return catalog::Playlist{.id = to_int<int64_t>(f[0]),
                           .user_id = to_int<int64_t>(f[1]),
                           .owner_name = std::string(f[2]),
                           .title = std::string(f[5]),
                           .is_public = f[3] == "1",
                           .created_at = to_int<int64_t>(f[4])};
}

double rating(int64_t likes, int64_t dislikes) {
  const int64_t votes = likes + dislikes;
  return votes > 0 ? 100.0 * static_cast<double>(likes) / static_cast<double>(votes) : -1;
}

double rating_score(int64_t likes, int64_t dislikes) {
  const int64_t votes = likes + dislikes;
  if (votes <= 0) return -1;
  constexpr double z = 1.959963984540054;  // the standard normal's 97.5th percentile: a 95% interval
  const double n = static_cast<double>(votes);
  const double p = static_cast<double>(likes) / n;
  const double z2n = z * z / n;
  return (p + z2n / 2 - z * std::sqrt((p * (1 - p) + z2n / 4) / n)) / (1 + z2n);
}

std::vector<std::pair<std::string, std::string>> video_hash(const catalog::Video& video,
                                                            std::string_view channel_display_name) {
  std::vector<std::string> renditions;
  std::string poster, hls, sprite_vtt;
  for (const auto& file : video.files) {
    if (file.kind == "mp4") renditions.push_back(fmt::format("{}:{}", file.height, media_url(file.path)));
    if (file.kind == "poster") poster = media_url(file.path);
    if (file.kind == "hls") hls = media_url(file.path);
    if (file.kind == "sprite" && file.mime == "text/vtt") sprite_vtt = media_url(file.path);
  }
  if (poster.empty()) poster = thumb_url(video);
  std::sort(renditions.begin(), renditions.end(),
            [](const std::string& a, const std::string& b) { return to_int<int>(a) > to_int<int>(b); });
  return {
      {"id", std::to_string(video.id)},
      {"title", video.title},
      {"slug", video.slug},
      {"description", video.description},
      {"duration", std::to_string(video.duration_s)},
      {"published", std::to_string(video.published_at)},
      {std::string(video_channel_field), video.channel_name},
      {"channel_display", std::string(channel_display_name)},
      {std::string(video_tags_field), join(video.tags, field_sep)},
      {std::string(video_categories_field), join(video.categories, field_sep)},
      {"poster", poster},
      {"files", join(renditions, field_sep)},
      {"hls", hls},
      {"sprite_vtt", sprite_vtt},
      {"preview", preview_url(video)},
      {std::string(video_likes_field), std::to_string(video.likes)},
      {std::string(video_dislikes_field), std::to_string(video.dislikes)},
      {std::string(video_comments_field), std::to_string(video.comments)},
  };
}

std::optional<VideoPage> decode_video_hash(const std::vector<std::string_view>& fields_and_values,
                                           const std::vector<CategoryLink>& nav) {
  if (fields_and_values.size() < 2) return std::nullopt;
  VideoPage page;
  for (size_t i = 0; i + 1 < fields_and_values.size(); i += 2) {
    const std::string_view field = fields_and_values[i];
    const std::string_view value = fields_and_values[i + 1];
    if (field == "id")
      page.id = to_int<int64_t>(value);
    else if (field == "title")
      page.title = value;
    else if (field == "slug")
      page.slug = value;
    else if (field == "description")
      page.description = value;
    else if (field == "duration")
      page.duration_s = to_int<int32_t>(value);
    else if (field == "published")
      page.published_at = to_int<int64_t>(value);
    else if (field == video_channel_field)
      page.channel_name = value;
    else if (field == "channel_display")
      page.channel_display_name = value;
    else if (field == "poster")
      page.poster_url = value;
    else if (field == "hls")
      page.hls_url = value;
    else if (field == "sprite_vtt")
      page.sprite_vtt_url = value;
    else if (field == "preview")
      page.preview_url = value;
    else if (field == video_likes_field)
      page.likes = to_int<int64_t>(value);
    else if (field == video_dislikes_field)
      page.dislikes = to_int<int64_t>(value);
    else if (field == video_comments_field)
      page.comments = to_int<int64_t>(value);
    else if (field == video_tags_field) {
      for (auto tag : split(value, field_sep)) page.tags.emplace_back(tag);
    } else if (field == video_categories_field) {
      for (auto slug : split(value, field_sep)) {
        auto it = std::find_if(nav.begin(), nav.end(), [&](const CategoryLink& c) { return c.slug == slug; });
        page.categories.push_back({std::string(slug), it != nav.end() ? it->name : std::string(slug)});
      }
    } else if (field == "files") {
      for (auto item : split(value, field_sep)) {
        auto colon = item.find(':');
        if (colon == std::string_view::npos) continue;
        page.files.push_back({to_int<int32_t>(item.substr(0, colon)), std::string(item.substr(colon + 1))});
      }
    }
  }
  page.rating = rating(page.likes, page.dislikes);
  return page;
}

}  // namespace reel::projection::codec
