#include "app/router.h"

#include <algorithm>
#include <charconv>

#include "api/json.h"
#include "app/people_routes.h"
#include "app/request_input.h"
#include "app/upload_routes.h"
#include "common/text.h"
#include "http/url.h"

namespace reel::app {
namespace {

using projection::ListKind;
using projection::Period;
using projection::Sort;

constexpr std::string_view page_cache = "public, max-age=30";
constexpr std::string_view browser_page_cache = "private, max-age=30";
constexpr int comments_per_page = 20;
// The replies a watch page shows under the comment opened (?replies=); the API pages through more.
constexpr int replies_shown = 50;
constexpr std::string_view api_prefix = "/api/v1/videos";
constexpr std::string_view beacon_prefix = "/api/v1/videos/";
constexpr std::string_view resumable_prefix = "/api/v1/uploads/resumable";
// A transparent 1x1 GIF: the no-JS view beacon's answer.
constexpr unsigned char pixel_gif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
                                       0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
                                       0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
                                       0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

struct ParsedQuery {
  projection::ListQuery query;
  std::string error;  // non-empty: what is wrong
};

ParsedQuery parse_list_query(std::string_view query_string, ListKind kind) {
  ParsedQuery out;
  auto& q = out.query;
  q.kind = kind;
  if (auto error = malformed_param(query_string, {"sort", "period", "duration", "category"})) {
    out.error = std::move(*error);
    return out;
  }
  // Tags and channels keep only the newest and all-time most viewed lists.
  const bool short_list = kind == ListKind::tag || kind == ListKind::channel;
  if (auto text = http::query_param(query_string, "sort")) {
    auto sort = projection::parse_sort(*text);
    if (!sort || (short_list && *sort != Sort::newest && *sort != Sort::views)) {
      out.error = short_list ? "Unknown sort order: use newest or views."
                             : "Unknown sort order: use newest, trending, views, rating or duration.";
      return out;
    }
    q.sort = *sort;
  }
  for (auto error : {read_period(query_string, &q.period), read_duration(query_string, &q.duration),
                     read_page(query_string, &q.page)}) {
    if (error) {
      out.error = std::move(*error);
      return out;
    }
  }
  // With the views sort the period is the window views were counted in, which tags and channels
  // do not keep; with any other sort it filters by upload time.
  if (short_list && q.sort == Sort::views && q.period != Period::all) {
    out.error = "Tags and channels count views over all time only: use period=all with sort=views.";
    return out;
  }
  // /videos?category=music is /category/music (the listing pages' combined filters).
  if (auto text = http::query_param(query_string, "category"); text && kind == ListKind::all) {
    if (!text->empty()) {
      if (!catalog::valid_name(*text)) {
        out.error = "There is no such category.";
        return out;
      }
      q.kind = ListKind::category;
      q.name = std::string(*text);
    }
  }
  return out;
}

// A playlist or VTT file to rewrite is read whole; a VOD playlist of a long film is ~100 KiB.
constexpr size_t max_playlist_bytes = 4 << 20;

// The watch page's and API's own media URLs (renditions, HLS, seek-preview VTT, preview clip).
// Related cards' previews are signed by the renderer, which caches each card's HTML.
void sign_media(projection::VideoPage& video, const media::LinkSigner& links, int64_t now) {
  if (!links.enabled()) return;
  const int64_t expires = links.expiry(now);
  for (auto& file : video.files) file.url = links.url(file.url, expires);
  for (std::string* url : {&video.hls_url, &video.sprite_vtt_url, &video.preview_url}) {
    if (!url->empty()) *url = links.url(*url, expires);
  }
}

http::Response media_refusal(int status, std::string_view message) {
  http::Response response = http::Response::text(status, std::string(message) + "\n");
  response.set("Cache-Control", "no-store");
  response.route = "media";
  return response;
}

}  // namespace

http::Response Router::error(int status, std::string_view message, bool api) const {
  http::Response response =
      api ? http::Response::json(status, api::error_document(status, message))
          : http::Response::html(status, s_.pages.error_page(status, http::reason(status), message, {}));
  if (status == 503) response.set("Retry-After", "5");
  if (status == 405) response.set("Allow", "GET, HEAD");
  response.set("Cache-Control", "no-store");
  response.route = "error";
  return response;
}

Task<http::Response> Router::handle(const http::Request& request) {
  const std::string_view path = request.path();
  const bool api = path.starts_with("/api/");
  if (request.target.size() > max_target_bytes) co_return error(414, "The address is too long.", api);

  if (path.starts_with("/static/")) {
    auto response = s_.static_files.serve(request, path.substr(8));
    response.route = "static";
    co_return response;
  }
  if (path.starts_with("/media/")) co_return media(request, path);
  if (auto written = co_await write_route(request, path)) co_return std::move(*written);
  if (s_.people != nullptr) {
    if (auto answered = co_await s_.people->handle(request)) co_return std::move(*answered);
  }
  if (request.method != "GET" && request.method != "HEAD") {
    co_return error(405, "This address only answers GET and HEAD.", api);
  }
  if (path == "/healthz") {
    auto response = http::Response::text(200, "ok\n");
    response.route = "healthz";
    co_return response;
  }
  if (path == "/readyz") co_return co_await ready();
  if (path == "/metrics") {
    auto response = http::Response::text(200, s_.metrics ? s_.metrics() : std::string());
    response.set("Content-Type", "text/plain; version=0.0.4");
    response.route = "metrics";
    co_return response;
  }
  if (path == "/") co_return co_await home(request);
  if (path == "/upload") co_return co_await upload_page(request);
  if (path == "/search") co_return co_await search(request, false);
  if (path == "/api/v1/search") co_return co_await search(request, true);
  if (path == "/api/v1/suggest") co_return suggest(request);
  if (path == "/opensearch.xml") co_return opensearch(request);
  if (path.starts_with("/fragments/")) co_return co_await fragment(request, path.substr(11));
  if (path == "/videos" || path == api_prefix) {
    // Named, not temporaries in the co_await (STYLE.md).
    std::string no_name, base(path);
    co_return co_await listing(request, ListKind::all, std::move(no_name), std::move(base),
                               path == api_prefix);
  }
  if (path.starts_with("/api/v1/videos/"))
    co_return co_await watch(request, path.substr(api_prefix.size() + 1), true);
  if (path.starts_with("/watch/")) co_return co_await watch(request, path.substr(7), false);
  co_return co_await named_listing(request, path, api);
}

Task<std::optional<http::Response>> Router::write_route(const http::Request& request, std::string_view path) {
  if (path.starts_with(resumable_prefix) &&
      (path.size() == resumable_prefix.size() || path[resumable_prefix.size()] == '/')) {
    if (s_.uploads == nullptr) co_return error(503, "Uploads are not available right now.", true);
    co_return co_await s_.uploads->resumable(request, path.substr(resumable_prefix.size()));
  }
  if (path == "/api/v1/uploads") {
    if (request.method != "POST") {
      auto response = error(405, "Upload with POST.", true);
      response.set("Allow", "POST");
      co_return response;
    }
    if (s_.uploads == nullptr) co_return error(503, "Uploads are not available right now.", true);
    co_return co_await s_.uploads->upload(request);
  }
  if (!path.starts_with(beacon_prefix)) co_return std::nullopt;
  std::string_view rest = path.substr(beacon_prefix.size());
  size_t slash = rest.find('/');
  std::string_view action = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (action == "/view" || action == "/view.gif") {
    const bool pixel = action == "/view.gif";
    if (request.method != (pixel ? "GET" : "POST")) {
      auto response =
          error(405, pixel ? "Load this image with GET." : "Send the view beacon with POST.", true);
      response.set("Allow", pixel ? "GET" : "POST");
      co_return response;
    }
    co_return co_await view_beacon(request, rest.substr(0, slash), pixel);
  }
  if (slash != std::string_view::npos || request.method == "GET" || request.method == "HEAD")
    co_return std::nullopt;
  if (request.method == "POST") {
    auto id = parse_id(rest);
    if (id && s_.uploads != nullptr) {
      if (auto from_form = co_await form_delete(request, *id)) co_return std::move(*from_form);
    }
  }
  if (request.method != "DELETE") {
    auto response = error(405, "A video answers GET, HEAD and DELETE.", true);
    response.set("Allow", "GET, HEAD, DELETE");
    co_return response;
  }
  if (s_.uploads == nullptr) co_return error(503, "Deleting is not available right now.", true);
  auto id = parse_id(rest);
  if (!id) co_return error(404, "There is no such video.", true);
  co_return co_await s_.uploads->remove_video(request, *id);
}

// The "my videos" page deletes with a plain form: POST, `_method=DELETE`, its CSRF token as the
// field `csrf`. That is DELETE /api/v1/videos/{id} with the token as X-CSRF-Token, answered with a
// redirect back (`next`) or an error page. nullopt for a POST that is not such a form.
Task<std::optional<http::Response>> Router::form_delete(const http::Request& request, int64_t id) {
  auto input = RequestInput::parse(request);
  if (!input.ok() || !input->is_form() || input->method() != "DELETE") co_return std::nullopt;
  http::Request as_delete = request;
  as_delete.method = "DELETE";
  std::erase_if(as_delete.headers,
                [](const http::Header& header) { return iequals(header.name, "X-CSRF-Token"); });
  as_delete.headers.push_back({"X-CSRF-Token", input->csrf()});
  http::Response answered = co_await s_.uploads->remove_video(as_delete, id);
  if (answered.status != 202) co_return form_error_page(s_.pages, answered);
  http::Response back = http::Response::text(303, "");
  back.set("Location", input->next(request, "/me/videos"));
  back.set("Cache-Control", "no-store");
  back.route = "delete";
  co_return back;
}

Task<http::Response> Router::named_listing(const http::Request& request, std::string_view path, bool api) {
  struct Prefix {
    std::string_view prefix;
    ListKind kind;
  };
  for (auto [prefix, kind] : {Prefix{"/category/", ListKind::category}, Prefix{"/tag/", ListKind::tag},
                              Prefix{"/channel/", ListKind::channel}}) {
    if (!path.starts_with(prefix)) continue;
    auto name = http::percent_decode(path.substr(prefix.size()));
    if (!name || !catalog::valid_name(*name)) co_return error(404, "There is no such page.", false);
    std::string base(path);
    co_return co_await listing(request, kind, std::move(*name), std::move(base), false);
  }
  co_return error(404, "There is no such page.", api);
}

Task<Result<pages::Frame>> Router::frame_for(const http::Request& request, bool api) {
  pages::Frame frame;
  if (api) co_return frame;
  auto capability = request.header("Surrogate-Capability");
  frame.esi = capability && capability->find("ESI/1.0") != std::string_view::npos;
  if (frame.esi || s_.people == nullptr) co_return frame;
  auto session = co_await s_.people->caller(request);
  if (!session.ok()) co_return session.error();
  if (*session) {
    const auth::Session& me = **session;
    frame.viewer = {me.user_id, me.name, me.display_name, me.csrf};
  }
  co_return frame;
}

http::Response Router::page_response(http::Response response, const pages::Frame& frame, const PageTags& tags,
                                     Sharing sharing) {
  if (frame.viewer.id != 0) {
    response.set("Cache-Control", "private, no-cache");
  } else if (sharing == Sharing::browser_only) {
    response.set("Cache-Control", browser_page_cache);
  } else {
    response.set("Cache-Control", page_cache);
    if (!tags.empty()) response.set("xkey", tags.text());
  }
  if (frame.esi) response.set("Surrogate-Control", "content=\"ESI/1.0\"");
  return response;
}

Task<http::Response> Router::home(const http::Request& request) {
  auto frame = co_await frame_for(request);
  if (!frame) co_return error(503, busy_message, false);
  auto home = co_await s_.model.home();
  if (!home) co_return error(503, busy_message, false);
  PageTags tags;
  tags.add(all_lists_object).add((*home)->popular).add((*home)->newest);
  auto response = page_response(
      http::Response::html(200, s_.pages.home(**home, s_.clock.unix_seconds(), *frame)), *frame, tags);
  response.route = "home";
  co_return response;
}

Task<http::Response> Router::fragment(const http::Request& request, std::string_view path) {
  if (s_.people == nullptr) co_return error(404, "There is no such page.", false);
  auto session = co_await s_.people->caller(request);
  if (!session) co_return error(503, busy_message, false);
  pages::Viewer viewer;
  if (*session) viewer = {(*session)->user_id, (*session)->name, (*session)->display_name, (*session)->csrf};
  http::Response response;
  int64_t video_id = 0;  // the video the fragment shows
  if (path == "user-bar") {
    response = http::Response::html(200, s_.pages.user_bar(viewer));
  } else if (path.starts_with("watch/")) {
    auto id = parse_id(path.substr(6));
    if (!id) co_return error(404, "There is no such video.", false);
    video_id = *id;
    auto video = co_await s_.model.video(*id);
    if (!video) co_return error(503, busy_message, false);
    if (!*video) co_return error(404, "There is no such video.", false);
    const pages::WatchActions actions =
        co_await s_.people->watch_actions(viewer, *id, (*video)->channel_name);
    response =
        http::Response::html(200, s_.pages.watch_actions(*id, (*video)->channel_name, viewer, actions));
  } else if (path.starts_with("comment-form/")) {
    auto id = parse_id(path.substr(13));
    if (!id) co_return error(404, "There is no such video.", false);
    response = http::Response::html(200, s_.pages.comment_form(*id, viewer));
  } else {
    co_return error(404, "There is no such page.", false);
  }
  // A viewer's own parts are for that viewer only; an anonymous one is the same for everybody
  // (and shows a video's counts: tagged with it, as its page is).
  response.set("Cache-Control", viewer.id != 0 ? "private, no-cache" : page_cache);
  if (viewer.id == 0 && video_id != 0) response.set("xkey", video_object(video_id));
  response.route = "fragment";
  co_return response;
}

// The upload form for a viewer who may upload; otherwise a sign-in redirect, or a page saying
// why not (403). Personal (no-store), so never split into ESI fragments: the session is looked up
// here, with the role the form depends on. Its category menu is the nav, read with the smallest
// listing (one card).
Task<http::Response> Router::upload_page(const http::Request& request) {
  pages::Frame frame;
  bool may_upload = false;
  if (s_.people != nullptr) {
    auto session = co_await s_.people->caller(request);
    if (!session) co_return error(503, busy_message, false);
    if (*session) {
      const auth::Session& me = **session;
      frame.viewer = {me.user_id, me.name, me.display_name, me.csrf};
      may_upload = s_.uploads != nullptr && s_.uploads->may_upload(me);
    }
  }
  http::Response response;
  if (frame.viewer.id == 0) {
    response = http::Response::text(303, "");
    response.set("Location", "/signin?next=/upload");
  } else {
    projection::ListQuery query;
    query.per_page = 1;
    auto listing = co_await s_.model.listing(query);
    if (!listing) co_return error(503, busy_message, false);
    response =
        http::Response::html(may_upload ? 200 : 403, s_.pages.upload((*listing)->nav, frame, may_upload));
  }
  response.set("Cache-Control", "no-store");
  response.route = "upload_page";
  co_return response;
}

Task<http::Response> Router::listing(const http::Request& request, ListKind kind, std::string name,
                                     std::string path, bool api) {
  auto parsed = parse_list_query(request.query(), kind);
  if (!parsed.error.empty()) co_return error(400, parsed.error, api);
  auto found = co_await frame_for(request, api);
  if (!found) co_return error(503, busy_message, false);
  pages::Frame frame = std::move(*found);
  if (parsed.query.kind == kind) parsed.query.name = std::move(name);
  auto read = co_await s_.model.listing(parsed.query);
  if (!read) co_return error(503, busy_message, api);
  const projection::Listing& listing = **read;
  if (!listing.found) co_return error(404, "There is nothing here.", api);
  if (parsed.query.page > 1 && parsed.query.page > listing.pages) {
    co_return error(404, "That page is past the end of the list.", api);
  }
  http::Response response;
  if (api) {
    response = http::Response::json(200, api::listing_document(listing, parsed.query));
    response.route = "api_videos";
  } else {
    pages::ListingContext context{parsed.query.kind,     std::move(path),
                                  parsed.query.sort,     parsed.query.period,
                                  parsed.query.duration, kind != parsed.query.kind ? parsed.query.name : ""};
    response = http::Response::html(200, s_.pages.listing(listing, context, s_.clock.unix_seconds(), frame));
    static constexpr std::string_view routes[] = {"videos", "category", "tag", "channel"};
    response.route = routes[static_cast<int>(kind)];
  }
  PageTags tags;
  tags.add(all_lists_object).add(listing.cards);
  co_return page_response(std::move(response), frame, tags);
}

Task<http::Response> Router::watch(const http::Request& request, std::string_view id_and_slug, bool api) {
  const size_t dash = api ? std::string_view::npos : id_and_slug.find('-');
  auto id = parse_id(id_and_slug.substr(0, dash));
  if (!id) co_return error(404, "There is no such video.", api);
  auto found = co_await frame_for(request, api);
  if (!found) co_return error(503, busy_message, false);
  pages::Frame frame = std::move(*found);
  auto video = co_await s_.model.video(*id);
  if (!video) co_return error(503, busy_message, api);
  if (!*video) {
    // Not listed: an upload still processing (or failed) has a status the API reports.
    if (!api) co_return error(404, "There is no such video.", api);
    auto upload = co_await s_.model.upload_status(*id);
    if (!upload || !*upload) co_return error(404, "There is no such video.", api);
    auto response = http::Response::json(200, api::unlisted_video_document(*id, **upload));
    response.set("Cache-Control", "no-store");
    response.route = "api_video";
    co_return response;
  }
  sign_media(**video, s_.links, s_.clock.unix_seconds());
  http::Response response;
  if (api) {
    response = http::Response::json(200, api::video_document(**video));
    response.route = "api_video";
  } else {
    // The comments under the video: ?comments=new|top&comments_page=N. A page without them beats
    // no page, so a failed read only leaves them out.
    projection::CommentSort sort = projection::CommentSort::newest;
    if (auto text = http::query_param(request.query(), "comments")) {
      auto parsed = projection::parse_comment_sort(*text);
      if (!parsed) co_return error(400, "Unknown comment order: use new or top.", false);
      sort = *parsed;
    }
    const std::optional<int> comments_page = page_number(request.query(), "comments_page", max_page);
    if (!comments_page) co_return error(400, "The comments page must be a positive number.", false);
    // ?replies=C opens comment C's replies under it.
    std::optional<int64_t> opened;
    if (auto text = http::query_param(request.query(), "replies")) {
      opened = parse_id(*text);
      if (!opened) co_return error(400, "The replies to open must be a comment's id.", false);
    }
    std::optional<projection::CommentPage> comments, replies;
    if (s_.community != nullptr) {
      auto read = co_await s_.community->comments(*id, sort, *comments_page, comments_per_page);
      if (read) comments = std::move(*read);
      if (opened) {
        auto thread = co_await s_.community->replies(*id, *opened, 1, replies_shown);
        if (thread) replies = std::move(*thread);
      }
    }
    pages::WatchComments shown;
    shown.page = comments ? &*comments : nullptr;
    shown.sort = sort;
    shown.opened = opened.value_or(0);
    shown.replies = replies ? &*replies : nullptr;
    pages::WatchActions actions;
    std::optional<pages::PlaylistPanel> playlist;
    if (s_.people != nullptr) {
      actions = co_await s_.people->watch_actions(frame.viewer, *id, (*video)->channel_name);
      playlist = co_await s_.people->playlist_panel(frame.viewer, request.query());
    }
    response = http::Response::html(200, s_.pages.watch(**video, s_.clock.unix_seconds(), frame, actions,
                                                        shown, playlist ? &*playlist : nullptr));
    response.route = "watch";
  }
  PageTags tags;
  tags.add(video_object(*id)).add((*video)->related);
  co_return page_response(std::move(response), frame, tags);
}

// The view beacon. A Redis read checks the video exists (404 otherwise); when Redis cannot answer
// the view is recorded anyway, since the aggregator drops unknown ids itself and a view is worth
// more than an exact status code. Nothing is written to Redis or SQL here.
Task<http::Response> Router::view_beacon(const http::Request& request, std::string_view id_text, bool pixel) {
  if (request.header("Sec-Fetch-Site") == "cross-site") {
    co_return error(403, "Views are counted only from this site's pages.", true);
  }
  auto id = parse_id(id_text);
  if (!id) co_return error(404, "There is no such video.", true);
  auto exists = co_await s_.model.video_exists(*id);
  if (exists && !*exists) co_return error(404, "There is no such video.", true);
  s_.views.record(request, *id);
  http::Response response;
  if (pixel) {
    response.body.assign(reinterpret_cast<const char*>(pixel_gif), sizeof pixel_gif);
    response.set("Content-Type", "image/gif");
  } else {
    response.status = 204;
  }
  response.set("Cache-Control", "no-store");
  response.route = "view";
  co_return response;
}

http::Response Router::media(const http::Request& request, std::string_view path) const {
  const std::string_view relative = path.substr(7);  // after "/media/"
  if (s_.links.enabled() && media::LinkSigner::protects(relative)) {
    const int64_t now = s_.clock.unix_seconds();
    switch (s_.links.check(path, request.query(), now)) {
      case media::LinkCheck::bad:
        return media_refusal(403, "This media link is not valid. Open the video from its page.");
      case media::LinkCheck::expired:
        return media_refusal(410, "This media link has expired. Reload the video's page.");
      case media::LinkCheck::ok:
        break;
    }
    if ((relative.ends_with(".m3u8") || relative.ends_with(".vtt")) &&
        (request.method == "GET" || request.method == "HEAD")) {
      return signed_playlist(request, path, now);
    }
  }
  auto response = s_.media_files.serve(request, relative);
  response.route = "media";
  return response;
}

// A playlist (or seek-preview VTT) whose references are signed with the request's own expiry, so
// every segment the player fetches for it is good exactly as long as the playlist link.
http::Response Router::signed_playlist(const http::Request& request, std::string_view path,
                                       int64_t now) const {
  auto text = s_.media_files.read(path.substr(7), max_playlist_bytes);
  auto uri = http::percent_decode(path);
  if (!text || !uri) {
    auto response = s_.media_files.serve(request, path.substr(7));  // the file server's 404
    response.route = "media";
    return response;
  }
  const int64_t expires = media::LinkSigner::request_expiry(request.query());
  const bool playlist = path.ends_with(".m3u8");
  http::Response response;
  response.body = playlist ? media::sign_playlist(*text, *uri, expires, s_.links.secret())
                           : media::sign_vtt(*text, *uri, expires, s_.links.secret());
  response.set("Content-Type", playlist ? "application/vnd.apple.mpegurl" : "text/vtt; charset=utf-8");
  response.set("Cache-Control",
               "public, max-age=" + std::to_string(std::clamp<int64_t>(expires - now, 0, 3600)));
  response.route = "media";
  return response;
}

Task<http::Response> Router::ready() {
  const bool ok = co_await s_.model.ready();
  auto response = http::Response::text(ok ? 200 : 503, ok ? "ready\n" : "redis unreachable\n");
  if (!ok) response.set("Retry-After", "5");
  response.set("Cache-Control", "no-store");
  response.route = "readyz";
  co_return response;
}

}  // namespace reel::app
