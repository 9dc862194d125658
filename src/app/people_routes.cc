// The people routes' shared parts (the caller, CSRF, answers) and the accounts and sessions calls.
#include "app/people_routes.h"

#include <fmt/format.h>

#include "api/json.h"
#include "app/view_recorder.h"
#include "auth/accounts.h"
#include "auth/validation.h"
#include "catalog/user.h"
#include "http/cookie.h"

namespace reel::app {
namespace {

http::Response no_store(http::Response response, std::string_view route) {
  response.set("Cache-Control", "no-store");
  response.route = route;
  return response;
}

}  // namespace

bool PeopleRoutes::over_https(const http::Request& request) const {
  // Behind trusted proxies the scheme is theirs to say; directly, Reel only speaks http.
  return s_.trusted_proxy_hops > 0 && request.header("X-Forwarded-Proto") == "https";
}

std::string PeopleRoutes::client(const http::Request& request) const {
  return auth::client_subject(client_address(request, s_.trusted_proxy_hops));
}

std::string PeopleRoutes::session_cookie_for(const http::Request& request, std::string_view id) const {
  http::CookieOptions options;
  options.secure = over_https(request);
  return http::set_cookie(session_cookie, id, options);
}

Task<Result<std::optional<auth::Session>>> PeopleRoutes::caller(const http::Request& request) {
  auto cookie = http::cookie(request, session_cookie);
  if (!cookie || cookie->empty()) co_return std::optional<auth::Session>{};
  std::string id(*cookie);
  Result<std::optional<auth::Session>> found = co_await s_.sessions.find(session_nodes_, id);
  const auto now = s_.clock.now();
  if (!found.ok()) {
    auto held = verified_.find(id);
    if (held != verified_.end() && now - held->second.at < s_.session_grace) {
      co_return std::optional<auth::Session>(held->second.session);
    }
    co_return found;
  }
  if (s_.session_grace.count() > 0) {
    if (*found) {
      if (verified_.size() >= max_verified) verified_.clear();
      verified_.insert_or_assign(std::move(id), Verified{**found, now});
    } else {
      verified_.erase(id);
    }
  }
  co_return found;
}

Task<std::optional<auth::Verdict>> PeopleRoutes::over_limits(const http::Request& request, int64_t user_id,
                                                             std::string_view scope, auth::Limit per_account,
                                                             auth::Limit per_client) {
  const std::string account = std::to_string(user_id);
  const std::string address = client(request);
  std::vector<auth::LimitCheck> checks{{scope, account, per_account}, {scope, address, per_client}};
  auto verdict = co_await s_.limits.check(sessions_, std::move(checks));
  if (!verdict.ok() || verdict->allowed) co_return std::nullopt;
  co_return *verdict;
}

Task<std::variant<PeopleRoutes::Call, http::Response>> PeopleRoutes::open_call(const http::Request& request) {
  Result<RequestInput> input = RequestInput::parse(request);
  if (!input.ok())
    co_return failed(nullptr, RequestInput::accepts(request) ? 400 : 415, input.error().message);
  Result<std::optional<auth::Session>> session = co_await caller(request);
  if (!session.ok()) co_return failed(nullptr, 503, busy_message);
  co_return Call{request, std::move(*input), std::move(*session)};
}

std::optional<http::Response> PeopleRoutes::refuse(const Call& call, Needs needs) const {
  constexpr std::string_view bad_token = "The request is missing its CSRF token or carries a wrong one.";
  if (needs == Needs::form_token) {
    if (!call.input.is_form()) return std::nullopt;
    auto cookie = http::cookie(call.request, form_cookie);
    if (s_.form_csrf == nullptr || !cookie || !s_.form_csrf->form_token_valid(*cookie, call.input.csrf())) {
      return failed(&call, 403, bad_token);
    }
    return std::nullopt;
  }
  if (!call.session) return failed(&call, 401, "Sign in first.");
  if (needs == Needs::session_read) return std::nullopt;
  // A call made with the cookie must prove it came from one of this site's pages.
  if (!auth::session_csrf_valid(call.session->csrf, call.input.csrf())) return failed(&call, 403, bad_token);
  return std::nullopt;
}

Task<std::variant<PeopleRoutes::Call, http::Response>> PeopleRoutes::begin_call(const http::Request& request,
                                                                                Needs needs) {
  auto opened = co_await open_call(request);
  if (auto* call = std::get_if<Call>(&opened)) {
    if (auto refusal = refuse(*call, needs)) co_return std::move(*refusal);
  }
  co_return opened;
}

http::Response PeopleRoutes::done(const Call& call, int status, std::string json,
                                  std::string_view fallback) const {
  if (!call.input.is_form()) {
    if (status == 204) return no_store(http::Response::text(204, ""), "people");
    return no_store(http::Response::json(status, std::move(json)), "people");
  }
  http::Response response = http::Response::text(303, "");
  response.set("Location", call.input.next(call.request, fallback));
  return no_store(std::move(response), "people");
}

http::Response PeopleRoutes::failed(const Call* call, int status, std::string_view message) const {
  http::Response response;
  if (call != nullptr && call->input.is_form()) {
    response = http::Response::html(status, s_.pages.error_page(status, http::reason(status), message, {}));
  } else {
    response = http::Response::json(status, api::error_document(status, message));
  }
  if (status == 503) response.set("Retry-After", "5");
  return no_store(std::move(response), "people");
}

http::Response PeopleRoutes::failed(const Call& call, const Error& error) const {
  switch (error.kind) {
    case ErrorKind::invalid_input:
      return failed(&call, 400, error.message);
    case ErrorKind::not_found:
      return failed(&call, 404, error.message);
    case ErrorKind::forbidden:
      return failed(&call, 403, error.message);
    case ErrorKind::internal:
      break;
  }
  return failed(&call, 503, busy_message);
}

http::Response PeopleRoutes::limited(const Call& call, const auth::Verdict& verdict) const {
  http::Response response = failed(&call, 429, "Too many attempts. Please wait a moment and try again.");
  response.set("Retry-After", std::to_string(verdict.retry_after_seconds()));
  return response;
}

Task<std::optional<http::Response>> PeopleRoutes::handle(const http::Request& request) {
  const std::string_view path = request.path();
  if (path == "/api/v1/users") co_return co_await users(request);
  if (path == "/api/v1/session") co_return co_await session_call(request);
  for (std::string_view collection : {"/api/v1/me/favorites", "/api/v1/me/subscriptions",
                                      "/api/v1/me/playlists", "/api/v1/me/feed", "/api/v1/playlists"}) {
    // The collection itself or an address under it (no string built: this runs on every request).
    if (path.starts_with(collection) &&
        (path.size() == collection.size() || path[collection.size()] == '/')) {
      if (auto answered = co_await collection_call(request, path)) co_return answered;
    }
  }
  if (path == "/api/v1/me" || path.starts_with("/api/v1/me/"))
    co_return co_await me(request, path.substr(10));
  if (path.starts_with("/api/v1/videos/")) {
    const std::string_view rest = path.substr(15);
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) co_return std::nullopt;
    auto id = parse_id(rest.substr(0, slash));
    if (!id) co_return std::nullopt;
    co_return co_await video_call(request, *id, rest.substr(slash + 1));
  }
  if (path.starts_with("/api/v1/comments/")) {
    auto id = parse_id(path.substr(17));
    if (!id) co_return failed(nullptr, 404, "There is no such comment.");
    co_return co_await comment_call(request, *id);
  }
  if (request.method == "GET" || request.method == "HEAD") {
    if (path == "/signin") co_return co_await entry_page(request, pages::EntryForm::signin);
    if (path == "/register") co_return co_await entry_page(request, pages::EntryForm::register_account);
    if (path == "/account") co_return co_await account_page(request);
    if (auto page = co_await collection_page(request, path)) co_return page;
  }
  co_return std::nullopt;
}

}  // namespace reel::app
