#include "app/upload_routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "api/json.h"
#include "app/request_input.h"
#include "auth/csrf.h"
#include "upload/multipart.h"

namespace reel::app {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view uploads_path = "/api/v1/uploads";

http::Response json_error(int status, std::string_view message) {
  http::Response response = http::Response::json(status, api::error_document(status, message));
  response.set("Cache-Control", "no-store");
  if (status == 401) response.set("WWW-Authenticate", "Bearer");
  if (status == 503) response.set("Retry-After", "5");
  response.route = "upload";
  return response;
}

constexpr std::string_view resumable_path = "/api/v1/uploads/resumable";

// A new name for a file being handed to ingest, in the uploads directory (which exists: the
// server made it at start, as the parent of the resumable sessions).
std::string incoming_path(const std::string& uploads_dir) {
  std::random_device random;
  return (fs::path(uploads_dir) / fmt::format("incoming-{:08x}{:08x}", random(), random())).string();
}

// A resumable route's answer with the session's offset (by default the one it had) and length.
http::Response with_offset(http::Response response, const upload::SessionInfo& session,
                           std::optional<uint64_t> offset = std::nullopt) {
  response.set("Upload-Offset", std::to_string(offset.value_or(session.offset)));
  response.set("Upload-Length", std::to_string(session.total_bytes));
  response.set("Cache-Control", "no-store");
  response.route = "upload";
  return response;
}

// What the multipart body holds, read on a pool thread.
struct Received {
  ingest::UploadForm form;
  std::string file;   // the file part copied out of the body, in the uploads directory
  std::string error;  // for a 400
  bool no_space = false;
  bool bad_csrf = false;  // a plain form whose `csrf` field is not the session's (403)
};

constexpr std::string_view bad_csrf_message = "The request is missing its CSRF token or carries a wrong one.";

// A POST of a new upload, plain or resumable: what the upload limits count.
bool starts_upload(const http::Request& head) {
  return head.method == "POST" && (head.path() == uploads_path || head.path() == resumable_path);
}

}  // namespace

bool UploadRoutes::streams_body(const http::Request& head) {
  return (head.method == "POST" && head.path() == uploads_path) ||
         (head.method == "PATCH" && head.path().starts_with(resumable_path));
}

Task<std::optional<http::Response>> UploadRoutes::screen(const http::Request& head) {
  std::optional<http::Response> refused = co_await check_before_body(head);
  if (refused) refused = for_client(head, std::move(*refused));
  co_return refused;
}

http::Response UploadRoutes::for_client(const http::Request& request, http::Response answer) const {
  if (answer.status < 400 || with_sessions_.pages == nullptr || !sent_by_plain_form(request)) return answer;
  return form_error_page(*with_sessions_.pages, answer);
}

Task<std::optional<http::Response>> UploadRoutes::check_before_body(const http::Request& head) {
  const std::string_view path = head.path();
  const bool resumable = path.starts_with(resumable_path) &&
                         (path.size() == resumable_path.size() || path[resumable_path.size()] == '/');
  if (!resumable && !(head.method == "POST" && path == uploads_path)) co_return std::nullopt;
  auto authorized = co_await authorize_upload(head);
  if (auto* refused = std::get_if<http::Response>(&authorized)) co_return std::move(*refused);
  const Uploader& who = std::get<Uploader>(authorized);
  if (!who.session || !starts_upload(head)) co_return std::nullopt;
  auto over = co_await with_sessions_.people->over_limits(
      head, who.session->user_id, "upload", with_sessions_.per_account, with_sessions_.per_client);
  if (!over) co_return std::nullopt;
  http::Response response = json_error(429, "Too many uploads. Please wait a while and try again.");
  response.set("Retry-After", std::to_string(over->retry_after_seconds()));
  co_return response;
}

bool UploadRoutes::may_upload(const auth::Session& session) const {
  return with_sessions_.anyone || session.role >= catalog::Role::uploader;
}

std::string UploadRoutes::Uploader::owner() const {
  if (session) return fmt::format("user:{}", session->user_id);
  return fmt::format("{}:{}", token->role == sql::TokenRole::admin ? "admin" : "user", token->user_id);
}

