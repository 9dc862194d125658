#include "sql/community_store.h"

#include <fmt/format.h>

namespace reel::sql {
namespace {

constexpr std::string_view select_tally = "SELECT status, likes, dislikes, comments FROM videos WHERE id = ?";
constexpr std::string_view select_video_categories =
    "SELECT c.slug FROM video_categories vc JOIN categories c ON c.id = vc.category_id "
    "WHERE vc.video_id = ? ORDER BY c.position, c.id";

constexpr std::string_view select_vote = "SELECT value FROM votes WHERE video_id = ? AND user_id = ?";
constexpr std::string_view insert_vote =
    "INSERT INTO votes (video_id, user_id, value, created_at) VALUES (?, ?, ?, ?)";
constexpr std::string_view update_vote =
    "UPDATE votes SET value = ?, created_at = ? WHERE video_id = ? AND user_id = ?";
constexpr std::string_view delete_vote = "DELETE FROM votes WHERE video_id = ? AND user_id = ?";
constexpr std::string_view add_vote_counts =
    "UPDATE videos SET likes = likes + ?, dislikes = dislikes + ? WHERE id = ?";
constexpr std::string_view select_vote_counts = "SELECT likes, dislikes FROM videos WHERE id = ?";

constexpr std::string_view insert_comment_row =
    "INSERT INTO comments (video_id, user_id, parent_id, body, created_at) VALUES (?, ?, ?, ?, ?)";
constexpr std::string_view add_replies = "UPDATE comments SET replies = replies + ? WHERE id = ?";
constexpr std::string_view add_comments = "UPDATE videos SET comments = comments + ? WHERE id = ?";
constexpr std::string_view select_comment_count = "SELECT comments FROM videos WHERE id = ?";
constexpr std::string_view update_body = "UPDATE comments SET body = ?, edited_at = ? WHERE id = ?";
constexpr std::string_view select_reply_ids = "SELECT id FROM comments WHERE parent_id = ? ORDER BY id";
constexpr std::string_view delete_comment_row = "DELETE FROM comments WHERE id = ?";

// Columns read by parse_comment, in order.
#define REEL_COMMENT_SELECT                                                                        \
  "SELECT c.id, c.video_id, c.user_id, COALESCE(c.parent_id, 0), u.name, u.display_name, c.body, " \
  "c.replies, c.created_at, COALESCE(c.edited_at, 0) FROM comments c JOIN users u ON u.id = c.user_id "
constexpr std::string_view select_comment = REEL_COMMENT_SELECT "WHERE c.id = ?";
constexpr std::string_view select_comments_by =
    REEL_COMMENT_SELECT "WHERE c.user_id = ? AND c.video_id = ? ORDER BY c.parent_id IS NOT NULL, c.id";
constexpr std::string_view select_all_comments =
    REEL_COMMENT_SELECT "JOIN videos v ON v.id = c.video_id WHERE v.status = ? ORDER BY c.video_id, c.id";
#undef REEL_COMMENT_SELECT

constexpr std::string_view select_touched =
    "SELECT video_id FROM votes WHERE user_id = ? UNION SELECT video_id FROM comments WHERE user_id = ? "
    "ORDER BY 1";
constexpr std::string_view select_all_votes =
    "SELECT vo.video_id, vo.user_id, vo.value FROM votes vo JOIN videos v ON v.id = vo.video_id "
    "WHERE v.status = ? ORDER BY vo.user_id, vo.video_id";

// The status whose videos the rebuild projects (the text SQL stores).
std::string ready() {
  return std::string(catalog::to_string(catalog::VideoStatus::ready));
}

catalog::Comment parse_comment(const Row& row) {
  catalog::Comment comment;
  comment.id = row.integer(0);
  comment.video_id = row.integer(1);
  comment.user_id = row.integer(2);
  comment.parent_id = row.integer(3);
  comment.author_name = row.text(4);
  comment.author_display_name = row.text(5);
  comment.body = row.text(6);
  comment.replies = row.integer(7);
  comment.created_at = row.integer(8);
  comment.edited_at = row.integer(9);
  return comment;
}

}  // namespace

Result<std::optional<VideoTally>> CommunityStore::video_tally(int64_t video_id) {
  Result<std::vector<Row>> rows = db_.query_all(select_tally, {video_id});
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return std::optional<VideoTally>{};
  const Row& row = rows->front();
  VideoTally tally;
  if (!catalog::parse_status(row.text(0), &tally.status)) {
    return Error{fmt::format("video {} has unknown status '{}'", video_id, row.text(0))};
  }
  tally.likes = row.integer(1);
  tally.dislikes = row.integer(2);
  tally.comments = row.integer(3);
  Status read = db_.query(select_video_categories, {video_id}, [&](const Row& category) {
    tally.categories.push_back(category.text(0));
    return true;
  });
  if (!read.ok()) return read.error();
  return std::optional<VideoTally>{std::move(tally)};
}

Result<int> CommunityStore::vote_of(int64_t video_id, int64_t user_id) {
  Result<std::vector<Row>> rows = db_.query_all(select_vote, {video_id, user_id});
  if (!rows.ok()) return rows.error();
  return rows->empty() ? 0 : static_cast<int>(rows->front().integer(0));
}

Result<VoteCounts> CommunityStore::change_vote(int64_t video_id, int64_t user_id, int old_value, int value,
                                               int64_t now) {
  Result<int64_t> written = old_value == 0
                                ? db_.execute(insert_vote, {video_id, user_id, int64_t{value}, now})
                            : value == 0 ? db_.execute(delete_vote, {video_id, user_id})
                                         : db_.execute(update_vote, {int64_t{value}, now, video_id, user_id});
  if (!written.ok()) return written.error();
  const int64_t likes = int64_t{value == 1} - int64_t{old_value == 1};
  const int64_t dislikes = int64_t{value == -1} - int64_t{old_value == -1};
  Result<int64_t> counted = db_.execute(add_vote_counts, {likes, dislikes, video_id});
  if (!counted.ok()) return counted.error();
  Result<std::vector<Row>> rows = db_.query_all(select_vote_counts, {video_id});
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return Error{fmt::format("video {} vanished while its vote was written", video_id)};
  return VoteCounts{rows->front().integer(0), rows->front().integer(1)};
}

Result<int64_t> CommunityStore::insert_comment(int64_t video_id, int64_t user_id, int64_t parent_id,
                                               std::string_view body, int64_t now) {
  const Value parent = parent_id == 0 ? Value() : Value(parent_id);
  Result<int64_t> inserted =
      db_.execute(insert_comment_row, {video_id, user_id, parent, std::string(body), now});
  if (!inserted.ok()) return inserted.error();
  const int64_t id = db_.last_insert_id();
  if (parent_id != 0) {
    if (auto counted = db_.execute(add_replies, {int64_t{1}, parent_id}); !counted.ok()) {
      return counted.error();
    }
  }
  if (auto counted = db_.execute(add_comments, {int64_t{1}, video_id}); !counted.ok()) {
    return counted.error();
  }
  return id;
}

Result<std::optional<catalog::Comment>> CommunityStore::find_comment(int64_t id) {
  Result<std::vector<Row>> rows = db_.query_all(select_comment, {id});
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return std::optional<catalog::Comment>{};
  return std::optional<catalog::Comment>{parse_comment(rows->front())};
}

Status CommunityStore::edit_comment(int64_t id, std::string_view body, int64_t now) {
  Result<int64_t> edited = db_.execute(update_body, {std::string(body), now, id});
  if (!edited.ok()) return edited.error();
  return {};
}

Result<std::vector<int64_t>> CommunityStore::delete_comment(const catalog::Comment& comment) {
  std::vector<int64_t> replies;
  Status read = db_.query(select_reply_ids, {comment.id}, [&](const Row& row) {
    replies.push_back(row.integer(0));
    return true;
  });
  if (!read.ok()) return read.error();
  if (auto deleted = db_.execute(delete_comment_row, {comment.id}); !deleted.ok()) {
    return deleted.error();
  }
  if (comment.parent_id != 0) {
    if (auto counted = db_.execute(add_replies, {int64_t{-1}, comment.parent_id}); !counted.ok()) {
      return counted.error();
    }
  }
  const int64_t gone = 1 + static_cast<int64_t>(replies.size());
  if (auto counted = db_.execute(add_comments, {-gone, comment.video_id}); !counted.ok()) {
    return counted.error();
  }
  return replies;
}

Result<int64_t> CommunityStore::comment_count(int64_t video_id) {
  Result<std::vector<Row>> rows = db_.query_all(select_comment_count, {video_id});
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return Error{fmt::format("no video {}", video_id)};
  return rows->front().integer(0);
}

Result<std::vector<int64_t>> CommunityStore::videos_touched_by(int64_t user_id) {
  std::vector<int64_t> videos;
  Status read = db_.query(select_touched, {user_id, user_id}, [&](const Row& row) {
    videos.push_back(row.integer(0));
    return true;
  });
  if (!read.ok()) return read.error();
  return videos;
}

Result<std::vector<catalog::Comment>> CommunityStore::comments_by(int64_t user_id, int64_t video_id) {
  std::vector<catalog::Comment> comments;
  Status read = db_.query(select_comments_by, {user_id, video_id}, [&](const Row& row) {
    comments.push_back(parse_comment(row));
    return true;
  });
  if (!read.ok()) return read.error();
  return comments;
}

Status CommunityStore::for_each_vote(const std::function<void(const catalog::Vote&)>& fn) {
  return db_.query(select_all_votes, {ready()}, [&](const Row& row) {
    fn({row.integer(0), row.integer(1), static_cast<int>(row.integer(2))});
    return true;
  });
}

Status CommunityStore::for_each_comment(const std::function<void(const catalog::Comment&)>& fn) {
  return db_.query(select_all_comments, {ready()}, [&](const Row& row) {
    fn(parse_comment(row));
    return true;
  });
}

}  // namespace reel::sql
