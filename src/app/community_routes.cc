// The votes and comments calls of PeopleRoutes (people_routes.h lists them).
#include <fmt/format.h>

#include "api/json.h"
#include "app/people_routes.h"
#include "http/url.h"
#include "people/comments.h"
#include "people/votes.h"

namespace reel::app {
namespace {

constexpr int comments_per_page = 20;
constexpr int max_comment_page = 10000;

}  // namespace

Task<std::optional<http::Response>> PeopleRoutes::over_limit(const Call& call, std::string_view scope,
                                                             auth::Limit per_account,
                                                             auth::Limit per_client) {
  auto refused = co_await over_limits(call.request, call.session->user_id, scope, per_account, per_client);
  if (!refused) co_return std::nullopt;
  co_return limited(call, *refused);
}

Task<std::optional<http::Response>> PeopleRoutes::video_call(const http::Request& request, int64_t video_id,
                                                             std::string_view action) {
  if (action == "comments" && (request.method == "GET" || request.method == "HEAD")) {
    co_return co_await comments_page(request, video_id);
  }
  if (action != "vote" && action != "comments") co_return std::nullopt;
  const bool vote = action == "vote";
  auto begun = co_await begin_call(request, Needs::session);
  if (auto* stop = std::get_if<http::Response>(&begun)) co_return std::move(*stop);
  Call& call = std::get<Call>(begun);
  if (call.input.method() != (vote ? "PUT" : "POST")) co_return wrong_method(vote ? "PUT" : "GET, POST");
  const int64_t user_id = call.session->user_id;
  const int64_t now = s_.clock.unix_seconds();
  const std::string back = fmt::format("/watch/{}", video_id);
  if (vote) {
    auto value = call.input.integer("value");
    if (!value.ok()) co_return failed(call, value.error());
    if (!*value || (**value != 1 && **value != -1 && **value != 0)) {
      co_return failed(&call, 400, "The value must be 1 (like), -1 (dislike) or 0 (no vote).");
    }
    if (auto stop = co_await over_limit(call, "vote", auth::limits::vote_per_account,
                                        auth::limits::vote_per_client)) {
      co_return std::move(*stop);
    }
    std::function<Result<people::VoteState>(writes::Transaction&)> cast =
        [user_id, video_id, value = static_cast<int>(**value), now](writes::Transaction& tx) {
          return people::vote(tx, user_id, video_id, value, now);
        };
    auto state = co_await write<people::VoteState>(call, std::move(cast));
    if (auto* stop = std::get_if<http::Response>(&state)) co_return std::move(*stop);
    const auto& votes = std::get<people::VoteState>(state);
    co_return done(call, 200, api::vote_document(votes.likes, votes.dislikes, votes.mine), back);
  }
  auto body = call.input.required_text("body");
  if (!body.ok()) co_return failed(call, body.error());
  auto parent = call.input.integer("parent");
  if (!parent.ok()) co_return failed(call, parent.error());
  if (Status valid = people::check_comment_body(*body); !valid.ok()) co_return failed(call, valid.error());
  if (auto stop = co_await over_limit(call, "comment", auth::limits::comment_per_account,
                                      auth::limits::comment_per_client)) {
    co_return std::move(*stop);
  }
  std::function<Result<catalog::Comment>(writes::Transaction&)> add =
      [user_id, video_id, body = std::move(*body), parent = parent->value_or(0), now](
          writes::Transaction& tx) { return people::add_comment(tx, user_id, video_id, body, parent, now); };
  auto added = co_await write<catalog::Comment>(call, std::move(add));
  if (auto* stop = std::get_if<http::Response>(&added)) co_return std::move(*stop);
  const auto& comment = std::get<catalog::Comment>(added);
  co_return done(call, 201, api::created_document(comment.id),
                 fmt::format("{}#comment-{}", back, comment.id));
}

Task<http::Response> PeopleRoutes::comment_call(const http::Request& request, int64_t comment_id) {
  auto begun = co_await begin_call(request, Needs::session);
  if (auto* stop = std::get_if<http::Response>(&begun)) co_return std::move(*stop);
  Call& call = std::get<Call>(begun);
  const int64_t user_id = call.session->user_id;
  const int64_t now = s_.clock.unix_seconds();
  if (call.input.method() == "PATCH") {
    auto body = call.input.required_text("body");
    if (!body.ok()) co_return failed(call, body.error());
    if (Status valid = people::check_comment_body(*body); !valid.ok()) co_return failed(call, valid.error());
    std::function<Result<catalog::Comment>(writes::Transaction&)> edit =
        [user_id, comment_id, body = std::move(*body), now](writes::Transaction& tx) {
          return people::edit_comment(tx, user_id, comment_id, body, now);
        };
    auto edited = co_await write<catalog::Comment>(call, std::move(edit));
    if (auto* stop = std::get_if<http::Response>(&edited)) co_return std::move(*stop);
    const auto& comment = std::get<catalog::Comment>(edited);
    co_return done(call, 200, api::comment_document(comment),
                   fmt::format("/watch/{}#comment-{}", comment.video_id, comment.id));
  }
  if (call.input.method() == "DELETE") {
    std::function<Result<bool>(writes::Transaction&)> remove =
        [user_id, comment_id](writes::Transaction& tx) -> Result<bool> {
      if (Status deleted = people::delete_comment(tx, user_id, comment_id); !deleted.ok())
        return deleted.error();
      return true;
    };
    auto removed = co_await write<bool>(call, std::move(remove));
    if (auto* stop = std::get_if<http::Response>(&removed)) co_return std::move(*stop);
    co_return done(call, 204, {}, "/");
  }
  co_return wrong_method("PATCH, DELETE");
}

Task<http::Response> PeopleRoutes::comments_page(const http::Request& request, int64_t video_id) {
  const std::string_view query = request.query();
  projection::CommentSort sort = projection::CommentSort::newest;
  if (auto text = http::query_param(query, "sort")) {
    auto parsed = projection::parse_comment_sort(*text);
    if (!parsed) co_return failed(nullptr, 400, "Unknown sort order: use new or top.");
    sort = *parsed;
  }
  const std::optional<int> page = page_number(query, "page", max_comment_page);
  if (!page)
    co_return failed(nullptr, 400, fmt::format("The page must be a number from 1 to {}.", max_comment_page));
  int64_t parent = 0;
  if (auto text = http::query_param(query, "parent")) {
    auto number = parse_id(*text);
    if (!number) co_return failed(nullptr, 400, "The parent must be a comment id.");
    parent = *number;
  }
  Result<projection::CommentPage> read = Error{"not read"};
  if (parent != 0) {
    read = co_await community_.replies(video_id, parent, *page, comments_per_page);
  } else {
    read = co_await community_.comments(video_id, sort, *page, comments_per_page);
  }
  if (!read.ok()) co_return failed(nullptr, 503, busy_message);
  if (*page > 1 && *page > read->pages)
    co_return failed(nullptr, 404, "That page is past the end of the list.");
  http::Response response = http::Response::json(200, api::comments_document(*read));
  // Comments are the same for everybody: a shared cache may keep them as long as a page.
  response.set("Cache-Control", "public, max-age=30");
  response.set("xkey", video_object(video_id));
  response.route = "api_comments";
  co_return response;
}

}  // namespace reel::app
