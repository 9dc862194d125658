#include "projection/community.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "catalog/model.h"
#include "projection/codec.h"
#include "projection/community_keys.h"
#include "projection/keys.h"
#include "projection/projector.h"

namespace reel::projection::community {
namespace {

constexpr char field_sep = '\x1f';
constexpr size_t comment_fields = 10;  // the body is the last

constexpr int top_id_bits = 33;
constexpr int64_t top_id_max = (int64_t{1} << top_id_bits) - 1;
constexpr int64_t top_replies_max = (int64_t{1} << 20) - 1;

void append_clean(std::string& out, std::string_view text) {
  for (char c : text) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
}

bool parse(std::string_view text, int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string encode_comment(const catalog::Comment& comment) {
  std::string out =
      fmt::format("{1}{0}{2}{0}{3}{0}{4}{0}{5}{0}{6}{0}{7}{0}", field_sep, comment.id, comment.video_id,
                  comment.parent_id, comment.user_id, comment.created_at, comment.edited_at, comment.replies);
  append_clean(out, comment.author_name);
  out += field_sep;
  append_clean(out, comment.author_display_name);
  out += field_sep;
  out += comment.body;
  return out;
}

std::optional<catalog::Comment> decode_comment(std::string_view packed) {
  std::string_view f[comment_fields];
  size_t start = 0;
  for (size_t i = 0; i + 1 < comment_fields; ++i) {
    const size_t end = packed.find(field_sep, start);
    if (end == std::string_view::npos) return std::nullopt;
    f[i] = packed.substr(start, end - start);
    start = end + 1;
  }
  f[comment_fields - 1] = packed.substr(start);
  catalog::Comment comment;
  if (!parse(f[0], comment.id) || !parse(f[1], comment.video_id) || !parse(f[2], comment.parent_id) ||
      !parse(f[3], comment.user_id) || !parse(f[4], comment.created_at) || !parse(f[5], comment.edited_at) ||
      !parse(f[6], comment.replies)) {
    return std::nullopt;
  }
  comment.author_name = f[7];
  comment.author_display_name = f[8];
  comment.body = f[9];
  return comment;
}

double top_score(int64_t replies, int64_t id) {
  const int64_t key = (std::clamp<int64_t>(replies, 0, top_replies_max) << top_id_bits) |
                      std::clamp<int64_t>(id, 0, top_id_max);
  return static_cast<double>(key);
}

std::string reply_member(int64_t parent_id, int64_t id) {
  return fmt::format("{:019}:{:019}", parent_id, id);
}

std::string replies_from(int64_t parent_id) {
  return fmt::format("[{:019}:", parent_id);
}

std::string replies_to(int64_t parent_id) {
  return fmt::format("({:019};", parent_id);  // ';' follows ':'
}

int64_t reply_of(std::string_view member) {
  int64_t id = 0;
  return member.size() == 39 && member[19] == ':' && parse(member.substr(20), id) ? id : 0;
}

std::vector<redis::Command> while_listed(int64_t video_id, std::vector<redis::Command> commands) {
  std::vector<redis::Command> guarded;
  guarded.reserve(commands.size() + 1);
  guarded.emplace_back(codec::if_exists_op, keys::card(video_id), commands.size());
  for (redis::Command& command : commands) guarded.push_back(std::move(command));
  return guarded;
}

std::vector<redis::Command> vote_commands(int64_t video_id, const std::vector<std::string>& categories,
                                          int64_t likes, int64_t dislikes, int64_t user_id, int value) {
  std::vector<redis::Command> commands;
  commands.emplace_back("HSET", keys::video(video_id), codec::video_likes_field, likes,
                        codec::video_dislikes_field, dislikes);
  commands.emplace_back("SETRANGE", keys::card(video_id), codec::rating_offset,
                        codec::rating_field(likes, dislikes));
  // The rating lists a video is in, with its score, as a publish or a rebuild lists it.
  catalog::Video rated;
  rated.id = video_id;
  rated.categories = categories;
  rated.likes = likes;
  rated.dislikes = dislikes;
  for (const ListEntry& entry : list_memberships(rated)) {
    if (entry.sort == Sort::rating) commands.emplace_back("ZADD", entry.key, entry.score, video_id);
  }
  if (value == 0) {
    commands.emplace_back("HDEL", keys::user_votes(user_id), video_id);
  } else {
    commands.emplace_back("HSET", keys::user_votes(user_id), video_id, value);
  }
  return commands;
}

std::vector<CommentEntry> comment_memberships(const catalog::Comment& comment) {
  const std::string id = std::to_string(comment.id);
  if (comment.parent_id != 0) {
    return {{keys::comment_replies(comment.video_id), 0, reply_member(comment.parent_id, comment.id)}};
  }
  return {
      {keys::comment_list(comment.video_id, CommentSort::newest), static_cast<double>(comment.id), id},
      {keys::comment_list(comment.video_id, CommentSort::top), top_score(comment.replies, comment.id), id}};
}

std::vector<redis::Command> comment_commands(const catalog::Comment& comment) {
  std::vector<redis::Command> commands;
  commands.emplace_back("HSET", keys::comments(comment.video_id), comment.id, encode_comment(comment));
  for (CommentEntry& entry : comment_memberships(comment)) {
    commands.emplace_back("ZADD", std::move(entry.key), entry.score, std::move(entry.member));
  }
  return commands;
}

std::vector<redis::Command> comment_removal_commands(const catalog::Comment& comment,
                                                     const std::vector<int64_t>& reply_ids) {
  std::vector<redis::Command> commands;
  redis::Command fields("HDEL", keys::comments(comment.video_id), comment.id);
  for (int64_t reply : reply_ids) fields.arg(reply);
  commands.push_back(std::move(fields));
  for (CommentEntry& entry : comment_memberships(comment)) {
    commands.emplace_back("ZREM", std::move(entry.key), std::move(entry.member));
  }
  if (comment.parent_id == 0) {
    commands.emplace_back("ZREMRANGEBYLEX", keys::comment_replies(comment.video_id), replies_from(comment.id),
                          replies_to(comment.id));
  }
  return commands;
}

redis::Command comment_count_command(int64_t video_id, int64_t count) {
  return redis::Command("HSET", keys::video(video_id), codec::video_comments_field, count);
}

std::vector<std::string> video_comment_keys(int64_t video_id) {
  return {keys::comments(video_id), keys::comment_list(video_id, CommentSort::newest),
          keys::comment_list(video_id, CommentSort::top), keys::comment_replies(video_id)};
}

}  // namespace reel::projection::community
