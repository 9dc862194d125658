// CommunityStore: votes and comments over one sql::Connection — the only code that knows their
// tables. Each write also keeps the counters pages show (videos.likes, dislikes, comments and
// comments.replies) in the same statement sequence, so the projection reads them back instead of
// counting. Used by the writes in src/people/ (inside a writes::Transaction, after locking the
// video) and by `reel rebuild votes|comments`.
//
// Thread-safety: as the Connection it wraps (one thread at a time).
// Failure: every call returns an Error with the engine's message. The writes are not atomic by
// themselves: call them inside a transaction (the write path's), which the caller rolls back on
// an Error.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/community.h"
#include "catalog/model.h"
#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql {

// What a vote or a comment needs of its video.
struct VideoTally {
  catalog::VideoStatus status = catalog::VideoStatus::processing;
  int64_t likes = 0;
  int64_t dislikes = 0;
  int64_t comments = 0;
  std::vector<std::string> categories;  // slugs, for the per-category rating lists
};

struct VoteCounts {
  int64_t likes = 0;
  int64_t dislikes = 0;
};

class CommunityStore {
 public:
  explicit CommunityStore(Connection& connection) : db_(connection) {}

  // nullopt when there is no such video.
  Result<std::optional<VideoTally>> video_tally(int64_t video_id);

  // The user's vote on the video: 1, -1, or 0 when there is none.
  Result<int> vote_of(int64_t video_id, int64_t user_id);
  // Replaces the user's vote `old_value` (as vote_of() read it) by `value` (1, -1; 0 removes it),
  // moves the video's likes and dislikes to match, and returns them as read back.
  Result<VoteCounts> change_vote(int64_t video_id, int64_t user_id, int old_value, int value, int64_t now);

  // Inserts a comment (parent_id 0: top-level), counts it in the video's comments and its
  // parent's replies; returns its id.
  Result<int64_t> insert_comment(int64_t video_id, int64_t user_id, int64_t parent_id, std::string_view body,
                                 int64_t now);
  // The comment with its author's names; nullopt when there is none.
  Result<std::optional<catalog::Comment>> find_comment(int64_t id);
  // Replaces the body and marks it edited at `now`.
  Status edit_comment(int64_t id, std::string_view body, int64_t now);
  // Deletes the comment and (by cascade) its replies, and takes them off the video's comments and
  // the parent's replies; returns the ids of the replies that went with it, ascending.
  Result<std::vector<int64_t>> delete_comment(const catalog::Comment& comment);
  // The video's comment count (comments and replies), as stored.
  Result<int64_t> comment_count(int64_t video_id);

  // The videos the user voted on or commented on, ascending (account deletion).
  Result<std::vector<int64_t>> videos_touched_by(int64_t user_id);
  // The user's comments on the video: top-level ones first, then replies, each by id.
  Result<std::vector<catalog::Comment>> comments_by(int64_t user_id, int64_t video_id);

  // The rebuild's scans; rows stream from the connection while `fn` runs, so `fn` must not use it.
  // Votes on ready videos, by user then video.
  Status for_each_vote(const std::function<void(const catalog::Vote&)>& fn);
  // Comments on ready videos with their authors' names, by video then id.
  Status for_each_comment(const std::function<void(const catalog::Comment&)>& fn);

 private:
  Connection& db_;
};

}  // namespace reel::sql
