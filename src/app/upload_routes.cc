#include "app/upload_routes.h"

#include <filesystem>
#include <random>

#include <fmt/format.h>

#include "api/json.h"
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

// What the multipart body holds, read on a pool thread.
struct Received {
  ingest::UploadForm form;
  std::string file;    // the file part copied out of the body, in the uploads directory
  std::string error;   // for a 400
  bool no_space = false;
};

}  // namespace

bool UploadRoutes::streams_body(const http::Request& head) {
  return head.method == "POST" && head.path() == uploads_path;
}

Task<http::Response> UploadRoutes::upload(const http::Request& request) {
  const std::string_view token = ingest::bearer_token(request.header("Authorization").value_or(""));
  if (token.empty()) co_return json_error(401, "Send an API token: Authorization: Bearer TOKEN.");
  auto grant = co_await ingest_.authenticate(token);
  if (!grant) co_return json_error(503, "The upload service is busy. Please try again in a moment.");
  if (!*grant) co_return json_error(401, "That API token is not valid.");
  if (request.body_file.empty()) co_return json_error(400, "Send the video as multipart/form-data with a file field.");

  const std::string uploads_dir = ingest_.options().uploads_dir;
  // Named, not a temporary inside the co_await: g++ 12 can destroy a coroutine's temporaries twice.
  std::function<Result<Received>(sql::Connection&)> read_form =
      [body = request.body_file, content_type = std::string(request.header("Content-Type").value_or("")),
       uploads_dir](sql::Connection&) -> Result<Received> {
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
        std::error_code ec;
        fs::create_directories(uploads_dir, ec);
        std::random_device random;
        out.file = (fs::path(uploads_dir) / fmt::format("incoming-{:08x}{:08x}", random(), random())).string();
        auto copied = upload::extract(body, file->range, out.file, {.release_source = true});
        if (!copied) return copied.error();
        out.no_space = *copied == upload::Copied::no_space;
        return out;
      };
  auto received = co_await pool_.run<Received>(std::move(read_form));
  if (!received) co_return json_error(503, "The upload could not be stored. Please try again.");
  auto discard = [&] {
    std::error_code ignored;
    if (!received->file.empty()) fs::remove(received->file, ignored);
  };
  if (received->no_space) {
    discard();
    co_return json_error(507, "The server is out of disk space for uploads.");
  }
  if (!received->error.empty()) {
    discard();
    co_return json_error(400, received->error);
  }
  const int64_t now = clock_.unix_seconds();
  auto video = ingest::check_form(received->form, now);
  if (!video) {
    discard();
    co_return json_error(400, video.error().message);
  }
  auto created = co_await ingest_.create(std::move(*video), received->form.channel, **grant, received->file, redis_,
                                         now * 1000);
  if (!created) {
    discard();
    co_return json_error(503, "The upload could not be queued. Please try again in a moment.");
  }
  if (auto* rejected = std::get_if<ingest::Rejected>(&*created)) {
    discard();
    co_return json_error((**grant).role == sql::TokenRole::admin ? 400 : 403, rejected->message);
  }
  const int64_t id = std::get<int64_t>(*created);
  http::Response response = http::Response::json(201, api::upload_document(id));
  response.set("Location", fmt::format("/api/v1/videos/{}", id));
  response.set("Cache-Control", "no-store");
  response.route = "upload";
  co_return response;
}

}  // namespace reel::app
