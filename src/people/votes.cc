#include "people/votes.h"

#include <fmt/format.h>

#include "people/community.h"
#include "projection/community.h"
#include "sql/community_store.h"

namespace reel::people {

Result<VoteState> vote(writes::Transaction& tx, int64_t user_id, int64_t video_id, int value, int64_t now) {
  if (value < -1 || value > 1) {
    return Error{"a vote is 1 (like), -1 (dislike) or 0 (none)", ErrorKind::invalid_input};
  }
  const std::string object = video_object(video_id);
  if (Status locked = tx.lock(object); !locked) return locked.error();
  sql::CommunityStore store(tx.db());
  auto tally = store.video_tally(video_id);
  if (!tally) return tally.error();
  if (!*tally) return Error{fmt::format("no video {}", video_id), ErrorKind::not_found};
  if (value != 0 && (*tally)->status != catalog::VideoStatus::ready) {
    return Error{fmt::format("video {} is not published, so it cannot be voted on", video_id),
                 ErrorKind::invalid_input};
  }
  auto old = store.vote_of(video_id, user_id);
  if (!old) return old.error();
  if (*old == value) return VoteState{(*tally)->likes, (*tally)->dislikes, value};
  auto counts = store.change_vote(video_id, user_id, *old, value, now);
  if (!counts) return counts.error();
  auto commands = projection::community::vote_commands(video_id, (*tally)->categories, counts->likes,
                                                       counts->dislikes, user_id, value);
  tx.emit(object, projection::community::while_listed(video_id, std::move(commands)));
  return VoteState{counts->likes, counts->dislikes, value};
}

}  // namespace reel::people