Task<UploadRoutes::Authorized> UploadRoutes::authorize(const http::Request& request) {
  const std::optional<std::string_view> authorization = request.header("Authorization");
  if (authorization || with_sessions_.people == nullptr) {
    const std::string_view token = ingest::bearer_token(authorization.value_or(""));
    if (token.empty())
      co_return json_error(401, "Send an API token (Authorization: Bearer TOKEN) or sign in.");
    Uploader who;
    if (auto known = tokens_.find(token)) {
      who.token = *known;
      co_return who;
    }
    auto grant = co_await ingest_.authenticate(token);
    if (!grant) co_return json_error(503, "The upload service is busy. Please try again in a moment.");
    if (!*grant) co_return json_error(401, "That API token is not valid.");
    tokens_.remember(token, **grant);
    who.token = **grant;
    co_return who;
  }
  auto session = co_await with_sessions_.people->caller(request);
  if (!session.ok()) co_return json_error(503, "The upload service is busy. Please try again in a moment.");
  if (!*session) co_return json_error(401, "Sign in, or send an API token (Authorization: Bearer TOKEN).");
  Uploader who;
  who.session = std::move(**session);
  // Reads change nothing; every other call made with the cookie proves it came from this site.
  if (request.method == "GET" || request.method == "HEAD") co_return who;
  if (auto presented = request.header("X-CSRF-Token")) {
    if (!auth::session_csrf_valid(who.session->csrf, *presented)) co_return json_error(403, bad_csrf_message);
    co_return who;
  }
  const bool plain_form = request.method == "POST" && request.path() == uploads_path &&
                          upload::boundary_from_content_type(request.header("Content-Type").value_or(""));
  if (!plain_form) co_return json_error(403, bad_csrf_message);
  who.csrf_in_form = true;
  co_return who;
}

Task<UploadRoutes::Authorized> UploadRoutes::authorize_upload(const http::Request& request) {
  auto authorized = co_await authorize(request);
  const auto* who = std::get_if<Uploader>(&authorized);
  if (who == nullptr) co_return authorized;
  if (who->token && who->token->role != sql::TokenRole::admin)
    co_return json_error(403, "Uploads need an admin token.");
  if (who->session && !may_upload(*who->session))
    co_return json_error(
        403, "Your account may not upload videos: an administrator can give it the uploader role.");
  co_return authorized;
}

Task<http::Response> UploadRoutes::create_video(ingest::UploadForm form, std::string file,
                                                const Uploader& who) {
  auto discard = [&file] {
    std::error_code ignored;
    fs::remove(file, ignored);
  };
  const int64_t now = clock_.unix_seconds();
  auto video = ingest::check_form(form, now);
  if (!video) {
    discard();
    co_return json_error(400, video.error().message);
  }
  // An account uploads to its own channel; the admin token to the one it names.
  ingest::Owner owner{.user_id = who.session ? who.session->user_id : 0,
                      .channel = who.session ? std::string() : form.channel};
  auto created = co_await ingest_.create(std::move(*video), std::move(owner), file, redis_, now * 1000);
  if (!created) {
    discard();
    co_return json_error(503, "The upload could not be queued. Please try again in a moment.");
  }
  if (auto* rejected = std::get_if<ingest::Rejected>(&*created)) {
    discard();
    co_return json_error(400, rejected->message);
  }
  const int64_t id = std::get<int64_t>(*created);
  if (who.csrf_in_form) {
    // A plain form (no JavaScript to follow the processing): to the channel, where it will show.
    http::Response response = http::Response::text(303, "");
    response.set("Location", "/channel/" + who.session->name);  // usernames are [a-z0-9_-]
    response.set("Cache-Control", "no-store");
    response.route = "upload";
    co_return response;
  }
  http::Response response = http::Response::json(201, api::upload_document(id));
  response.set("Location", fmt::format("/api/v1/videos/{}", id));
  response.set("Cache-Control", "no-store");
  response.route = "upload";
  co_return response;
}

Task<http::Response> UploadRoutes::upload(const http::Request& request) {
  http::Response answer = co_await receive(request);
  co_return for_client(request, std::move(answer));
}

Task<http::Response> UploadRoutes::receive(const http::Request& request) {
  auto authorized = co_await authorize_upload(request);
  if (auto* answer = std::get_if<http::Response>(&authorized)) co_return std::move(*answer);
  const Uploader who = std::get<Uploader>(authorized);
  if (request.body_file.empty())
    co_return json_error(400, "Send the video as multipart/form-data with a file field.");
  // A plain form's token, compared before the file is copied out of the body.
  const std::string expected_csrf = who.csrf_in_form ? who.session->csrf : std::string();

  const std::string uploads_dir = ingest_.options().uploads_dir;
  // Named, not a temporary inside the co_await: g++ 12 can destroy a coroutine's temporaries twice.
  std::function<Result<Received>(size_t)> read_form =
      [body = request.body_file, content_type = std::string(request.header("Content-Type").value_or("")),
       uploads_dir, expected_csrf](size_t) -> Result<Received> {
    Received out;
    auto parts = upload::parse_multipart(body, content_type);
    if (!parts) {
      out.error = parts.error().message;
      return out;
    }
    auto field = [&](std::string_view name) {
      const upload::Part* part = upload::find_part(*parts, name);
      return part != nullptr && !part->is_file() ? part->value : std::string();
    };
    if (!expected_csrf.empty() && !auth::session_csrf_valid(expected_csrf, field("csrf"))) {
      out.bad_csrf = true;
      return out;
    }
    out.form = {field("title"), field("description"), field("tags"), field("category"), field("channel")};
    const upload::Part* file = upload::find_part(*parts, "file");
    if (file == nullptr || !file->is_file()) {
      out.error = "The form has no file field named 'file'.";
      return out;
    }
    if (file->range.length == 0) {
      out.error = "The file is empty.";
      return out;
    }
    out.file = incoming_path(uploads_dir);
    auto copied = upload::extract(body, file->range, out.file, {.release_source = true});
    if (!copied) return copied.error();
    out.no_space = *copied == upload::Copied::no_space;
    return out;
  };
  auto received = co_await files_.run<Received>(std::move(read_form));
  if (!received) co_return json_error(503, "The upload could not be stored. Please try again.");
  if (received->bad_csrf) co_return json_error(403, bad_csrf_message);  // the server deletes the body
  if (received->no_space || !received->error.empty()) {
    std::error_code ignored;
    if (!received->file.empty()) fs::remove(received->file, ignored);
    co_return received->no_space ? json_error(507, "The server is out of disk space for uploads.")
                                 : json_error(400, received->error);
  }
  co_return co_await create_video(std::move(received->form), std::move(received->file), who);
}

