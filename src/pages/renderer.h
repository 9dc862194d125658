// Renderer: Reel's HTML pages (home, listings, watch, upload, errors) from read-model values.
//
// The pages come from template files that operators may edit without recompiling; load() reads
// and compiles them once. Each page is layout.html with {{> content}} bound to the page's own
// template (home.html, listing.html, watch.html, upload.html, error.html); the partials they include
// (card.html, pagination.html, ...) live in the same directory. Every value from the data is HTML-escaped;
// every link to a video uses watch_path(). Rendering does no I/O and allocates a few buffers.
// card.html is rendered per card, seeing only the card's own fields, and each event-loop thread
// keeps recently rendered cards (CardCache), so a grid of known cards costs a copy per card.
//
// Thread-safety: immutable after load(); every method is safe from any thread at once (the card
// cache is per thread).
// Failure: load() returns an Error naming the template file and line (syntax error, missing
// partial, unreadable directory). Rendering cannot fail.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/collections.h"
#include "common/result.h"
#include "media/link_signer.h"
#include "media/static_assets.h"
#include "pages/card_cache.h"
#include "pages/format.h"  // format_count, format_duration, format_age, url_encode_path_segment, watch_path
#include "pages/template.h"
#include "projection/community_read_model.h"
#include "projection/read_model.h"

namespace reel::pages {

struct SiteOptions {
  std::string name = "Reel";
  std::string templates_dir;
  media::LinkSigner links;  // signs the media URLs pages carry (card previews)
};

// Who a page is rendered for, as far as its per-user parts go: the user bar in the header and the
// watch page's vote, favorite, playlist and subscribe controls.
struct Viewer {
  int64_t id = 0;  // 0: nobody is signed in
  std::string name;
  std::string display_name;
  std::string csrf;  // the session's token, carried by the per-user parts' forms
};

// How a page carries its per-user parts. With `esi` (the request came through a surrogate that
// said `Surrogate-Capability: …="ESI/1.0"`) they are <esi:include> tags, so the page is the same
// for everyone and the surrogate caches it; otherwise they are rendered in place for `viewer`.
struct Frame {
  bool esi = false;
  Viewer viewer;
};

// The signed-in viewer's relation to a video, for the watch page's controls.
using WatchActions = catalog::ViewerRelation;

// A form page's state: its CSRF token (the double-submit token of the sign-in and register forms),
// an error to show above it, where to go after it, and what was typed (never a password).
struct FormPage {
  std::string form_token;
  std::string message;
  std::string next;
  std::string username;
  std::string email;
};

// The two forms of someone not signed in yet: signin.html, register.html.
enum class EntryForm { signin, register_account };

// The lists of videos a signed-in person keeps (and a playlist, which anyone may be shown): the
// page collection.html renders.
enum class Collection {
  favorites,  // /me/favorites: each card with a remove button
  videos,     // /me/videos: the viewer's channel, newest first, each card with a delete button
  feed,       // /subscriptions: the newest videos of the channels followed, and those channels
  playlist,   // /playlist/{id}: the videos in playlist order, each with a play-from-here link
};

struct CollectionPage {
  Collection kind = Collection::favorites;
  std::string path;  // the page's address without its query ("/me/favorites", "/playlist/7")
  int64_t total = 0;
  int page = 1;
  int pages = 0;
  int64_t first_index = 1;                         // playlist: the position of the page's first card
  catalog::Playlist playlist;                      // playlist: its title, owner, visibility
  bool owner = false;                              // playlist: the viewer owns it (the edit forms)
  std::vector<catalog::FollowedChannel> channels;  // feed: the first channels followed
  int64_t channels_total = 0;
};

// The viewer's playlists (/me/playlists) with the form that makes a new one.
struct PlaylistsPage {
  std::vector<catalog::PlaylistSummary> playlists;  // newest first
  int64_t total = 0;
  int page = 1;
  int pages = 0;
};

// The comments under a video: a page of them in one order, and the replies of one of them when
// the visitor opened them (?replies={comment}).
struct WatchComments {
  const projection::CommentPage* page = nullptr;  // null: the comments are not shown
  projection::CommentSort sort = projection::CommentSort::newest;
  int64_t opened = 0;                                // the comment whose replies are shown
  const projection::CommentPage* replies = nullptr;  // its replies, oldest first
};

// A playlist being played on the watch page (?list=ID&index=N): the page of its items around the
// current one, linked in order; the player goes on to the next item when a video ends.
struct PlaylistPanel {
  catalog::Playlist playlist;
  std::vector<projection::Card> cards;  // a page of the playlist
  int64_t first_index = 1;              // the position of cards[0]
  int64_t current_index = 1;            // the position being played
  int64_t total = 0;
};

// What a listing page needs besides the data: its base path for links, the active sort and filters.
struct ListingContext {
  projection::ListKind kind = projection::ListKind::all;
  std::string path;  // "/videos", "/category/music", "/tag/cats", "/channel/bob" (already URL-safe)
  projection::Sort sort = projection::Sort::newest;
  projection::Period period = projection::Period::all;
  projection::Duration duration = projection::Duration::any;
  std::string category{};  // the category a query string chose (/videos?category=music), kept by links
};

// A byte range [begin, end) of a card's title to wrap in <mark> (search::Analyzer::highlight).
struct TitleMark {
  size_t begin = 0;
  size_t end = 0;
};

// How the search page marks the words its query matched in each card's title. `marks` gives a
// title's ranges (sorted, not overlapping); it is called only for cards not in the card cache,
// where each card's marked rendering is kept under `variant` (the query's terms: every visitor of
// the same query shares them). No `marks`: plain cards.
struct TitleMarker {
  std::string variant;
  std::function<std::vector<TitleMark>(std::string_view title)> marks;
};

// What the search page shows besides the results: the query and filters (every link keeps them),
// the marker of matched words, a "did you mean" query, or a message in place of results (a query
// with no word to search for).
struct SearchPage {
  projection::SearchQuery query;
  TitleMarker marker;
  std::optional<std::string> suggestion;
  std::string message;
};

class Renderer {
 public:
  // With `assets`, every "/static/..." the templates name is rewritten once to its versioned name
  // (media/static_assets.h); the assets need not outlive the call.
  static Result<Renderer> load(SiteOptions options, const media::StaticAssets* assets = nullptr);

