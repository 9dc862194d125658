// The favorites, playlists, subscriptions and feed calls of PeopleRoutes (people_routes.h lists
// them).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/json.h"
#include "app/people_routes.h"
#include "http/url.h"
#include "people/favorites.h"
#include "people/feed.h"
#include "people/playlists.h"
#include "people/subscriptions.h"
#include "people/viewer_relation.h"

namespace reel::app {
namespace {

constexpr int list_per_page = 30;

std::string dump(const nlohmann::json& document) {
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Task<pages::WatchActions> PeopleRoutes::watch_actions(const pages::Viewer& viewer, int64_t video_id,
                                                      std::string channel) {
  if (viewer.id == 0) co_return pages::WatchActions{};
  auto relation =
      co_await people::read_viewer_relation(redis_, viewer.id, video_id, std::move(channel), list_per_page);
  // When Redis fails the controls show unset: a page without them beats no page.
  if (!relation) co_return pages::WatchActions{};
  co_return std::move(*relation);
}

Task<std::optional<http::Response>> PeopleRoutes::collection_call(const http::Request& request,
                                                                  std::string_view path) {
  const bool reading = request.method == "GET" || request.method == "HEAD";
  const std::optional<int> page = page_number(request.query(), "page", max_page_number);

  // Reads that need no session: a public playlist.
  if (path.starts_with("/api/v1/playlists/") && reading) {
    std::string_view rest = path.substr(18);
    auto id = parse_id(rest);
    if (!id) co_return failed(nullptr, 404, "There is no such playlist.");
    if (!page) co_return failed(nullptr, 400, "The page must be a positive number.");
    auto session = co_await caller(request);
    if (!session.ok()) co_return failed(nullptr, 503, busy_message);
    const int64_t viewer = *session ? (*session)->user_id : 0;
    auto read = co_await people::read_playlist(redis_, *id, viewer, *page, list_per_page);
    if (!read.ok())
      co_return failed(nullptr, read.error().kind == ErrorKind::invalid_input ? 400 : 503,
                       read.error().message);
    if (!*read) co_return failed(nullptr, 404, "There is no such playlist.");
    const people::PlaylistPage& found = **read;
    http::Response response =
        http::Response::json(200, api::playlist_document(found.playlist, found.items.cards, found.items.total,
                                                         found.items.page, found.items.pages));
    set_playlist_caching(response, found.playlist, viewer, found.items.cards);
    response.route = "api_playlist";
    co_return response;
  }

  // A read needs the session; a change also its CSRF token.
  auto begun = co_await begin_call(request, reading ? Needs::session_read : Needs::session);
  if (auto* stop = std::get_if<http::Response>(&begun)) co_return std::move(*stop);
  Call& call = std::get<Call>(begun);
  const int64_t user_id = call.session->user_id;
  const int64_t now = s_.clock.unix_seconds();
  const std::string& method = call.input.method();

  auto private_json = [](std::string body) {
    http::Response response = http::Response::json(200, std::move(body));
    response.set("Cache-Control", "private, no-store");
    response.route = "people";
    return response;
  };

  // The caller's own lists.
  if (reading) {
    if (!page) co_return failed(&call, 400, "The page must be a positive number.");
    if (path == "/api/v1/me/favorites" || path == "/api/v1/me/feed") {
      Result<people::CardPage> read = Error{"not read"};
      if (path == "/api/v1/me/favorites") {
        read = co_await people::read_favorites(redis_, user_id, *page, list_per_page);
      } else {
        read = co_await people::read_feed(redis_, user_id, *page, list_per_page);
      }
      if (!read.ok()) co_return failed(call, read.error());
      co_return private_json(api::cards_document(read->cards, read->total, read->page, read->pages));
    }
    if (path == "/api/v1/me/subscriptions") {
      auto read = co_await people::read_subscriptions(redis_, user_id, *page, list_per_page);
      if (!read.ok()) co_return failed(call, read.error());
      nlohmann::json channels = nlohmann::json::array();
      for (const auto& channel : read->channels) {
        channels.push_back({{"name", channel.name},
                            {"display_name", channel.display_name},
                            {"subscribers", channel.subscribers},
                            {"subscribed_at", channel.subscribed_at}});
      }
      co_return private_json(dump({{"channels", std::move(channels)},
                                   {"total", read->total},
                                   {"page", read->page},
                                   {"pages", read->pages}}));
    }
    if (path == "/api/v1/me/playlists") {
      auto read = co_await people::read_user_playlists(redis_, user_id, user_id, *page, list_per_page);
      if (!read.ok()) co_return failed(call, read.error());
      nlohmann::json playlists = nlohmann::json::array();
      for (const auto& summary : read->playlists) {
        playlists.push_back({{"id", summary.playlist.id},
                             {"title", summary.playlist.title},
                             {"public", summary.playlist.is_public},
                             {"items", summary.items},
                             {"created_at", summary.playlist.created_at}});
      }
      co_return private_json(dump({{"playlists", std::move(playlists)},
                                   {"total", read->total},
                                   {"page", read->page},
                                   {"pages", read->pages}}));
    }
    co_return failed(&call, 404, "There is no such address.");
  }

  // Favorites: PUT/DELETE /api/v1/me/favorites/{video}.
  if (path.starts_with("/api/v1/me/favorites/")) {
    auto video = parse_id(path.substr(21));
    if (!video) co_return failed(&call, 404, "There is no such video.");
    if (method != "PUT" && method != "DELETE") co_return wrong_method("GET, PUT, DELETE");
    const bool add = method == "PUT";
    std::function<Result<bool>(writes::Transaction&)> change = [user_id, video = *video, add,
                                                                now](writes::Transaction& tx) {
      return add ? people::add_favorite(tx, user_id, video, now)
                 : people::remove_favorite(tx, user_id, video);
    };
    auto changed = co_await write<bool>(call, std::move(change));
    if (auto* stop = std::get_if<http::Response>(&changed)) co_return std::move(*stop);
    co_return done(call, 200, dump({{"video", *video}, {"favorite", add}}), fmt::format("/watch/{}", *video));
  }

  // Subscriptions: PUT/DELETE /api/v1/me/subscriptions/{channel}.
  if (path.starts_with("/api/v1/me/subscriptions/")) {
    auto channel = http::percent_decode(path.substr(25));
    if (!channel || channel->empty()) co_return failed(&call, 404, "There is no such channel.");
    if (method != "PUT" && method != "DELETE") co_return wrong_method("GET, PUT, DELETE");
    const bool add = method == "PUT";
    std::function<Result<int64_t>(writes::Transaction&)> change = [user_id, channel = *channel, add,
                                                                   now](writes::Transaction& tx) {
      return add ? people::subscribe(tx, user_id, channel, now) : people::unsubscribe(tx, user_id, channel);
    };
    auto changed = co_await write<int64_t>(call, std::move(change));
    if (auto* stop = std::get_if<http::Response>(&changed)) co_return std::move(*stop);
    co_return done(
        call, 200,
        dump({{"channel", *channel}, {"subscribed", add}, {"subscribers", std::get<int64_t>(changed)}}),
        "/channel/" + *channel);
  }

  // Playlists: POST /api/v1/playlists; PATCH/DELETE /api/v1/playlists/{id};
  // POST/DELETE /api/v1/playlists/{id}/videos/{video}; PUT /api/v1/playlists/{id}/order.
  if (path == "/api/v1/playlists") {
    if (method != "POST") co_return wrong_method("POST");
    auto title = call.input.required_text("title");
    if (!title.ok()) co_return failed(call, title.error());
    auto is_public = call.input.boolean("public");
    if (!is_public.ok()) co_return failed(call, is_public.error());
    auto first_video = call.input.integer("video");
    if (!first_video.ok()) co_return failed(call, first_video.error());
    std::function<Result<int64_t>(writes::Transaction&)> create =
        [user_id, title = *title, is_public = is_public->value_or(true), video = first_video->value_or(0),
         now](writes::Transaction& tx) -> Result<int64_t> {
      Result<int64_t> id = people::create_playlist(tx, user_id, title, is_public, now);
      if (!id.ok() || video == 0) return id;
      Result<bool> added = people::add_to_playlist(tx, user_id, *id, video, now);
      if (!added.ok()) return added.error();
      return id;
    };
    auto created = co_await write<int64_t>(call, std::move(create));
    if (auto* stop = std::get_if<http::Response>(&created)) co_return std::move(*stop);
    const int64_t id = std::get<int64_t>(created);
    co_return done(call, 201, api::created_document(id), fmt::format("/playlist/{}", id));
  }
  if (!path.starts_with("/api/v1/playlists/")) co_return std::nullopt;
  std::string_view rest = path.substr(18);
  const size_t slash = rest.find('/');
  auto playlist = parse_id(rest.substr(0, slash));
  if (!playlist) co_return failed(&call, 404, "There is no such playlist.");
  const std::string_view action = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  const std::string back = fmt::format("/playlist/{}", *playlist);

  if (action.empty()) {
    if (method == "DELETE") {
      std::function<Result<bool>(writes::Transaction&)> remove =
          [user_id, id = *playlist](writes::Transaction& tx) -> Result<bool> {
        if (Status deleted = people::delete_playlist(tx, user_id, id); !deleted.ok()) return deleted.error();
        return true;
      };
      auto removed = co_await write<bool>(call, std::move(remove));
      if (auto* stop = std::get_if<http::Response>(&removed)) co_return std::move(*stop);
      co_return done(call, 204, {}, "/me/playlists");
    }
    if (method != "PATCH") co_return wrong_method("GET, PATCH, DELETE");
    auto title = call.input.text("title");
    if (!title.ok()) co_return failed(call, title.error());
    auto is_public = call.input.boolean("public");
    if (!is_public.ok()) co_return failed(call, is_public.error());
    std::function<Result<bool>(writes::Transaction&)> change =
        [user_id, id = *playlist, title = *title, is_public = *is_public,
         now](writes::Transaction& tx) -> Result<bool> {
      if (title) {
        if (Status renamed = people::rename_playlist(tx, user_id, id, *title, now); !renamed.ok())
          return renamed.error();
      }
      if (is_public) {
        if (Status set = people::set_playlist_public(tx, user_id, id, *is_public, now); !set.ok())
          return set.error();
      }
      return true;
    };
    auto changed = co_await write<bool>(call, std::move(change));
    if (auto* stop = std::get_if<http::Response>(&changed)) co_return std::move(*stop);
    co_return done(call, 200, api::created_document(*playlist), back);
  }
  if (action == "/order") {
    if (method != "PUT") co_return wrong_method("PUT");
    auto order = call.input.id_list("videos", static_cast<size_t>(people::max_playlist_items));
    if (!order.ok()) co_return failed(call, order.error());
    if (!*order)
      co_return failed(&call, 400, "The field videos is required: the playlist's ids in their new order.");
    std::function<Result<bool>(writes::Transaction&)> reorder =
        [user_id, id = *playlist, order = std::move(**order), now](writes::Transaction& tx) -> Result<bool> {
      if (Status done = people::reorder_playlist(tx, user_id, id, order, now); !done.ok())
        return done.error();
      return true;
    };
    auto reordered = co_await write<bool>(call, std::move(reorder));
    if (auto* stop = std::get_if<http::Response>(&reordered)) co_return std::move(*stop);
    co_return done(call, 200, api::created_document(*playlist), back);
  }
  if (action.starts_with("/videos/")) {
    auto video = parse_id(action.substr(8));
    if (!video) co_return failed(&call, 404, "There is no such video.");
    if (method == "PUT") {
      auto position = call.input.integer("position");
      if (!position.ok()) co_return failed(call, position.error());
      if (!*position || **position < 1)
        co_return failed(&call, 400, "The field position is required: the video's new place, from 1.");
      std::function<Result<bool>(writes::Transaction&)> move =
          [user_id, id = *playlist, video = *video, to = **position,
           now](writes::Transaction& tx) -> Result<bool> {
        if (Status moved = people::move_in_playlist(tx, user_id, id, video, to, now); !moved.ok())
          return moved.error();
        return true;
      };
      auto moved = co_await write<bool>(call, std::move(move));
      if (auto* stop = std::get_if<http::Response>(&moved)) co_return std::move(*stop);
      co_return done(call, 200, dump({{"playlist", *playlist}, {"video", *video}, {"position", **position}}),
                     back);
    }
    if (method != "POST" && method != "DELETE") co_return wrong_method("POST, PUT, DELETE");
    const bool add = method == "POST";
    std::function<Result<bool>(writes::Transaction&)> change = [user_id, id = *playlist, video = *video, add,
                                                                now](writes::Transaction& tx) {
      return add ? people::add_to_playlist(tx, user_id, id, video, now)
                 : people::remove_from_playlist(tx, user_id, id, video, now);
    };
    auto changed = co_await write<bool>(call, std::move(change));
    if (auto* stop = std::get_if<http::Response>(&changed)) co_return std::move(*stop);
    co_return done(call, 200, dump({{"playlist", *playlist}, {"video", *video}, {"contains", add}}),
                   fmt::format("/watch/{}", *video));
  }
  co_return failed(&call, 404, "There is no such address.");
}

}  // namespace reel::app
