// Router: Reel's request handler, a pure function of the request and the stores' interfaces —
// no sockets here, so every route is tested with a fake ReadModel and no network.
//
// Routes: /  /videos  /category/{slug}  /tag/{tag}  /channel/{name}  /watch/{id}[-{slug}]  /upload
//         /search  /opensearch.xml  /api/v1/search  /api/v1/suggest
//         /api/v1/videos  /api/v1/videos/{id}  /healthz  /readyz  /metrics  /static/...  /media/...
// Listings take the combined filters ?duration=short|medium|long and ?period= (the upload period
// with any sort but views, whose period is the view window), and /videos ?category=.
//         POST /api/v1/videos/{id}/view (the view beacon, 204) and its no-JS twin
//         GET /api/v1/videos/{id}/view.gif (a 1x1 image)
//         DELETE /api/v1/videos/{id} (admin token; UploadRoutes::remove_video)
// Media: video, playlists, segments and the seek-preview VTT need a signed link when signing is on
// (media::LinkSigner): 403 for a missing or wrong signature, 410 once it has expired. Playlists and
// VTT files are rewritten on the way out so the files they name carry the same signature (nginx at
// scale proxies exactly these two types to the app). The watch page and the API sign the URLs
// they hand out.
// Bad input answers 4xx with a page (or a JSON error under /api): unknown sort or period,
// a page that is not a positive number or lies past the last page, malformed ids and slugs,
// over-long targets, methods other than GET and HEAD (POST only for the beacon, DELETE only for
// /api/v1/videos/{id}, whose 405 says Allow: GET, HEAD, DELETE), a beacon sent
// from another site (Sec-Fetch-Site: cross-site, 403). The read model failing answers 503 with
// Retry-After, quickly.
// Thread-safety: one Router per event loop; everything it references must outlive it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/request_input.h"
#include "app/view_recorder.h"
#include "common/clock.h"
#include "http/message.h"
#include "media/file_server.h"
#include "media/link_signer.h"
#include "media/static_assets.h"
#include "pages/renderer.h"
#include "projection/community_read_model.h"
#include "projection/read_model.h"

namespace reel::app {

// "Did you mean" and completions for the search routes, answered from memory (no I/O).
// Thread-safety: called from every event loop at once.
class SearchSuggestions {
 public:
  virtual ~SearchSuggestions() = default;
  // A better spelling of `text` (a visitor's query), or nullopt when none is known.
  virtual std::optional<std::string> did_you_mean(std::string_view text) const = 0;
  // Up to `limit` queries starting with what `prefix` says, most searched first.
  virtual std::vector<std::string> complete(std::string_view prefix, size_t limit) const = 0;
};

class UploadRoutes;  // app/upload_routes.h: the write routes, which need SQL and Redis
class PeopleRoutes;  // app/people_routes.h: accounts, sessions and the community

struct Services {
  projection::ReadModel& model;
  const pages::Renderer& pages;
  const media::StaticAssets& static_files;
  const media::FileServer& media_files;
  const media::LinkSigner& links;  // signs media URLs; checks them on /media in the embedded mode
  const Clock& clock;
  std::function<std::string()> metrics;                 // the /metrics body
  const ViewRecorder& views;                            // the view beacon's outlet
  UploadRoutes* uploads = nullptr;                      // null: uploads answer 503 (no SQL store configured)
  PeopleRoutes* people = nullptr;                       // null: no accounts (every visitor is anonymous)
  projection::CommunityReadModel* community = nullptr;  // null: watch pages show no comments
  const SearchSuggestions* suggestions = nullptr;       // null: no "did you mean", no completions
  // The site's public origin ("https://videos.example.com") for absolute links (OpenSearch); empty:
  // the request's Host, over http unless a proxy says X-Forwarded-Proto: https.
  std::string site_url{};
};

class Router {
 public:
  explicit Router(Services services) : s_(std::move(services)) {}

  Task<http::Response> handle(const http::Request& request);

  static constexpr size_t max_target_bytes = 2048;
  static constexpr int max_page = max_page_number;

 private:
  // The routes that write (uploads, the view beacon, DELETE of a video); nullopt for any other.
  Task<std::optional<http::Response>> write_route(const http::Request& request, std::string_view path);
  // A video's delete sent by a plain form (POST, `_method=DELETE`); nullopt for any other POST.
  Task<std::optional<http::Response>> form_delete(const http::Request& request, int64_t id);
  // /category/{slug}, /tag/{tag}, /channel/{name}; 404 for any other path.
  Task<http::Response> named_listing(const http::Request& request, std::string_view path, bool api);
  // Who a page is for: ESI includes when a surrogate asks for them (Surrogate-Capability), else the
  // signed-in viewer's parts in place; an API answer has none (`api`: no lookup). Error: the
  // session lookup failed (503).
  Task<Result<pages::Frame>> frame_for(const http::Request& request, bool api = false);
  // Who may keep an anonymous page: shared caches too, or the browser only (search answers: each
  // must reach the app to be counted as a search event).
  enum class Sharing { shared, browser_only };
  // A page's caching: shared (public, max-age=30, no cookie, tagged) unless it carries a viewer's
  // parts (private, no-cache) or `sharing` says browser_only (private, max-age=30); with ESI,
  // Surrogate-Control tells the surrogate to process it.
  static http::Response page_response(http::Response response, const pages::Frame& frame,
                                      const PageTags& tags, Sharing sharing = Sharing::shared);
  Task<http::Response> home(const http::Request& request);
  Task<http::Response> upload_page(const http::Request& request);  // the form (no-store)
  Task<http::Response> listing(const http::Request& request, projection::ListKind kind, std::string name,
                               std::string path, bool api);
  Task<http::Response> watch(const http::Request& request, std::string_view id_and_slug, bool api);
  // /search and /api/v1/search (search_routes.cc).
  Task<http::Response> search(const http::Request& request, bool api);
  // /api/v1/suggest?q=PREFIX: {"suggestions": [...]} (or OpenSearch's array with format=opensearch).
  http::Response suggest(const http::Request& request) const;
  // /opensearch.xml, so browsers can add the site's search.
  http::Response opensearch(const http::Request& request) const;
  // /fragments/user-bar and /fragments/watch/{id}: the per-user parts an ESI page includes.
  Task<http::Response> fragment(const http::Request& request, std::string_view path);
  Task<http::Response> ready();
  http::Response media(const http::Request& request, std::string_view path) const;
  http::Response signed_playlist(const http::Request& request, std::string_view path, int64_t now) const;
  Task<http::Response> view_beacon(const http::Request& request, std::string_view id_text, bool pixel);
  http::Response error(int status, std::string_view message, bool api) const;

  Services s_;
};

}  // namespace reel::app
