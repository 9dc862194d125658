#include "projection/redis_community_read_model.h"

#include <charconv>

#include "projection/community.h"
#include "projection/community_keys.h"
#include "projection/replica_read.h"

namespace reel::projection {
namespace {

using redis::Command;
using redis::Reply;

int64_t id_member(std::string_view member) {
  int64_t id = 0;
  std::from_chars(member.data(), member.data() + member.size(), id);
  return id;
}

int64_t reply_member(std::string_view member) {
  return community::reply_of(member);
}

Status page_check(int page, int per_page) {
  if (page < 1 || per_page < 1) {
    return Error{"a page number and a page size are at least 1", ErrorKind::invalid_input};
  }
  return {};
}

}  // namespace

Task<Result<CommentPage>> RedisCommunityReadModel::comments(int64_t video_id, CommentSort sort, int page,
                                                            int per_page) {
  if (Status valid = page_check(page, per_page); !valid) co_return valid.error();
  const std::string list = keys::comment_list(video_id, sort);
  const int64_t start = int64_t{page - 1} * per_page;
  std::vector<Command> first;
  first.emplace_back("ZCARD", list);
  first.emplace_back("ZREVRANGE", list, start, start + per_page - 1);
  co_return co_await read_page(video_id, std::move(first), page, per_page, &id_member);
}

Task<Result<CommentPage>> RedisCommunityReadModel::replies(int64_t video_id, int64_t parent_id, int page,
                                                           int per_page) {
  if (Status valid = page_check(page, per_page); !valid) co_return valid.error();
  const std::string list = keys::comment_replies(video_id);
  const std::string from = community::replies_from(parent_id), to = community::replies_to(parent_id);
  std::vector<Command> first;
  first.emplace_back("ZLEXCOUNT", list, from, to);
  first.emplace_back("ZRANGEBYLEX", list, from, to, "LIMIT", int64_t{page - 1} * per_page, per_page);
  co_return co_await read_page(video_id, std::move(first), page, per_page, &reply_member);
}

Task<Result<CommentPage>> RedisCommunityReadModel::read_page(int64_t video_id, std::vector<Command> first,
                                                             int page, int per_page,
                                                             int64_t (*comment_id)(std::string_view member)) {
  auto lists = co_await read_with_fallback(redis_, primary_, std::move(first));
  if (!lists) co_return lists.error();
  CommentPage result;
  result.page = page;
  result.total = (*lists)[0].integer();
  result.pages = static_cast<int>((result.total + per_page - 1) / per_page);
  const auto& members = (*lists)[1].elements();
  if (members.empty()) co_return result;
  Command values("HMGET", keys::comments(video_id));
  for (const Reply& member : members) values.arg(comment_id(member.str()));
  std::vector<Command> second;
  second.push_back(std::move(values));
  auto packed = co_await read_with_fallback(redis_, primary_, std::move(second));
  if (!packed) co_return packed.error();
  for (const Reply& value : (*packed)[0].elements()) {
    // nil (no packed comment): deleted between the two round trips.
    if (auto comment = community::decode_comment(value.str())) {
      result.comments.push_back(std::move(*comment));
    }
  }
  co_return result;
}

Task<Result<Reply>> RedisCommunityReadModel::read_one(Command command) {
  std::vector<Command> batch;
  batch.push_back(std::move(command));
  auto replies = co_await read_with_fallback(redis_, primary_, std::move(batch));
  if (!replies) co_return replies.error();
  co_return std::move((*replies)[0]);
}

Task<Result<std::optional<catalog::Comment>>> RedisCommunityReadModel::comment(int64_t video_id,
                                                                               int64_t comment_id) {
  Command read("HGET", keys::comments(video_id), comment_id);
  auto reply = co_await read_one(std::move(read));
  if (!reply) co_return reply.error();
  if (reply->is_nil()) co_return std::optional<catalog::Comment>{};
  co_return community::decode_comment(reply->str());
}

Task<Result<int>> RedisCommunityReadModel::vote_of(int64_t user_id, int64_t video_id) {
  Command read("HGET", keys::user_votes(user_id), video_id);
  auto reply = co_await read_one(std::move(read));
  if (!reply) co_return reply.error();
  co_return static_cast<int>(reply->integer());  // nil: 0
}

}  // namespace reel::projection
