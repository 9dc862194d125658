// ChangeSink: told which objects a write changed, once Redis has the change, so that copies kept
// elsewhere (the pages Varnish caches) are dropped. Objects are named as the write path locks them
// ("video:12", "user:3", "playlist:9", "channel:4"), plus "lists" for a change to which videos
// the public lists hold (a video published or withdrawn).
// Thread-safety: changed() may be called from any thread at once, and must not block on I/O
// (callers are event loops and the worker's job threads). It cannot fail: what it does with the
// names is best effort.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace reel {

class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  virtual void changed(std::span<const std::string> objects) = 0;
};

// The object that stands for every public list (see above).
inline constexpr std::string_view all_lists_object = "lists";

// A video's object name: what its writes lock and what its pages are tagged with.
inline std::string video_object(int64_t video_id) {
  return "video:" + std::to_string(video_id);
}

}  // namespace reel