  // Every page takes the Frame it is rendered in; the default is an anonymous visitor's page, with
  // the per-user parts in place.
  std::string home(const projection::Home& home, int64_t now, const Frame& frame = {}) const;
  // Sort tabs link to "?sort=newest|views|rating|duration[&period=day|week|month|all]" (kinds all
  // and category; tag and channel get newest and views only); the filter tabs (duration, and the
  // upload period for sorts other than views) keep the sort; every link keeps the filters
  // (&period=, &duration=, &category=) and page links add "&page=N".
  std::string listing(const projection::Listing& listing, const ListingContext& context, int64_t now,
                      const Frame& frame = {}) const;
  // /search: the form with its filters, sort tabs ("/search?q=…&sort=…" keeping the filters), the
  // result cards with matched title words in <mark>, pagination, and a friendly page when nothing
  // matched (tips, the "did you mean" link, a link without the filters). Never indexed by robots.
  std::string search(const projection::SearchResults& results, const SearchPage& page, int64_t now,
                     const Frame& frame = {}) const;
  // The OpenSearch description (/opensearch.xml) for the site at `origin` ("https://host").
  std::string opensearch(std::string_view origin) const;
  // `actions` fills the controls rendered in place (ignored with ESI and for anonymous viewers);
  // `comments` are shown under the video (sort links keep their order; a viewer rendered in place
  // gets the edit and delete forms of their own comments and a reply form under each);
  // `playlist`, when given, is the playlist the video is played from (its panel beside the video).
  std::string watch(const projection::VideoPage& video, int64_t now, const Frame& frame = {},
                    const WatchActions& actions = {}, const WatchComments& comments = {},
                    const PlaylistPanel* playlist = nullptr) const;
  // A page of one of the viewer's lists or of a playlist; page links are `page.path` + "?page=N".
  std::string collection(const CollectionPage& page, const std::vector<projection::Card>& cards, int64_t now,
                         const Frame& frame, const std::vector<projection::CategoryLink>& nav) const;
  std::string playlists(const PlaylistsPage& page, const Frame& frame,
                        const std::vector<projection::CategoryLink>& nav) const;
  // The upload form for a viewer who `may_upload`, its category menu listing `nav`; for a viewer
  // who may not, the page that says so. No media links.
  std::string upload(const std::vector<projection::CategoryLink>& nav, const Frame& frame = {},
                     bool may_upload = false) const;
  std::string error_page(int status, std::string_view title, std::string_view message,
                         const std::vector<projection::CategoryLink>& nav, const Frame& frame = {}) const;

  // The account pages. Sign-in and register are never personal (whoever asks gets the form, with
  // the form's CSRF token); the account page is the signed-in viewer's.
  std::string entry_form(EntryForm which, const FormPage& form,
                         const std::vector<projection::CategoryLink>& nav) const;
  std::string account(const Frame& frame, const FormPage& form,
                      const std::vector<projection::CategoryLink>& nav) const;

  // The per-user parts on their own, as the fragments the ESI tags name (user_bar.html,
  // watch_actions.html, comment_form.html — the same partials the pages include).
  std::string user_bar(const Viewer& viewer) const;
  std::string watch_actions(int64_t video_id, std::string_view channel, const Viewer& viewer,
                            const WatchActions& actions) const;
  std::string comment_form(int64_t video_id, const Viewer& viewer) const;

 private:
  struct Templates {
    Template home, listing, search, watch, upload, error, card, user_bar, watch_actions, comment_form, signin,
        register_form, account, collection, playlists;
  };
  Renderer(SiteOptions options, Templates templates);
  // Adds the list `key` of cards, each item holding its HTML from the thread's CardCache and
  // whatever `extra` adds beside it (an item's own buttons and links: the card's HTML is shared).
  using CardExtra =
      std::function<void(TemplateData::Object item, const projection::Card& card, size_t index)>;
  // With a `marker` holding marks, each card's title has the words it gives marked (cached under
  // the marker's variant).
  void add_cards(TemplateData::Object parent, TemplateData::Key key,
                 const std::vector<projection::Card>& cards, int64_t now, CardCache& cache,
                 const CardExtra& extra = {}, const TitleMarker* marker = nullptr) const;

  SiteOptions options_;
  uint64_t id_;  // identifies this renderer's entries in the per-thread CardCache
  Templates t_;
};

}  // namespace reel::pages
