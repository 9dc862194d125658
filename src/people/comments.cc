#include "people/comments.h"

#include <fmt/format.h>

#include "common/text.h"
#include "people/community.h"
#include "projection/community.h"
#include "sql/community_store.h"

namespace reel::people {
namespace {

namespace community = projection::community;

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The comment, read again now that its video is locked; ErrorKind::not_found when there is none.
// Its video never changes, so reading it before the lock names the right object.
Result<catalog::Comment> find(sql::CommunityStore& store, int64_t comment_id) {
  auto comment = store.find_comment(comment_id);
  if (!comment) return comment.error();
  if (!*comment) return Error{fmt::format("no comment {}", comment_id), ErrorKind::not_found};
  return std::move(**comment);
}

// Locks the video of comment `comment_id` and returns the comment as it is under the lock, checked
// against may_change_comment.
Result<catalog::Comment> lock_own(writes::Transaction& tx, sql::CommunityStore& store, int64_t user_id,
                                  int64_t comment_id) {
  auto named = find(store, comment_id);
  if (!named) return named;
  if (Status locked = tx.lock(video_object(named->video_id)); !locked) return locked.error();
  auto comment = find(store, comment_id);
  if (!comment) return comment;
  if (Status allowed = may_change_comment(user_id, *comment); !allowed) return allowed.error();
  return comment;
}

// The commands that show the comment's top-level parent with its current reply count.
Status add_parent_commands(sql::CommunityStore& store, int64_t parent_id,
                           std::vector<redis::Command>& commands) {
  auto parent = find(store, parent_id);
  if (!parent) return parent.error();
  for (auto& command : community::comment_commands(*parent)) commands.push_back(std::move(command));
  return {};
}

// Appends the video's comment count as SQL holds it, then emits everything, guarded (community.h).
Status emit(writes::Transaction& tx, sql::CommunityStore& store, int64_t video_id,
            std::vector<redis::Command> commands) {
  auto count = store.comment_count(video_id);
  if (!count) return count.error();
  commands.push_back(community::comment_count_command(video_id, *count));
  tx.emit(video_object(video_id), community::while_listed(video_id, std::move(commands)));
  return {};
}

}  // namespace

Status check_comment_body(std::string_view body) {
  const std::optional<size_t> chars = user_text_chars(body, Lines::many);
  if (!chars) {
    return Error{"a comment must be valid UTF-8 without control characters (line breaks and tabs are fine)",
                 ErrorKind::invalid_input};
  }
  if (*chars == 0 || blank(body)) return Error{"a comment cannot be empty", ErrorKind::invalid_input};
  if (*chars > max_comment_chars) {
    return Error{
        fmt::format("a comment is at most {} characters (this one has {})", max_comment_chars, *chars),
        ErrorKind::invalid_input};
  }
  return {};
}

Status may_change_comment(int64_t user_id, const catalog::Comment& comment) {
  if (comment.user_id != user_id) {
    return Error{"only its author can change or delete a comment", ErrorKind::forbidden};
  }
  return {};
}

Result<catalog::Comment> add_comment(writes::Transaction& tx, int64_t user_id, int64_t video_id,
                                     std::string_view body, int64_t parent_id, int64_t now) {
  if (Status valid = check_comment_body(body); !valid) return valid.error();
  if (Status locked = tx.lock(video_object(video_id)); !locked) return locked.error();
  sql::CommunityStore store(tx.db());
  auto tally = store.video_tally(video_id);
  if (!tally) return tally.error();
  if (!*tally) return Error{fmt::format("no video {}", video_id), ErrorKind::not_found};
  if ((*tally)->status != catalog::VideoStatus::ready) {
    return Error{fmt::format("video {} is not published, so it cannot be commented on", video_id),
                 ErrorKind::invalid_input};
  }
  if (parent_id != 0) {
    auto parent = find(store, parent_id);
    if (!parent) return parent.error();
    if (parent->video_id != video_id) {
      return Error{fmt::format("comment {} is not on video {}", parent_id, video_id),
                   ErrorKind::invalid_input};
    }
    if (parent->parent_id != 0) parent_id = parent->parent_id;  // a reply to a reply joins its thread
  }
  auto id = store.insert_comment(video_id, user_id, parent_id, body, now);
  if (!id) return id.error();
  auto comment = find(store, *id);
  if (!comment) return comment;
  std::vector<redis::Command> commands = community::comment_commands(*comment);
  if (parent_id != 0) {
    if (Status parent = add_parent_commands(store, parent_id, commands); !parent) return parent.error();
  }
  if (Status emitted = emit(tx, store, video_id, std::move(commands)); !emitted) return emitted.error();
  return comment;
}

Result<catalog::Comment> edit_comment(writes::Transaction& tx, int64_t user_id, int64_t comment_id,
                                      std::string_view body, int64_t now) {
  if (Status valid = check_comment_body(body); !valid) return valid.error();
  sql::CommunityStore store(tx.db());
  auto own = lock_own(tx, store, user_id, comment_id);
  if (!own) return own;
  if (Status edited = store.edit_comment(comment_id, body, now); !edited) return edited.error();
  auto comment = find(store, comment_id);
  if (!comment) return comment;
  if (Status emitted = emit(tx, store, comment->video_id, community::comment_commands(*comment)); !emitted) {
    return emitted.error();
  }
  return comment;
}

Status delete_comment(writes::Transaction& tx, int64_t user_id, int64_t comment_id) {
  sql::CommunityStore store(tx.db());
  auto comment = lock_own(tx, store, user_id, comment_id);
  if (!comment) return comment.error();
  auto replies = store.delete_comment(*comment);
  if (!replies) return replies.error();
  std::vector<redis::Command> commands = community::comment_removal_commands(*comment, *replies);
  if (comment->parent_id != 0) {
    if (Status parent = add_parent_commands(store, comment->parent_id, commands); !parent) return parent;
  }
  return emit(tx, store, comment->video_id, std::move(commands));
}

}  // namespace reel::people
