// Projector: the mapping from catalog rows to Redis writes — which keys a video, a channel and the
// category list produce, and with what scores. `reel rebuild` applies it in bulk (rebuild.h);
// the write path (later issues) applies it per change. Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "catalog/model.h"
#include "projection/read_model.h"
#include "redis/command.h"

namespace reel::projection {

// One membership of a video in a list.
struct ListEntry {
  std::string key;
  double score = 0;
  Sort sort = Sort::newest;  // which projection family the list belongs to
};

// Every list a ready video belongs to apart from the period view lists (day/week/month), which
// come from daily view counts: newest, views (all time), rating, duration — globally and per
// category; newest and views per tag and per channel.
std::vector<ListEntry> list_memberships(const catalog::Video& video);

// The period view lists a video's views over a period feed: the global one and one per category.
std::vector<std::string> period_lists(const catalog::Video& video, Period period, int32_t day);

// Commands writing the video's own objects (hash and card). Each command replaces its value
// whole, so a reader never sees a partly written object.
std::vector<redis::Command> video_object_commands(const catalog::Video& video,
                                                  std::string_view channel_display_name);

// The write path for one video, each a MULTI ... EXEC batch (apply it with one execute(), so no
// reader sees half of it). publish: the video's objects, replaced whole, every list of
// list_memberships() and its search entries (search_index.h: the old ones replaced, so an edited
// video is published again); a video that is ready. withdraw: the video's objects, related and
// co-view lists and comments (community.h) removed, and the id taken out of every list it can be
// in (memberships, week and month view lists, the day lists of today and a day either way,
// trending) and of the search index; a video deleted or no longer ready. Older day lists keep it:
// they are frozen while the week and month windows subtract them (views/windows.h), which takes
// the withdrawn video, absent from those lists, no lower than gone.
// withdraw also sets keys::withdrawn(id) for withdrawn_ttl: a publish that read the video before
// the DELETE and runs after it checks that key (redis::execute_unless_exists) and is refused, so
// a deleted video is never listed again, whatever the order of the two.
// `today` is the UTC day (YYYYMMDD) the period lists are counted back from.
constexpr std::chrono::seconds withdrawn_ttl = std::chrono::hours(24);
std::vector<redis::Command> publish_video_commands(const catalog::Video& video,
                                                   std::string_view channel_display_name);
std::vector<redis::Command> withdraw_video_commands(const catalog::Video& video, int32_t today);

// The channel's hash.
redis::Command channel_command(const catalog::Channel& channel);

// The packed category list shown in every header.
redis::Command nav_command(const std::vector<catalog::Category>& categories);

}  // namespace reel::projection
