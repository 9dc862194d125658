// The community's writes (votes.h, comments.h) share this: the ordering object of a video, which
// every vote and comment write locks first, and the removal of one user's votes and comments for
// account deletion.
//
// Thread-safety: as writes::Transaction (the thread running the write).
// Failure: an Error from SQL; the write path rolls the transaction back and nothing is emitted.
#pragma once

#include <cstdint>
#include <string>

#include "common/change_sink.h"
#include "common/result.h"
#include "writes/transaction.h"

namespace reel::people {

// reel::video_object (common/change_sink.h), "video:{id}": the object whose deltas carry a video's
// counts, rating, comments and its voters' own votes, in commit order.
using reel::video_object;

// Removes every vote and comment of the user (and, with the user's comments, the replies others
// made to them), keeping each video's counts and lists right: each affected video is locked, in
// ascending id order, and gets its delta. For account deletion: call it once the user can no longer
// write (sessions revoked); a vote or comment that slips in meanwhile is caught by a second look
// after the locks. Fits auth's AccountRemovalStep (auth/accounts.h) as
// [](writes::Transaction& tx, const catalog::User& user) { return remove_votes_and_comments(tx, user.id); }.
Status remove_votes_and_comments(writes::Transaction& tx, int64_t user_id);

}  // namespace reel::people
