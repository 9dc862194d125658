// Community projection: how votes and comments are laid out in Redis (the packed comment, the
// scores of the comment lists) and the commands a write emits for them. The writes (src/people/)
// and `reel rebuild votes|comments` both use these functions, so a delta and a rebuild produce the
// same values. Key names are in community_keys.h.
//
// Every command set a write emits for a video goes through while_listed(): it runs only while the
// video's card exists (the write path's REEL.IFEXISTS, codec.h), so a vote or comment whose delta
// lands after the video was withdrawn (a DELETE racing it, an outbox replay) does not bring back a
// deleted video's keys or list it in z:rating again.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/community.h"
#include "redis/command.h"

namespace reel::projection::community {

// The comment as cm:{video} holds it: its numbers, the author's names (control characters as
// spaces) and the body as typed, last, so nothing in it needs escaping.
std::string encode_comment(const catalog::Comment& comment);
// nullopt for a value that is not a packed comment.
std::optional<catalog::Comment> decode_comment(std::string_view packed);

// The score of a top-level comment in z:cm:{video}:top: its replies (up to 2^20 - 1) above its id
// (up to 2^33 - 1, beyond which ids tie and Redis orders them by member), in the 53 bits a double
// holds exactly: most replies first, then newest.
double top_score(int64_t replies, int64_t id);

// The member of a reply in z:cm:{video}:replies, and the ZRANGEBYLEX bounds of one parent's replies.
std::string reply_member(int64_t parent_id, int64_t id);
std::string replies_from(int64_t parent_id);  // inclusive lower bound
std::string replies_to(int64_t parent_id);    // exclusive upper bound
// The reply id of a member; 0 when it is not one.
int64_t reply_of(std::string_view member);

// `commands` preceded by the guard that runs them only while the video's card exists (for a delta
// applied by the write path's script: writes/apply.h).
std::vector<redis::Command> while_listed(int64_t video_id, std::vector<redis::Command> commands);

// A vote changed: the video's likes and dislikes (v:{id}), the card's rating field in place, its
// scores in the rating lists (global and `categories`), and the user's own vote (uv:{user}; value 0
// removes it). Counts as read back from SQL.
std::vector<redis::Command> vote_commands(int64_t video_id, const std::vector<std::string>& categories,
                                          int64_t likes, int64_t dislikes, int64_t user_id, int value);

// A comment as it is now (new, edited, or a parent whose reply count changed): its value in
// cm:{video} and its place in the lists.
std::vector<redis::Command> comment_commands(const catalog::Comment& comment);
// A comment deleted, with the replies that went with it.
std::vector<redis::Command> comment_removal_commands(const catalog::Comment& comment,
                                                     const std::vector<int64_t>& reply_ids);
// The video's comment count (v:{id} field comments).
redis::Command comment_count_command(int64_t video_id, int64_t count);

// Where a comment is listed: the key, score and member of each list it is in.
struct CommentEntry {
  std::string key;
  double score = 0;
  std::string member;
};
std::vector<CommentEntry> comment_memberships(const catalog::Comment& comment);

// The keys of every comment of a video (withdrawn with it).
std::vector<std::string> video_comment_keys(int64_t video_id);

}  // namespace reel::projection::community
