// Votes: like or dislike, one per user per video, changeable and removable. A vote is a write run
// inside a writes::Transaction (the write path's): it locks the video's object, changes the votes
// row and the video's likes and dislikes in SQL, and emits the delta that sets them in Redis from
// SQL's values — v:{id} likes and dislikes, the card's rating in place, the video's scores in the
// top-rated lists (Wilson lower bound, codec::rating_score), and the user's own vote in uv:{user}
// (what the watch page shows as "mine").
//
// Thread-safety: as writes::Transaction (the thread running the write).
// Failure: ErrorKind::invalid_input for a value other than 1, -1, 0 or a vote on a video that is
// not ready (processing, failed, being deleted); ErrorKind::not_found when there is no such video;
// any other Error comes from SQL. On an Error nothing is emitted (the write path rolls back).
#pragma once

#include <cstdint>

#include "common/result.h"
#include "writes/transaction.h"

namespace reel::people {

struct VoteState {
  int64_t likes = 0;
  int64_t dislikes = 0;
  int mine = 0;  // the user's vote now: 1, -1 or 0
};

// Sets the user's vote on the video: 1 like, -1 dislike, 0 none (removing a vote needs no ready
// video). Voting the same value again changes nothing (and emits nothing): one vote per user and
// video. `now` (Unix seconds, from the caller's Clock) is when the vote was cast.
Result<VoteState> vote(writes::Transaction& tx, int64_t user_id, int64_t video_id, int value, int64_t now);

}  // namespace reel::people
