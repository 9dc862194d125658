#include "projection/projector.h"

#include "common/days.h"
#include "projection/codec.h"
#include "projection/community.h"
#include "projection/keys.h"
#include "projection/search_index.h"

namespace reel::projection {

std::vector<ListEntry> list_memberships(const catalog::Video& video) {
  std::vector<ListEntry> entries;
  const double published = static_cast<double>(video.published_at);
  const double views = static_cast<double>(video.views);
  const double rating = codec::rating_score(video.likes, video.dislikes);
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

std::vector<redis::Command> publish_video_commands(const catalog::Video& video,
                                                   std::string_view channel_display_name) {
  std::vector<redis::Command> commands;
  commands.emplace_back("MULTI");
  commands.emplace_back("DEL", keys::video(video.id));
  for (auto& command : video_object_commands(video, channel_display_name))
    commands.push_back(std::move(command));
  for (const auto& entry : list_memberships(video))
    commands.emplace_back("ZADD", entry.key, entry.score, video.id);
  for (auto& command : search_index::index_commands(video, channel_display_name))
    commands.push_back(std::move(command));
  commands.emplace_back("EXEC");
  return commands;
}

std::vector<redis::Command> withdraw_video_commands(const catalog::Video& video, int32_t today) {
  std::vector<redis::Command> commands;
  commands.emplace_back("MULTI");
  redis::Command objects("DEL", keys::video(video.id), keys::card(video.id), keys::related(video.id),
                         keys::coviews(video.id));
  for (const std::string& key : community::video_comment_keys(video.id)) objects.arg(key);
  commands.push_back(std::move(objects));
  std::vector<std::string> lists;
  for (const auto& entry : list_memberships(video)) lists.push_back(entry.key);
  for (Period period : {Period::week, Period::month}) {
    for (auto& key : period_lists(video, period, 0)) lists.push_back(std::move(key));
  }
  // The day lists pages read (today's, a day either way for clocks around midnight), not the
  // older ones: the week and month windows subtract those as they are (views/windows.h).
  for (int32_t day : {days_before(today, 1), today, days_after(today, 1)}) {
    for (auto& key : period_lists(video, Period::day, day)) lists.push_back(std::move(key));
  }
  lists.push_back(keys::list({ListKind::all, {}}, Sort::trending));
  for (const auto& slug : video.categories)
    lists.push_back(keys::list({ListKind::category, slug}, Sort::trending));
  for (auto& key : lists) commands.emplace_back("ZREM", std::move(key), video.id);
  commands.push_back(search_index::unindex_command(video.id));
  commands.emplace_back("SET", keys::withdrawn(video.id), 1, "EX", withdrawn_ttl.count());
  commands.emplace_back("EXEC");
  return commands;
}

redis::Command channel_command(const catalog::Channel& channel) {
  return redis::Command("HSET", keys::channel(channel.name), "display_name", channel.display_name,
                        "created_at", channel.created_at, codec::channel_subscribers_field,
                        channel.subscribers);
}

redis::Command nav_command(const std::vector<catalog::Category>& categories) {
  return redis::Command("SET", keys::nav(), codec::encode_nav(categories));
}

}  // namespace reel::projection
