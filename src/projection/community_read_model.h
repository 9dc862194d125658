// CommunityReadModel: what pages and the API read of votes and comments, behind an interface (as
// ReadModel, read_model.h) so handlers can be tested with a fake. The Redis implementation
// (redis_community_read_model.h) answers every call in at most two round trips and never touches
// SQL. The counts (likes, dislikes, comments) are on VideoPage, read with the watch page.
//
// Comments are one level deep: a page lists top-level comments, each with its reply count;
// replies() pages through one comment's replies, oldest first. Each comment carries its author's
// name and display name, so showing a page needs no user lookup. Bodies are as typed: escape them
// where they are shown.
//
// Failure: an Error means Redis is unavailable (callers answer 503). "Not found" is not an error:
// an empty page or an empty optional.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "catalog/community.h"
#include "common/asio.h"
#include "common/result.h"

namespace reel::projection {

// newest: newest first. top: most replies first, newest first among equals.
enum class CommentSort { newest, top };

// "new" and "top", as the API's sort= and the key names spell them.
constexpr std::string_view comment_sort_name(CommentSort sort) {
  return sort == CommentSort::top ? "top" : "new";
}

inline std::optional<CommentSort> parse_comment_sort(std::string_view text) {
  for (CommentSort sort : {CommentSort::newest, CommentSort::top}) {
    if (comment_sort_name(sort) == text) return sort;
  }
  return std::nullopt;
}

struct CommentPage {
  std::vector<catalog::Comment> comments;
  int64_t total = 0;  // top-level comments of the video (replies(): replies of the comment)
  int page = 1;
  int pages = 0;  // ceil(total / per_page)
};

class CommunityReadModel {
 public:
  virtual ~CommunityReadModel() = default;
  // Page `page` (1-based) of the video's top-level comments in `sort` order; an empty page with
  // total 0 for a video without comments (or no such video).
  virtual Task<Result<CommentPage>> comments(int64_t video_id, CommentSort sort, int page, int per_page) = 0;
  // Page `page` of the replies to comment `parent_id` of the video, oldest first.
  virtual Task<Result<CommentPage>> replies(int64_t video_id, int64_t parent_id, int page, int per_page) = 0;
  // One comment of the video; nullopt when there is none. (Edits and deletes check the author in
  // SQL, not here.)
  virtual Task<Result<std::optional<catalog::Comment>>> comment(int64_t video_id, int64_t comment_id) = 0;
  // The user's vote on the video: 1, -1, or 0 when none.
  virtual Task<Result<int>> vote_of(int64_t user_id, int64_t video_id) = 0;
};

}  // namespace reel::projection
