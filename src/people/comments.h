// Comments: on a ready video, with one level of replies, edited and deleted by their author. Each
// write runs inside a writes::Transaction (the write path's): it locks the video's object, writes
// SQL (which keeps the video's comment count and each comment's reply count), and emits the delta
// that sets, from SQL's rows, the comment's packed value in cm:{video}, its place in the newest and
// top lists (or its parent's replies), the parent's new reply count and the video's count
// (community.h has the layout).
//
// Replies: a reply names a top-level comment of the same video. A reply to a reply is attached to
// that reply's top-level comment, so a conversation stays under the comment that started it and
// "reply" works the same on every comment a page shows. Deleting a top-level comment deletes its
// replies (SQL cascades; the delta removes them from Redis too).
//
// Bodies are kept exactly as typed (no trimming, no escaping: pages escape them when shown): 1 to
// max_comment_chars characters of strict UTF-8 without control characters other than line breaks
// and tabs (common/text.h, Lines::many), and not only white space.
//
// Thread-safety: as writes::Transaction (the thread running the write).
// Failure: ErrorKind::invalid_input for a bad body, a parent on another video, or a comment on a
// video that is not ready; ErrorKind::not_found for no such video, comment or parent;
// ErrorKind::forbidden when the user may not change the comment (may_change_comment); any other
// Error comes from SQL. On an Error nothing is emitted (the write path rolls back).
#pragma once

#include <cstdint>
#include <string_view>

#include "catalog/community.h"
#include "common/result.h"
#include "writes/transaction.h"

namespace reel::people {

inline constexpr size_t max_comment_chars = 5000;

// Adds a comment by the user (parent_id 0), or a reply to comment `parent_id`; returns it as stored.
Result<catalog::Comment> add_comment(writes::Transaction& tx, int64_t user_id, int64_t video_id,
                                     std::string_view body, int64_t parent_id, int64_t now);
// Replaces the comment's body (marked edited at `now`); returns it as stored.
Result<catalog::Comment> edit_comment(writes::Transaction& tx, int64_t user_id, int64_t comment_id,
                                      std::string_view body, int64_t now);
// Deletes the comment, with its replies when it has any.
Status delete_comment(writes::Transaction& tx, int64_t user_id, int64_t comment_id);

// Whether the user may edit or delete the comment: its author only, for now (moderators will be
// decided here too). ErrorKind::forbidden when not.
Status may_change_comment(int64_t user_id, const catalog::Comment& comment);

// Checks a body as add_comment and edit_comment do; ErrorKind::invalid_input saying what is wrong.
Status check_comment_body(std::string_view body);

}  // namespace reel::people
