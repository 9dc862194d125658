#include "people/community.h"

#include <fmt/format.h>

#include <set>

#include "people/comments.h"
#include "people/votes.h"
#include "sql/community_store.h"

namespace reel::people {

Status remove_votes_and_comments(writes::Transaction& tx, int64_t user_id) {
  sql::CommunityStore store(tx.db());
  // Lock every video the user touched, ascending (two removals never wait on each other in
  // opposite orders), then look again: what a write that raced the first look added is locked too.
  std::set<int64_t> locked;
  for (;;) {
    auto touched = store.videos_touched_by(user_id);
    if (!touched) return touched.error();
    const size_t before = locked.size();
    for (int64_t video : *touched) {
      if (locked.contains(video)) continue;
      if (Status held = tx.lock(video_object(video)); !held) return held;
      locked.insert(video);
    }
    if (locked.size() == before) break;
  }
  for (int64_t video : locked) {
    // A removal writes no time: `now` is only stamped on a vote cast.
    if (auto removed = vote(tx, user_id, video, 0, 0); !removed) return removed.error();
    auto comments = store.comments_by(user_id, video);
    if (!comments) return comments.error();
    for (const catalog::Comment& comment : *comments) {
      // A reply of the user's may have gone with the user's comment it answered.
      Status deleted = delete_comment(tx, user_id, comment.id);
      if (!deleted && deleted.error().kind != ErrorKind::not_found) return deleted;
    }
  }
  return {};
}

}  // namespace reel::people
