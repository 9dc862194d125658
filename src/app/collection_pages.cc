// The HTML pages of the people's collections (people_routes.h lists them): the viewer's favorites,
// videos, playlists and subscriptions, a playlist's page, its play links, and the watch page's
// playlist panel. Pages of the viewer's own lists are private and send someone signed out to the
// sign-in page; a public playlist's page is the same for every anonymous visitor and cached so.
#include <fmt/format.h>

#include "app/people_routes.h"
#include "http/url.h"
#include "people/collection_writes.h"
#include "people/favorites.h"
#include "people/feed.h"
#include "people/playlists.h"
#include "people/subscriptions.h"

namespace reel::app {
namespace {

constexpr int cards_per_page = 30;
constexpr int playlists_per_page = 30;
// The subscriptions page lists this many of the channels followed above the feed.
constexpr int followed_shown = 30;
// A play link steps over this many positions whose video is gone before giving up.
constexpr int max_skipped_positions = 5;

http::Response redirect(std::string location, std::string_view route) {
  http::Response response = http::Response::text(303, "");
  response.set("Location", std::move(location));
  response.set("Cache-Control", "no-store");
  response.route = route;
  return response;
}

http::Response personal_page(std::string html, std::string_view route) {
  http::Response response = http::Response::html(200, std::move(html));
  response.set("Cache-Control", "private, no-cache");
  response.route = route;
  return response;
}

pages::Viewer viewer_of(const auth::Session& session) {
  return {session.user_id, session.name, session.display_name, session.csrf};
}

}  // namespace

void set_playlist_caching(http::Response& response, const catalog::Playlist& playlist, int64_t viewer,
                          const std::vector<projection::Card>& cards) {
  if (viewer != 0 || !playlist.is_public) {
    response.set("Cache-Control", "private, no-cache");
    return;
  }
  response.set("Cache-Control", "public, max-age=30");
  PageTags tags;
  tags.add(people::playlist_object(playlist.id)).add(cards);
  response.set("xkey", tags.text());
}

http::Response PeopleRoutes::sign_in_first(std::string_view path, std::string_view route) const {
  return redirect(fmt::format("/signin?next={}", path), route);
}

Task<std::optional<http::Response>> PeopleRoutes::collection_page(const http::Request& request,
                                                                  std::string_view path) {
  const bool own_list =
      path == "/me/favorites" || path == "/me/videos" || path == "/me/playlists" || path == "/subscriptions";
  if (!own_list && !path.starts_with("/playlist/")) co_return std::nullopt;
  const std::optional<int> page = page_number(request.query(), "page", max_page_number);
  if (!page) co_return failed(nullptr, 400, "The page must be a positive number.");
  auto session = co_await caller(request);
  if (!session.ok()) co_return failed(nullptr, 503, busy_message);
  if (!own_list) co_return co_await playlist_page(request, path.substr(10), *page, *session);
  if (!*session) co_return sign_in_first(path, "collection");
  const auth::Session& me = **session;
  const pages::Frame frame{.esi = false, .viewer = viewer_of(me)};

  if (path == "/me/playlists") {
    auto read =
        co_await people::read_user_playlists(redis_, me.user_id, me.user_id, *page, playlists_per_page);
    if (!read.ok()) co_return failed(nullptr, 503, busy_message);
    if (*page > 1 && *page > read->pages)
      co_return failed(nullptr, 404, "That page is past the end of the list.");
    auto categories = co_await nav();
    if (!categories.ok()) co_return failed(nullptr, 503, busy_message);
    pages::PlaylistsPage shown;
    shown.playlists = std::move(read->playlists);
    shown.total = read->total;
    shown.page = read->page;
    shown.pages = read->pages;
    co_return personal_page(s_.pages.playlists(shown, frame, *categories), "my_playlists");
  }

  pages::CollectionPage shown;
  shown.path = std::string(path);
  std::vector<projection::Card> cards;
  std::vector<projection::CategoryLink> categories;
  if (path == "/me/videos") {
    // The viewer's channel, newest first: the listing brings the header's categories along.
    projection::ListQuery query;
    query.kind = projection::ListKind::channel;
    query.name = me.name;
    query.page = *page;
    query.per_page = cards_per_page;
    auto read = co_await model_.listing(query);
    if (!read.ok()) co_return failed(nullptr, 503, busy_message);
    const projection::Listing& listing = **read;
    shown.kind = pages::Collection::videos;
    shown.total = listing.total;
    shown.page = listing.page;
    shown.pages = listing.pages;
    cards = listing.cards;
    categories = listing.nav;
  } else {
    Result<people::CardPage> read = Error{"not read"};
    if (path == "/me/favorites") {
      shown.kind = pages::Collection::favorites;
      read = co_await people::read_favorites(redis_, me.user_id, *page, cards_per_page);
    } else {
      shown.kind = pages::Collection::feed;
      read = co_await people::read_feed(redis_, me.user_id, *page, cards_per_page);
      auto followed = co_await people::read_subscriptions(redis_, me.user_id, 1, followed_shown);
      if (!followed.ok()) co_return failed(nullptr, 503, busy_message);
      shown.channels = std::move(followed->channels);
      shown.channels_total = followed->total;
    }
    if (!read.ok()) co_return failed(nullptr, 503, busy_message);
    shown.total = read->total;
    shown.page = read->page;
    shown.pages = read->pages;
    cards = std::move(read->cards);
    auto header = co_await nav();
    if (!header.ok()) co_return failed(nullptr, 503, busy_message);
    categories = std::move(*header);
  }
  if (*page > 1 && *page > shown.pages)
    co_return failed(nullptr, 404, "That page is past the end of the list.");
  static constexpr std::string_view routes[] = {"my_favorites", "my_videos", "subscriptions", "playlist"};
  co_return personal_page(s_.pages.collection(shown, cards, s_.clock.unix_seconds(), frame, categories),
                          routes[static_cast<int>(shown.kind)]);
}

Task<http::Response> PeopleRoutes::playlist_page(const http::Request& request, std::string_view rest,
                                                 int page, const std::optional<auth::Session>& session) {
  const size_t slash = rest.find('/');
  auto id = parse_id(rest.substr(0, slash));
  const std::string_view action = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (!id || (!action.empty() && action != "/play"))
    co_return failed(nullptr, 404, "There is no such playlist.");
  const int64_t viewer = session ? session->user_id : 0;
  if (action == "/play") co_return co_await play_position(request, *id, viewer);

  auto read = co_await people::read_playlist(redis_, *id, viewer, page, cards_per_page);
  if (!read.ok()) co_return failed(nullptr, 503, busy_message);
  if (!*read) co_return failed(nullptr, 404, "There is no such playlist.");
  people::PlaylistPage& found = **read;
  if (page > 1 && page > found.items.pages)
    co_return failed(nullptr, 404, "That page is past the end of the list.");
  auto categories = co_await nav();
  if (!categories.ok()) co_return failed(nullptr, 503, busy_message);
  pages::CollectionPage shown;
  shown.kind = pages::Collection::playlist;
  shown.path = fmt::format("/playlist/{}", *id);
  shown.total = found.items.total;
  shown.page = found.items.page;
  shown.pages = found.items.pages;
  shown.first_index = people::first_rank(found.items.page, cards_per_page) + 1;
  shown.owner = viewer != 0 && found.playlist.user_id == viewer;
  shown.playlist = std::move(found.playlist);
  pages::Frame frame;
  if (session) frame.viewer = viewer_of(*session);
  http::Response response = http::Response::html(
      200, s_.pages.collection(shown, found.items.cards, s_.clock.unix_seconds(), frame, *categories));
  // Only an anonymous visitor's view of a public playlist is the same for everyone.
  set_playlist_caching(response, shown.playlist, viewer, found.items.cards);
  response.route = "playlist";
  co_return response;
}

// /playlist/{id}/play?index=N: a redirect to the watch page of the playlist's N-th video (1 when
// absent), stepping over positions whose video is gone; past the end, back to the playlist page.
Task<http::Response> PeopleRoutes::play_position(const http::Request& request, int64_t playlist_id,
                                                 int64_t viewer) {
  const std::optional<int> index = page_number(request.query(), "index", people::max_playlist_items);
  if (!index) co_return failed(nullptr, 400, "The index must be a position in the playlist.");
  for (int position = *index; position < *index + max_skipped_positions; ++position) {
    auto read = co_await people::read_playlist(redis_, playlist_id, viewer, position, 1);
    if (!read.ok()) co_return failed(nullptr, 503, busy_message);
    if (!*read) co_return failed(nullptr, 404, "There is no such playlist.");
    const people::PlaylistPage& found = **read;
    if (position > found.items.total) break;
    if (found.items.cards.empty()) continue;  // its video was deleted a moment ago
    std::string location;
    pages::append_watch_path(location, found.items.cards.front().id, found.items.cards.front().slug);
    co_return redirect(fmt::format("{}?list={}&index={}", location, playlist_id, position), "playlist_play");
  }
  co_return redirect(fmt::format("/playlist/{}", playlist_id), "playlist_play");
}

Task<std::optional<pages::PlaylistPanel>> PeopleRoutes::playlist_panel(const pages::Viewer& viewer,
                                                                       std::string_view query) {
  auto list = http::query_param(query, "list");
  if (!list) co_return std::nullopt;
  auto id = parse_id(*list);
  const std::optional<int> index = page_number(query, "index", people::max_playlist_items);
  if (!id || !index) co_return std::nullopt;
  const int page = (*index - 1) / cards_per_page + 1;
  auto read = co_await people::read_playlist(redis_, *id, viewer.id, page, cards_per_page);
  if (!read.ok() || !*read) co_return std::nullopt;
  people::PlaylistPage& found = **read;
  pages::PlaylistPanel panel;
  panel.first_index = people::first_rank(page, cards_per_page) + 1;
  panel.current_index = *index;
  panel.total = found.items.total;
  panel.cards = std::move(found.items.cards);
  panel.playlist = std::move(found.playlist);
  co_return panel;
}

}  // namespace reel::app
