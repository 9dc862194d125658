#include "views/sessions.h"

#include <algorithm>

#include "views/dedupe.h"

namespace reel::views {

Sessions::Sessions(size_t capacity, int64_t window_seconds, int depth)
    : slots_(round_up_pow2((capacity + ways - 1) / ways) * ways),
      mask_(round_up_pow2((capacity + ways - 1) / ways) - 1),
      window_(window_seconds),
      depth_(std::clamp(depth, 1, session_depth)) {}

Sessions::Slot& Sessions::find(uint64_t viewer) {
  Slot* bucket = &slots_[(viewer & mask_) * ways];
  Slot* victim = bucket;
  for (int i = 0; i < ways; ++i) {
    Slot& slot = bucket[i];
    if (slot.viewer == viewer) return slot;
    if (slot.viewer == 0) {
      victim = &slot;
      break;
    }
    if (slot.latest < victim->latest) victim = &slot;
  }
  *victim = Slot{};
  victim->viewer = viewer;
  return *victim;
}

void Sessions::push_front(Slot& slot, int64_t video, int64_t time) {
  int last = session_depth - 1;  // the entry that drops out: the video itself, else the oldest
  for (int i = 0; i < session_depth; ++i) {
    if (slot.video[i] == video) {
      last = i;
      break;
    }
  }
  for (int i = last; i > 0; --i) {
    slot.video[i] = slot.video[i - 1];
    slot.time[i] = slot.time[i - 1];
  }
  slot.video[0] = video;
  slot.time[0] = static_cast<uint32_t>(time);
  slot.latest = std::max(slot.latest, slot.time[0]);
}

}  // namespace reel::views
