// RedisCommunityReadModel: the CommunityReadModel over Redis. A page of comments or replies costs
// two round trips on the event loop's shared connection (the list's size and ids, then one HMGET
// of their packed values from cm:{video}); a comment or a user's vote one. SQL is never touched.
// Nothing is kept between calls: comment pages are read by the watch page's script and the API,
// not by every page view.
// Thread-safety: as its redis::Connection (one event loop).
// Failure: an Error when Redis is unreachable, times out or answers with an error; an
// ErrorKind::invalid_input Error for a page or page size below 1.
#pragma once

#include "projection/community_read_model.h"
#include "redis/connection.h"

namespace reel::projection {

class RedisCommunityReadModel final : public CommunityReadModel {
 public:
  // `redis` must outlive this object.
  explicit RedisCommunityReadModel(redis::Connection& redis) : redis_(redis) {}

  Task<Result<CommentPage>> comments(int64_t video_id, CommentSort sort, int page, int per_page) override;
  Task<Result<CommentPage>> replies(int64_t video_id, int64_t parent_id, int page, int per_page) override;
  Task<Result<std::optional<catalog::Comment>>> comment(int64_t video_id, int64_t comment_id) override;
  Task<Result<int>> vote_of(int64_t user_id, int64_t video_id) override;

 private:
  // Runs `first` (the page's size, then its members) and fills the page from one HMGET of the
  // members' comments (`comment_id` turns a member into a comment id).
  Task<Result<CommentPage>> read_page(int64_t video_id, std::vector<redis::Command> first, int page,
                                      int per_page, int64_t (*comment_id)(std::string_view member));

  redis::Connection& redis_;
};

}  // namespace reel::projection
