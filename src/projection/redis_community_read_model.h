// RedisCommunityReadModel: the CommunityReadModel over Redis. A page of comments or replies costs
// two round trips on the event loop's shared read connection (the list's size and ids, then one HMGET
// of their packed values from cm:{video}); a comment or a user's vote one. SQL is never touched.
// Nothing is kept between calls: comment pages are read by the watch page's script and the API,
// not by every page view.
// Thread-safety: as its redis::Connections (one event loop).
// Failure: each read falls back to the primary when the read connection fails (replica_read.h);
// an Error when that fails too (unreachable, timed out or answering with an error); an
// ErrorKind::invalid_input Error for a page or page size below 1.
#pragma once

#include "projection/community_read_model.h"
#include "redis/connection.h"

namespace reel::projection {

class RedisCommunityReadModel final : public CommunityReadModel {
 public:
  // Reads `redis` (a replica, or the primary itself), falling back to `primary` when it fails
  // (null: no fallback). Both must outlive this object.
  explicit RedisCommunityReadModel(redis::Connection& redis, redis::Connection* primary = nullptr)
      : redis_(redis), primary_(primary) {}

  Task<Result<CommentPage>> comments(int64_t video_id, CommentSort sort, int page, int per_page) override;
  Task<Result<CommentPage>> replies(int64_t video_id, int64_t parent_id, int page, int per_page) override;
  Task<Result<std::optional<catalog::Comment>>> comment(int64_t video_id, int64_t comment_id) override;
  Task<Result<int>> vote_of(int64_t user_id, int64_t video_id) override;

 private:
  // Runs `first` (the page's size, then its members) and fills the page from one HMGET of the
  // members' comments (`comment_id` turns a member into a comment id).
  Task<Result<CommentPage>> read_page(int64_t video_id, std::vector<redis::Command> first, int page,
                                      int per_page, int64_t (*comment_id)(std::string_view member));

  // One command through the fallback (read_with_fallback); an Error when both connections fail.
  Task<Result<redis::Reply>> read_one(redis::Command command);

  redis::Connection& redis_;
  redis::Connection* primary_;
};

}  // namespace reel::projection
