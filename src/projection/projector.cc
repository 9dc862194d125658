#include "projection/projector.h"

#include "projection/codec.h"
#include "projection/keys.h"

namespace reel::projection {

std::vector<ListEntry> list_memberships(const catalog::Video& video) {
  std::vector<ListEntry> entries;
  const double published = static_cast<double>(video.published_at);
  const double views = static_cast<double>(video.views);
  const double rating = codec::rating(video.likes, video.dislikes);
  const double duration = video.duration_s;
  auto add_full = [&](keys::Scope scope) {
    entries.push_back({keys::list(scope, Sort::newest), published, Sort::newest});
    entries.push_back({keys::list(scope, Sort::views), views, Sort::views});
    entries.push_back({keys::list(scope, Sort::rating), rating, Sort::rating});
    entries.push_back({keys::list(scope, Sort::duration), duration, Sort::duration});
  };
  auto add_short = [&](keys::Scope scope) {
    entries.push_back({keys::list(scope, Sort::newest), published, Sort::newest});
    entries.push_back({keys::list(scope, Sort::views), views, Sort::views});
  };
  add_full({ListKind::all, {}});
  for (const auto& slug : video.categories) add_full({ListKind::category, slug});
  for (const auto& tag : video.tags) add_short({ListKind::tag, tag});
  add_short({ListKind::channel, video.channel_name});
  return entries;
}

std::vector<std::string> period_lists(const catalog::Video& video, Period period, int32_t day) {
  std::vector<std::string> lists{keys::list({ListKind::all, {}}, Sort::views, period, day)};
  for (const auto& slug : video.categories) {
    lists.push_back(keys::list({ListKind::category, slug}, Sort::views, period, day));
  }
  return lists;
}

std::vector<redis::Command> video_object_commands(const catalog::Video& video,
                                                  std::string_view channel_display_name) {
  redis::Command hash("HSET", keys::video(video.id));
  for (auto& [field, value] : codec::video_hash(video, channel_display_name)) {
    hash.arg(std::move(field)).arg(std::move(value));
  }
  std::vector<redis::Command> commands;
  commands.push_back(std::move(hash));
  commands.emplace_back("SET", keys::card(video.id), codec::encode_card(video, channel_display_name));
  return commands;
}

redis::Command channel_command(const catalog::Channel& channel) {
  return redis::Command("HSET", keys::channel(channel.name), "display_name", channel.display_name,
                        "created_at", channel.created_at);
}

redis::Command nav_command(const std::vector<catalog::Category>& categories) {
  return redis::Command("SET", keys::nav(), codec::encode_nav(categories));
}

}  // namespace reel::projection
