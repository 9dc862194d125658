// Keys: every Redis key name Reel uses, in one place (docs/keys.md documents each key's type,
// owner and memory per item). No other component spells a key.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "projection/read_model.h"

namespace reel::projection::keys {

// Per-video objects.
std::string video(int64_t id);    // hash: the fields the watch page shows
std::string card(int64_t id);     // string: the fields a card shows, packed (codec.h)
std::string card(std::string_view id);
std::string related(int64_t id);  // zset: related video ids, score = relatedness

// Per-channel object.
std::string channel(std::string_view name);  // hash: display_name, created_at

// The category list shown in every header, packed (card_codec.h).
std::string_view nav();

// Lists (sorted sets of video ids). `scope` selects the global list or a category/tag/channel
// list; the sort picks the ordering; Sort::views also takes a period and, for Period::day, the
// UTC day (YYYYMMDD).
struct Scope {
  ListKind kind = ListKind::all;
  std::string_view name;  // category slug, tag name or channel name
};
std::string list(Scope scope, Sort sort, Period period = Period::all, int32_t day = 0);

// SCAN patterns matching every key of a family (for removing stale keys).
std::string video_pattern();
std::string card_pattern();
std::string related_pattern();
std::string channel_pattern();

// The prefix under which `reel rebuild` writes shadow copies before RENAMEing them into place.
std::string_view shadow_prefix();

}  // namespace reel::projection::keys