Task<http::Response> UploadRoutes::remove_video(const http::Request& request, int64_t id) {
  auto answer = [](http::Response response) {
    response.route = "delete";
    return response;
  };
  auto authorized = co_await authorize(request);
  if (auto* refused = std::get_if<http::Response>(&authorized)) co_return answer(std::move(*refused));
  const Uploader& who = std::get<Uploader>(authorized);
  if (who.token && who.token->role != sql::TokenRole::admin) {
    co_return answer(json_error(403, "Deleting videos needs an admin token."));
  }
  if (who.session && who.session->role < catalog::Role::moderator) {
    // An account may delete its own videos.
    auto owner = co_await ingest_.owner_of(id);
    if (!owner)
      co_return answer(json_error(503, "The video could not be deleted now. Please try again in a moment."));
    if (!*owner) co_return answer(json_error(404, "There is no such video."));
    if (**owner != who.session->user_id)
      co_return answer(json_error(403, "You may delete only your own videos."));
  }
  auto removed = co_await ingest_.remove(id, redis_, clock_.unix_seconds() * 1000);
  if (!removed)
    co_return answer(json_error(503, "The video could not be deleted now. Please try again in a moment."));
  if (!*removed) co_return answer(json_error(404, "There is no such video."));
  http::Response response =
      http::Response::json(202, nlohmann::json{{"id", id}, {"status", "deleting"}}.dump());
  response.set("Cache-Control", "no-store");
  co_return answer(std::move(response));
}

Task<http::Response> UploadRoutes::resumable(const http::Request& request, std::string_view rest) {
  auto authorized = co_await authorize_upload(request);
  if (auto* answer = std::get_if<http::Response>(&authorized)) co_return std::move(*answer);
  const Uploader who = std::get<Uploader>(authorized);
  const std::string owner = who.owner();
  if (rest.empty()) {
    if (request.method != "POST") co_return json_error(405, "Start a resumable upload with POST.");
    co_return co_await start_resumable(request, owner);
  }

  const std::string id(rest.substr(1));
  std::function<Result<std::optional<upload::SessionInfo>>(size_t)> lookup = [this, id](size_t) {
    return sessions_.find(id);
  };
  auto session = co_await files_.run<std::optional<upload::SessionInfo>>(std::move(lookup));
  if (!session) co_return json_error(503, "The upload service is busy. Please try again in a moment.");
  if (!*session || (*session)->metadata.owner != owner) co_return json_error(404, "There is no such upload.");
  const upload::SessionInfo& info = **session;
  if (request.method == "HEAD" || request.method == "GET") {
    co_return with_offset(
        http::Response::json(
            200,
            nlohmann::json{{"upload", id}, {"offset", info.offset}, {"length", info.total_bytes}}.dump()),
        info);
  }
  if (request.method == "DELETE") co_return co_await cancel_resumable(id);
  if (request.method != "PATCH") co_return json_error(405, "Send the next bytes with PATCH.");
  co_return co_await append_resumable(request, info, who);
}

