// Keys of the community projections (votes and comments); the rest are in keys.h. docs/keys.md
// documents each key's type, owner and memory per item.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "projection/community_read_model.h"

namespace reel::projection::keys {

// hash uv:{user}: video id -> the user's vote on it ("1" or "-1"); no field when none.
std::string user_votes(int64_t user_id);
std::string user_votes_pattern();

// hash cm:{video}: comment id -> the packed comment (community.h), replies included.
std::string comments(int64_t video_id);
std::string comments_pattern();
// zset z:cm:{video}:new | z:cm:{video}:top: the video's top-level comments in that order.
std::string comment_list(int64_t video_id, CommentSort sort);
// zset z:cm:{video}:replies: every reply of the video, score 0, member "{parent}:{reply}" with both
// ids zero-padded, so ZRANGEBYLEX reads one parent's replies in order.
std::string comment_replies(int64_t video_id);
std::string comment_lists_pattern();  // the lists and the replies

}  // namespace reel::projection::keys
