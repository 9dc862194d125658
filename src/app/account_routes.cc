// The accounts and sessions calls of PeopleRoutes (people_routes.h lists them).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/json.h"
#include "app/people_routes.h"
#include "auth/accounts.h"
#include "auth/validation.h"
#include "catalog/user.h"
#include "common/log_failure.h"
#include "common/text.h"
#include "http/cookie.h"
#include "http/url.h"
#include "people/collections.h"
#include "people/community.h"
#include "sql/catalog_store.h"

namespace reel::app {
namespace {

std::string user_json(const catalog::User& user) {
  return api::user_document(user.id, user.name, user.display_name, catalog::role_name(user.role));
}

// What goes with an account, besides the account itself (auth::delete_account).
std::span<const auth::AccountRemovalStep> account_removal_steps() {
  static const std::vector<auth::AccountRemovalStep> steps{
      [](writes::Transaction& tx, const catalog::User& user) {
        return people::remove_votes_and_comments(tx, user.id);
      },
  };
  return steps;
}

// The cookie that ends the session cookie in the browser.
std::string cleared_session_cookie() {
  http::CookieOptions options;
  options.max_age = 0;
  return http::set_cookie(session_cookie, "", options);
}

}  // namespace

http::Response PeopleRoutes::wrong_method(std::string_view allow) const {
  http::Response response = failed(nullptr, 405, fmt::format("This address answers {}.", allow));
  response.set("Allow", allow);
  return response;
}

Task<Result<std::vector<projection::CategoryLink>>> PeopleRoutes::nav() {
  projection::ListQuery query;
  query.per_page = 1;
  auto listing = co_await model_.listing(query);
  if (!listing.ok()) co_return listing.error();
  co_return (*listing)->nav;
}

std::string PeopleRoutes::mint_form_token(const http::Request& request, http::Response& response) const {
  if (s_.form_csrf == nullptr) return {};
  std::string token = s_.form_csrf->form_token();
  http::CookieOptions options;
  options.secure = over_https(request);
  options.same_site = "Strict";
  response.add("Set-Cookie", http::set_cookie(form_cookie, token, options));
  return token;
}

Task<Result<auth::NewSession>> PeopleRoutes::start_session(const http::Request& request, int64_t user_id) {
  const std::string presented(http::cookie(request, session_cookie).value_or(""));
  co_return co_await s_.sessions.create(sessions_, user_id, presented);
}

Task<http::Response> PeopleRoutes::users(const http::Request& request) {
  if (request.method != "POST") co_return wrong_method("POST");
  auto begun = co_await begin_call(request, Needs::form_token);
  if (auto* stop = std::get_if<http::Response>(&begun)) co_return std::move(*stop);
  Call& call = std::get<Call>(begun);
  const std::string subject = client(request);
  std::vector<auth::LimitCheck> checks{{"register", subject, auth::limits::register_per_client}};
  auto verdict = co_await s_.limits.check(sessions_, std::move(checks));
  if (!verdict.ok()) co_return failed(&call, 503, busy_message);
  if (!verdict->allowed) co_return limited(call, *verdict);
  auto username = call.input.required_text("username");
  auto email = call.input.required_text("email");
  auto password = call.input.required_text("password");
  for (auto* field : {&username, &email, &password}) {
    if (!field->ok()) co_return failed(call, field->error());
  }
  auto account = auth::prepare_registration(*username, *email, *password);
  if (!account.ok()) {
    if (call.input.is_form())
      co_return co_await entry_page(request, pages::EntryForm::register_account, account.error().message);
    co_return failed(call, account.error());
  }
  auto hash = co_await s_.hasher.hash(s_.hashing, std::move(*password));
  if (!hash.ok()) co_return failed(&call, 503, busy_message);
  const int64_t now = s_.clock.unix_seconds();
  std::function<Result<auth::Registered>(writes::Transaction&)> registration =
      [account = *account, hash = *hash, now](writes::Transaction& tx) {
        return auth::register_account(tx, account, hash, now);
      };
  auto registered = co_await write<auth::Registered>(call, std::move(registration));
  if (auto* stop = std::get_if<http::Response>(&registered)) co_return std::move(*stop);
  const auto& user = std::get<auth::Registered>(registered).user;
  if (!user) {
    if (call.input.is_form())
      co_return co_await entry_page(request, pages::EntryForm::register_account,
                                    std::string(auth::taken_message));
    co_return failed(&call, 409, auth::taken_message);
  }
  if (!call.input.is_form()) co_return done(call, 201, user_json(*user), "/");
  // The register form signs the new user in.
  auto session = co_await start_session(request, user->id);
  http::Response response = done(call, 201, {}, "/");
  if (session.ok()) response.add("Set-Cookie", session_cookie_for(request, session->id));
  co_return response;
}

Task<http::Response> PeopleRoutes::session_call(const http::Request& request) {
  if (request.method != "POST" && request.method != "DELETE") co_return wrong_method("POST, DELETE");
  auto opened = co_await open_call(request);
  if (auto* stop = std::get_if<http::Response>(&opened)) co_return std::move(*stop);
  Call& call = std::get<Call>(opened);
  if (call.input.method() == "DELETE") {
    if (auto refusal = refuse(call, Needs::session)) co_return std::move(*refusal);
    const std::string id(http::cookie(request, session_cookie).value_or(""));
    if (Status revoked = co_await s_.sessions.revoke(sessions_, id); !revoked.ok())
      co_return failed(&call, 503, busy_message);
    http::Response response = done(call, 204, {}, "/");
    response.add("Set-Cookie", cleared_session_cookie());
    co_return response;
  }
  if (call.input.method() != "POST") co_return wrong_method("POST, DELETE");
  if (auto refusal = refuse(call, Needs::form_token)) co_return std::move(*refusal);
  auto username = call.input.required_text("username");
  auto password = call.input.required_text("password");
  for (auto* field : {&username, &password}) {
    if (!field->ok()) co_return failed(call, field->error());
  }
  const std::string subject = client(request);
  std::vector<auth::LimitCheck> checks{{"signin", subject, auth::limits::sign_in_per_client}};
  auto verdict = co_await s_.limits.check(sessions_, std::move(checks));
  if (!verdict.ok()) co_return failed(&call, 503, busy_message);
  if (!verdict->allowed) co_return limited(call, *verdict);
  // Locked per account (as typed, lower-cased: an impossible name is counted like a real one).
  std::string account(trim(*username));
  for (char& c : account) c = ascii_lower(c);
  auto unlocked = co_await s_.guard.check(sessions_, account, subject);
  if (!unlocked.ok()) co_return failed(&call, 503, busy_message);
  if (!unlocked->allowed) co_return limited(call, *unlocked);
  auto check = co_await auth::check_sign_in(s_.sql, s_.hashing, s_.hasher, *username, std::move(*password));
  if (!check.ok()) co_return failed(&call, 503, busy_message);
  if (!check->user) {
    log_failure(co_await s_.guard.failed(sessions_, account, subject), "counting a failed sign-in");
    if (call.input.is_form())
      co_return co_await entry_page(request, pages::EntryForm::signin,
                                    std::string(auth::sign_in_failed_message));
    co_return failed(&call, 401, auth::sign_in_failed_message);
  }
  const catalog::User& user = *check->user;
  log_failure(co_await s_.guard.succeeded(sessions_, account, subject), "recording a sign-in");
  auto session = co_await start_session(request, user.id);
  if (!session.ok()) co_return failed(&call, 503, busy_message);
  co_return signed_in(call, *session, user, "/");
}

Task<http::Response> PeopleRoutes::me(const http::Request& request, std::string_view rest) {
  if (rest.empty() && (request.method == "GET" || request.method == "HEAD")) {
    auto session = co_await caller(request);
    if (!session.ok()) co_return failed(nullptr, 503, busy_message);
    if (!*session) co_return failed(nullptr, 401, "Sign in first.");
    const auth::Session& me = **session;
    http::Response response = http::Response::json(
        200, api::user_document(me.user_id, me.name, me.display_name, catalog::role_name(me.role)));
    response.set("Cache-Control", "private, no-store");
    response.route = "people";
    co_return response;
  }
  auto begun = co_await begin_call(request, Needs::session);
  if (auto* stop = std::get_if<http::Response>(&begun)) co_return std::move(*stop);
  Call& call = std::get<Call>(begun);
  const auth::Session& me = *call.session;
  const std::string& method = call.input.method();
  const int64_t now = s_.clock.unix_seconds();

  if (rest.empty() && method == "PATCH") {
    auto typed = call.input.required_text("display_name");
    if (!typed.ok()) co_return failed(call, typed.error());
    auto display_name = auth::normalize_display_name(*typed);
    if (!display_name.ok()) co_return failed(call, display_name.error());
    std::function<Result<bool>(writes::Transaction&)> rename =
        [id = me.user_id, name = *display_name](writes::Transaction& tx) {
          return auth::set_display_name(tx, id, name);
        };
    auto renamed = co_await write<bool>(call, std::move(rename));
    if (auto* stop = std::get_if<http::Response>(&renamed)) co_return std::move(*stop);
    co_return done(call, 200,
                   api::user_document(me.user_id, me.name, *display_name, catalog::role_name(me.role)),
                   "/account");
  }
  if ((rest.empty() && method == "DELETE") || (rest == "/password" && method == "PUT")) {
    // Both need the current password again: a stolen session alone cannot do either.
    const bool deleting = rest.empty();
    auto current = call.input.required_text(deleting ? "password" : "old_password");
    if (!current.ok()) co_return failed(call, current.error());
    std::string new_password;
    if (!deleting) {
      auto typed = call.input.required_text("password");
      if (!typed.ok()) co_return failed(call, typed.error());
      if (Status valid = auth::check_password(*typed); !valid.ok()) co_return failed(call, valid.error());
      new_password = std::move(*typed);
    }
    auto check =
        co_await auth::check_password_of(s_.sql, s_.hashing, s_.hasher, me.user_id, std::move(*current));
    if (!check.ok()) co_return failed(&call, 503, busy_message);
    if (!check->user) co_return failed(&call, 403, "The password is wrong.");
    if (deleting) {
      std::function<Result<bool>(writes::Transaction&)> remove = [id = me.user_id,
                                                                  now](writes::Transaction& tx) {
        return auth::delete_account(tx, id, now, account_removal_steps());
      };
      auto removed = co_await write<bool>(call, std::move(remove));
      if (auto* stop = std::get_if<http::Response>(&removed)) co_return std::move(*stop);
      // The account's videos go the way of any deleted video: withdrawn now, files and rows by
      // their delete jobs. One that fails here stays listed until an operator deletes it.
      if (s_.ingest != nullptr) {
        std::function<Result<std::vector<int64_t>>(sql::Connection&)> list =
            [id = me.user_id](sql::Connection& db) { return sql::CatalogStore(db).live_video_ids(id); };
        auto videos = co_await s_.sql.run<std::vector<int64_t>>(std::move(list));
        log_failure(videos, "listing a deleted account's videos");
        const std::vector<int64_t> ids = videos.ok() ? std::move(*videos) : std::vector<int64_t>{};
        for (int64_t video : ids) {
          log_failure(co_await s_.ingest->remove(video, redis_, s_.clock.unix_ms()),
                      "deleting a deleted account's video");
        }
      }
      http::Response response = done(call, 204, {}, "/");
      response.add("Set-Cookie", cleared_session_cookie());
      co_return response;
    }
    auto hash = co_await s_.hasher.hash(s_.hashing, std::move(new_password));
    if (!hash.ok()) co_return failed(&call, 503, busy_message);
    std::function<Result<bool>(writes::Transaction&)> change = [id = me.user_id, hash = *hash,
                                                                now](writes::Transaction& tx) {
      return auth::change_password(tx, id, hash, now);
    };
    auto changed = co_await write<bool>(call, std::move(change));
    if (auto* stop = std::get_if<http::Response>(&changed)) co_return std::move(*stop);
    // Every session ended with the change; this device gets a new one.
    auto session = co_await start_session(request, me.user_id);
    if (!session.ok()) co_return failed(&call, 503, busy_message);
    co_return signed_in(call, *session, *check->user, "/account");
  }
  if (rest == "/sessions" && method == "DELETE") {
    if (Status revoked = co_await s_.sessions.revoke_all(sessions_, me.user_id); !revoked.ok()) {
      co_return failed(&call, 503, busy_message);
    }
    http::Response response = done(call, 204, {}, "/signin");
    response.add("Set-Cookie", cleared_session_cookie());
    co_return response;
  }
  if (rest.empty()) co_return wrong_method("GET, PATCH, DELETE");
  if (rest == "/password") co_return wrong_method("PUT");
  if (rest == "/sessions") co_return wrong_method("DELETE");
  co_return failed(&call, 404, "There is no such address.");
}

Task<http::Response> PeopleRoutes::entry_page(const http::Request& request, pages::EntryForm which,
                                              std::string message) {
  auto categories = co_await nav();
  if (!categories.ok()) co_return failed(nullptr, 503, busy_message);
  http::Response cookies;
  pages::FormPage form;
  form.form_token = mint_form_token(request, cookies);
  form.message = std::move(message);
  auto next = http::query_param(request.query(), "next");
  form.next = next && is_local_path(*next) ? *next : "/";
  const bool signin = which == pages::EntryForm::signin;
  const int status = form.message.empty() ? 200 : signin ? 401 : 400;
  http::Response page = http::Response::html(status, s_.pages.entry_form(which, form, *categories));
  for (const auto& header : cookies.headers) page.add(header.name, header.value);
  page.set("Cache-Control", "no-store");
  page.route = signin ? "signin" : "register";
  co_return page;
}

http::Response PeopleRoutes::signed_in(const Call& call, const auth::NewSession& session,
                                       const catalog::User& user, std::string_view fallback) const {
  http::Response response = done(call, 200,
                                 api::session_document(session.csrf, user.id, user.name, user.display_name,
                                                       catalog::role_name(user.role)),
                                 fallback);
  response.add("Set-Cookie", session_cookie_for(call.request, session.id));
  return response;
}

Task<http::Response> PeopleRoutes::account_page(const http::Request& request) {
  auto session = co_await caller(request);
  if (!session.ok()) co_return failed(nullptr, 503, busy_message);
  if (!*session) co_return sign_in_first("/account", "account");
  auto categories = co_await nav();
  if (!categories.ok()) co_return failed(nullptr, 503, busy_message);
  const auth::Session& me = **session;
  pages::Frame frame{.viewer = {me.user_id, me.name, me.display_name, me.csrf}};
  http::Response page = http::Response::html(200, s_.pages.account(frame, {}, *categories));
  page.set("Cache-Control", "private, no-store");
  page.route = "account";
  co_return page;
}

}  // namespace reel::app