// POST …/resumable: `Upload-Length` and the form as JSON -> 201 with the session's Location.
Task<http::Response> UploadRoutes::start_resumable(const http::Request& request, const std::string& owner) {
  const std::optional<uint64_t> length =
      upload::parse_upload_number(request.header("Upload-Length").value_or(""));
  if (!length || *length == 0) co_return json_error(400, "Send the file's size in bytes as Upload-Length.");
  const uint64_t total = *length;
  auto meta = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object()) co_return json_error(400, "Send the form as a JSON object.");
  auto text = [&](const char* name) {
    auto it = meta.find(name);
    return it != meta.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  ingest::UploadForm form{text("title"), text("description"), text("tags"), text("category"), ""};
  auto checked = ingest::check_form(form, clock_.unix_seconds());
  if (!checked) co_return json_error(400, checked.error().message);
  upload::UploadMetadata metadata{
      checked->title, checked->description,
      checked->tags,  checked->categories.empty() ? "" : checked->categories.front(),
      owner,          ""};
  std::function<Result<std::string>(size_t)> start = [this, total, metadata](size_t) {
    return sessions_.create(total, metadata);
  };
  auto id = co_await files_.run<std::string>(std::move(start));
  if (!id && id.error().kind == ErrorKind::invalid_input) co_return json_error(413, id.error().message);
  if (!id) co_return json_error(503, "The upload could not be started. Please try again in a moment.");
  http::Response response = http::Response::json(201, nlohmann::json{{"upload", *id}, {"offset", 0}}.dump());
  response.set("Location", fmt::format("{}/{}", resumable_path, *id));
  response.set("Upload-Offset", "0");
  response.set("Cache-Control", "no-store");
  response.route = "upload";
  co_return response;
}

// DELETE …/resumable/{id}: 204 only once the session is gone.
Task<http::Response> UploadRoutes::cancel_resumable(const std::string& id) {
  std::function<Result<bool>(size_t)> cancel = [this, id](size_t) { return sessions_.cancel(id); };
  auto cancelled = co_await files_.run<bool>(std::move(cancel));
  if (!cancelled) {
    spdlog::warn("cancelling upload session {} failed: {}", id, cancelled.error().message);
    co_return json_error(503, "The upload could not be cancelled now. Please try again in a moment.");
  }
  // Gone meanwhile: its completing PATCH took it, or another DELETE removed it.
  if (!*cancelled) co_return json_error(404, "There is no such upload.");
  http::Response response;
  response.status = 204;
  response.route = "upload";
  co_return response;
}

// PATCH …/resumable/{id}: the next bytes at `Upload-Offset`; the PATCH that completes the upload
// creates its video.
Task<http::Response> UploadRoutes::append_resumable(const http::Request& request,
                                                    const upload::SessionInfo& info, const Uploader& who) {
  const std::optional<uint64_t> offset =
      upload::parse_upload_number(request.header("Upload-Offset").value_or(""));
  if (!offset) co_return json_error(400, "Send the offset of these bytes as Upload-Offset.");
  if (request.body_file.empty())
    co_return with_offset(json_error(400, "Send the next bytes as the body."), info);
  std::function<Result<upload::AppendResult>(size_t)> append = [this, id = info.id, offset = *offset,
                                                                body = request.body_file](size_t) {
    return sessions_.append_file(id, offset, body);
  };
  auto appended = co_await files_.run<upload::AppendResult>(std::move(append));
  if (!appended) co_return json_error(500, "The bytes could not be stored.");
  switch (appended->status) {
    case upload::AppendStatus::appended:
      break;
    case upload::AppendStatus::not_found:
      co_return json_error(404, "There is no such upload.");
    case upload::AppendStatus::offset_mismatch:
      co_return with_offset(json_error(409, "Resume from the Upload-Offset given."), info, appended->offset);
    case upload::AppendStatus::busy: {
      auto response = json_error(409, "Another request is adding to this upload.");
      response.set("Retry-After", "1");
      co_return response;
    }
    case upload::AppendStatus::beyond_total:
      co_return json_error(413, "These bytes go past Upload-Length.");
    case upload::AppendStatus::no_space:
      co_return json_error(507, "The server is out of disk space for uploads.");
  }
  if (appended->offset < info.total_bytes) {
    http::Response response;
    response.status = 204;
    co_return with_offset(std::move(response), info, appended->offset);
  }
  co_return co_await finish_resumable(info, who);
}

// The complete file leaves the session and becomes a video.
Task<http::Response> UploadRoutes::finish_resumable(const upload::SessionInfo& info, const Uploader& who) {
  const std::string file = incoming_path(ingest_.options().uploads_dir);
  std::function<Result<upload::TakeResult>(size_t)> take = [this, id = info.id, file](size_t) {
    return sessions_.take(id, file);
  };
  auto taken = co_await files_.run<upload::TakeResult>(std::move(take));
  if (!taken || taken->status != upload::TakeStatus::taken) {
    co_return json_error(409, "The upload is being finished by another request.");
  }
  std::string tags;
  for (const auto& tag : info.metadata.tags) tags += tag + ",";
  // Named, not braced inside the co_await: g++ 12 can destroy such a temporary twice (STYLE.md).
  ingest::UploadForm form{info.metadata.title, info.metadata.description, tags, info.metadata.category, ""};
  co_return co_await create_video(std::move(form), file, who);
}

}  // namespace reel::app
