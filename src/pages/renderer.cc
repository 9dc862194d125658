#include "pages/renderer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <span>

#include "common/text.h"

namespace reel::pages {

namespace {

using projection::all_durations;
using projection::Card;
using projection::CategoryLink;
using projection::Duration;
using projection::ListKind;
using projection::Period;
using projection::Sort;

// Output buffer sizing: a page's literal text plus this much per card it shows.
constexpr size_t bytes_per_card = 1024;
// Template data sizing: nodes and owned text per card, and for the rest of a page.
constexpr size_t nodes_per_card = 12;
constexpr size_t text_per_card = 128;
constexpr size_t page_nodes = 96;
constexpr size_t page_text = 2048;
// The page numbers shown on each side of the current one.
constexpr int pagination_window = 2;
// Meta descriptions longer than this are cut (search engines show about 160 characters).
constexpr size_t max_description_bytes = 160;
// The source name the {{> card}} partial of pages is bound to.
constexpr std::string_view card_fragment = "reel:card-fragment";

std::string_view sort_label(Sort sort) {
  switch (sort) {
    case Sort::newest:
      return "Newest";
    case Sort::views:
      return "Most viewed";
    case Sort::rating:
      return "Top rated";
    case Sort::duration:
      return "Longest";
    case Sort::trending:
      return "Trending";
  }
  return "Newest";
}

std::string_view period_label(Period period) {
  switch (period) {
    case Period::day:
      return "Today";
    case Period::week:
      return "This week";
    case Period::month:
      return "This month";
    case Period::all:
      return "All time";
  }
  return "All time";
}

std::string_view kind_label(ListKind kind) {
  switch (kind) {
    case ListKind::all:
      return "";
    case ListKind::category:
      return "Category";
    case ListKind::tag:
      return "Tag";
    case ListKind::channel:
      return "Channel";
  }
  return "";
}

// "This week" -> "this week", for a label inside a heading.
std::string lowercase_label(std::string_view label) {
  std::string out(label);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z') out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

std::string_view duration_label(Duration duration) {
  switch (duration) {
    case Duration::any:
      return "Any length";
    case Duration::short_videos:
      return "Under 4 minutes";
    case Duration::medium:
      return "4–20 minutes";
    case Duration::long_videos:
      return "Over 20 minutes";
  }
  return "Any length";
}

// "/videos?sort=views&period=week&duration=long&page=3": the sort always; the period with the
// views sort (its window, "all" included) or when it filters another sort; the duration and the
// chosen category when set; the page after 1.
void append_listing_href(std::string& out, const ListingContext& context, Sort sort, Period period,
                         Duration duration, int64_t page) {
  out.append(context.path);
  out.append("?sort=");
  out.append(sort_name(sort));
  if (sort == Sort::views || period != Period::all) {
    out.append("&period=");
    out.append(period_name(period));
  }
  if (duration != Duration::any) {
    out.append("&duration=");
    out.append(duration_name(duration));
  }
  if (!context.category.empty()) {
    out.append("&category=");
    append_url_encoded(out, context.category);
  }
  if (page > 1) {
    out.append("&page=");
    out.append(std::to_string(page));
  }
}

// The signed-in viewer, as user_bar.html and watch_actions.html read it: "user" at `parent`.
void add_viewer(TemplateData::Object parent, const Viewer& viewer) {
  if (viewer.id == 0) return;
  parent.add_object("user")
      .set("name", viewer.name)
      .set("display_name", viewer.display_name.empty() ? viewer.name : viewer.display_name)
      .set("csrf", viewer.csrf);
}

// watch_actions.html's fields: "actions" at `parent` (the video's id and channel, the viewer's vote,
// favorite, subscription and playlists).
void add_watch_actions(TemplateData::Object parent, int64_t video_id, std::string_view channel,
                       const WatchActions& actions) {
  auto object = parent.add_object("actions");
  object.set_int("id", video_id)
      .set("channel", channel)
      .set_bool("liked", actions.vote > 0)
      .set_bool("disliked", actions.vote < 0)
      .set_bool("favorite", actions.favorite)
      .set_bool("subscribed", actions.subscribed);
  auto playlists = object.add_list("playlists");
  for (const catalog::ViewerRelation::Playlist& playlist : actions.playlists) {
    playlists.add_object()
        .set_int("id", playlist.id)
        .set("title", playlist.title)
        .set_bool("contains", playlist.holds);
  }
}

// One comment as comments.html's items read it: author, body as typed, age, edited; `mine` when
// `viewer` wrote it (the page rendered for them carries its edit and delete forms).
TemplateData::Object add_comment(TemplateData::List list, const catalog::Comment& comment, int64_t now,
                                 const Viewer& viewer) {
  auto item = list.add_object();
  item.set_int("id", comment.id)
      .set("author", comment.author_display_name.empty() ? comment.author_name : comment.author_display_name)
      .set("author_name", comment.author_name)
      .set("body", comment.body)
      .set_bool("edited", comment.edited_at != 0)
      .set_bool("mine", viewer.id != 0 && comment.user_id == viewer.id)
      .set_safe_written("age", [&](std::string& out) { append_age(out, comment.created_at, now); });
  if (comment.replies > 0) item.set_int("replies", comment.replies);
  return item;
}

// The comments section of the watch page: "discussion" at `parent` — its comments (and the
// replies of the one opened), the sort links, the older/newer page links and each comment's link
// that opens its replies.
void add_comments(TemplateData::Object parent, const projection::VideoPage& video, const WatchComments& shown,
                  int64_t now, const Frame& frame) {
  const projection::CommentPage& page = *shown.page;
  const Viewer viewer = frame.esi ? Viewer{} : frame.viewer;
  // "/watch/12-slug?comments=top&comments_page=2[&replies=7]#comment-7"
  auto href = [&video](std::string& out, projection::CommentSort to, int number, int64_t opened) {
    append_watch_path(out, video.id, video.slug);
    out.append("?comments=");
    out.append(projection::comment_sort_name(to));
    if (number > 1) {
      out.append("&comments_page=");
      out.append(std::to_string(number));
    }
    if (opened != 0) {
      out.append("&replies=");
      out.append(std::to_string(opened));
      out.append("#comment-");
      out.append(std::to_string(opened));
    } else {
      out.append("#comments");
    }
  };
  auto link = [&](projection::CommentSort to, int number) {
    return [&href, to, number](std::string& out) { href(out, to, number, 0); };
  };
  auto discussion = parent.add_object("discussion");
  discussion.set_bool("top", shown.sort == projection::CommentSort::top);
  auto list = discussion.add_list("comments");
  for (const catalog::Comment& comment : page.comments) {
    auto item = add_comment(list, comment, now, viewer);
    if (comment.replies > 0) {
      item.set_written("replies_href",
                       [&](std::string& out) { href(out, shown.sort, page.page, comment.id); });
    }
    if (comment.id == shown.opened && shown.replies != nullptr) {
      item.set_bool("opened", true);
      auto replies = item.add_list("reply_list");
      for (const catalog::Comment& reply : shown.replies->comments) add_comment(replies, reply, now, viewer);
    }
  }
  discussion.set_written("new_href", link(projection::CommentSort::newest, 1))
      .set_written("top_href", link(projection::CommentSort::top, 1));
  if (page.page > 1) discussion.set_written("newer_href", link(shown.sort, page.page - 1));
  if (page.page < page.pages) discussion.set_written("older_href", link(shown.sort, page.page + 1));
}

// Fields every page's layout reads.
void add_layout(TemplateData::Object root, std::string_view site_name, std::string_view page_title,
                std::string_view description, const std::vector<CategoryLink>& nav,
                std::string_view current_path, const Frame& frame) {
  root.set("site_name", site_name).set("page_title", page_title).set("description", description);
  root.set_bool("esi", frame.esi);
  if (!frame.esi) add_viewer(root, frame.viewer);
  auto links = root.add_list("nav");
  for (const CategoryLink& category : nav) {
    auto link = links.add_object();
    link.set("name", category.name);
    bool current = false;
    link.set_safe_written("href", [&](std::string& out) {
      size_t href_begin = out.size();
      out.append("/category/");
      append_url_encoded(out, category.slug);
      current = std::string_view(out).substr(href_begin) == current_path;
    });
    link.set_bool("current", current);
  }
}

// The fields card.html reads. A card is rendered on its own (see CardCache), so card.html sees
// only these names.
void add_card_fields(TemplateData::Object item, const Card& card, std::string_view age,
                     const media::LinkSigner& links, int64_t links_expire) {
  item.set_safe_written("url", [&](std::string& out) { append_watch_path(out, card.id, card.slug); })
      .set("title", card.title)
      .set("thumb", card.thumb_url)
      .set_written("preview",
                   [&](std::string& out) { links.append_url(out, card.preview_url, links_expire); })
      .set_safe_written("duration", [&](std::string& out) { append_duration(out, card.duration_s); })
      .set("channel", card.channel_display_name.empty() ? card.channel_name : card.channel_display_name)
      .set_safe_written("channel_url",
                        [&](std::string& out) {
                          out.append("/channel/");
                          append_url_encoded(out, card.channel_name);
                        })
      .set_safe_written("views", [&](std::string& out) { append_count(out, card.views); })
      .set("age", age);
  // Always set, empty when nobody voted.
  if (card.rating >= 0) {
    item.set_int("rating", std::lround(card.rating));
  } else {
    item.set("rating", "");
  }
}

// `text` HTML-escaped with the byte ranges `marks` (sorted, not overlapping, on character
// boundaries) wrapped in <mark>; ranges past the text are cut to it.
void append_marked(std::string& out, std::string_view text, std::span<const TitleMark> marks) {
  size_t at = 0;
  for (const TitleMark& mark : marks) {
    const size_t begin = std::clamp(mark.begin, at, text.size());
    const size_t end = std::clamp(mark.end, begin, text.size());
    if (begin == end) continue;
    append_escaped(out, text.substr(at, begin - at));
    out.append("<mark>");
    append_escaped(out, text.substr(begin, end - begin));
    out.append("</mark>");
    at = end;
  }
  append_escaped(out, text.substr(at));
}

// Cards rendered per event-loop thread are kept for reuse; this many at most between pages.
constexpr size_t card_cache_capacity = 8192;

CardCache& thread_card_cache() {
  thread_local CardCache cache(card_cache_capacity);
  return cache;
}

std::atomic<uint64_t> next_renderer_id{1};

// A row of tabs at `parent` under `key`, named `title`: "items", each a label, a link and
// whether it is current.
template <class Value, class Label, class Href>
void add_tabs(TemplateData::Object parent, TemplateData::Key key, std::string_view title,
              std::span<const Value> values, Value current, const Label& label, const Href& href) {
  auto row = parent.add_object(key);
  row.set("title", title);
  auto items = row.add_list("items");
  for (Value value : values) {
    auto tab = items.add_object();
    tab.set("label", label(value)).set_bool("current", value == current);
    tab.set_written("href", [&](std::string& out) { href(out, value); });
  }
}

void add_sort_tabs(TemplateData::Object root, const ListingContext& context) {
  bool all_sorts = context.kind == ListKind::all || context.kind == ListKind::category;
  auto tabs = root.add_list("sort_tabs");
  for (Sort sort : {Sort::newest, Sort::trending, Sort::views, Sort::rating, Sort::duration}) {
    if (!all_sorts && sort != Sort::newest && sort != Sort::views) continue;
    auto tab = tabs.add_object();
    tab.set("label", sort_label(sort)).set_bool("current", sort == context.sort);
    tab.set_written("href", [&](std::string& out) {
      // A view window does not carry over to another sort, nor an upload period to views.
      const bool keeps_period = all_sorts && (sort == Sort::views) == (context.sort == Sort::views);
      append_listing_href(out, context, sort, keeps_period ? context.period : Period::all, context.duration,
                          1);
    });
  }
  const bool view_window = context.sort == Sort::views;
  if (!view_window || all_sorts) {
    static constexpr Period periods[] = {Period::all, Period::day, Period::week, Period::month};
    add_tabs<Period>(
        root, "periods", view_window ? "Views counted" : "Uploaded", periods, context.period,
        [&](Period period) {
          return view_window             ? period_label(period)
                 : period == Period::all ? "Any time"
                                         : period_label(period);
        },
        [&](std::string& out, Period period) {
          append_listing_href(out, context, context.sort, period, context.duration, 1);
        });
  }
  add_tabs<Duration>(root, "durations", "Length", all_durations, context.duration, duration_label,
                     [&](std::string& out, Duration duration) {
                       append_listing_href(out, context, context.sort, context.period, duration, 1);
                     });
}

// The page links of a list of `pages` pages showing `page`: "pagination" at `root` (nothing for a
// single page); `href(out, n)` writes page n's address.
template <class Href>
void add_pagination(TemplateData::Object root, int64_t page, int64_t pages, const Href& href) {
  if (pages <= 1) return;
  const int64_t last = pages;
  const int64_t current = std::clamp<int64_t>(page, 1, last);
  auto link = [&](int64_t number) { return [&href, number](std::string& out) { href(out, number); }; };
  auto pagination = root.add_object("pagination");
  if (current > 1) pagination.set_written("previous", link(current - 1));
  if (current < last) pagination.set_written("next", link(current + 1));
  auto items = pagination.add_list("pages");
  auto add_page = [&](int64_t number) {
    auto item = items.add_object();
    item.set_safe_written("number", [number](std::string& out) { append_exact_count(out, number); })
        .set_written("href", link(number))
        .set_bool("current", number == current);
  };
  auto add_gap = [&] { items.add_object().set_bool("gap", true); };
  const int64_t window_first = std::max<int64_t>(1, current - pagination_window);
  const int64_t window_last = std::min<int64_t>(last, current + pagination_window);
  if (window_first > 1) add_page(1);
  if (window_first > 2) add_gap();
  for (int64_t number = window_first; number <= window_last; ++number) add_page(number);
  if (window_last < last - 1) add_gap();
  if (window_last < last) add_page(last);
}

void add_listing_pagination(TemplateData::Object root, const projection::Listing& listing,
                            const ListingContext& context) {
  add_pagination(root, listing.page, listing.pages, [&](std::string& out, int64_t page) {
    append_listing_href(out, context, context.sort, context.period, context.duration, page);
  });
}

// "/watch/12-slug?list=7&index=3": a video played from a playlist, at its position (its '&' makes
// it a value to escape).
void append_playlist_watch_path(std::string& out, const Card& card, int64_t playlist_id, int64_t index) {
  append_watch_path(out, card.id, card.slug);
  out.append("?list=");
  out.append(std::to_string(playlist_id));
  out.append("&index=");
  out.append(std::to_string(index));
}

// A card's button that removes it from the list: "remove" (a DELETE form's action: `prefix` and
// the card's id) and its label.
void add_remove_button(TemplateData::Object item, std::string_view prefix, const Card& card,
                       std::string_view label) {
  item.set_safe_written("remove", [&](std::string& out) {
    out.append(prefix);
    out.append(std::to_string(card.id));
  });
  item.set("remove_label", label);
}

// "/me/favorites?page=3": a page of a collection (the path alone for page 1).
void append_paged_path(std::string& out, std::string_view path, int64_t page) {
  out.append(path);
  if (page > 1) {
    out.append("?page=");
    out.append(std::to_string(page));
  }
}

// "/playlist/7/play?index=3": the playlist's item at a position, whatever video it is by then.
void append_playlist_play_path(std::string& out, int64_t playlist_id, int64_t index) {
  out.append("/playlist/");
  out.append(std::to_string(playlist_id));
  out.append("/play");
  if (index > 1) {
    out.append("?index=");
    out.append(std::to_string(index));
  }
}

// The watch page's playlist panel: "playlist" at `root` — its title and link, the position played,
// each item of the page (compact: thumbnail, title, duration; the current one marked) and the
// previous and next positions, which the player follows when a video ends.
void add_playlist_panel(TemplateData::Object root, const PlaylistPanel& panel, int64_t video_id) {
  const int64_t id = panel.playlist.id;
  auto object = root.add_object("playlist");
  object.set("title", panel.playlist.title)
      .set_safe_written("href",
                        [&](std::string& out) {
                          out.append("/playlist/");
                          out.append(std::to_string(id));
                        })
      .set_safe_written("position", [&](std::string& out) {
        append_exact_count(out, panel.current_index);
        out.append(" / ");
        append_exact_count(out, panel.total);
      });
  if (panel.current_index > 1) {
    object.set_safe_written(
        "previous", [&](std::string& out) { append_playlist_play_path(out, id, panel.current_index - 1); });
  }
  if (panel.current_index < panel.total) {
    object.set_safe_written(
        "next", [&](std::string& out) { append_playlist_play_path(out, id, panel.current_index + 1); });
  }
  auto items = object.add_list("items");
  int64_t index = panel.first_index;
  for (const Card& card : panel.cards) {
    items.add_object()
        .set("title", card.title)
        .set("thumb", card.thumb_url)
        .set_safe_written("duration", [&](std::string& out) { append_duration(out, card.duration_s); })
        .set_written("href", [&](std::string& out) { append_playlist_watch_path(out, card, id, index); })
        .set_int("index", index)
        .set_bool("current", index == panel.current_index && card.id == video_id);
    ++index;
  }
}

std::string render_page(const Template& page, const TemplateData& data, size_t cards) {
  std::string out;
  out.reserve(page.literal_bytes() + cards * bytes_per_card);
  page.render(data, out);
  return out;
}

}  // namespace

Renderer::Renderer(SiteOptions options, Templates templates)
    : options_(std::move(options)), id_(next_renderer_id.fetch_add(1)), t_(std::move(templates)) {}

void Renderer::add_cards(TemplateData::Object parent, TemplateData::Key key, const std::vector<Card>& cards,
                         int64_t now, CardCache& cache, const CardExtra& extra,
                         const TitleMarker* marker) const {
  auto list = parent.add_list(key);
  std::string age;
  const int64_t links_expire = options_.links.expiry(now);
  const bool marking = marker != nullptr && marker->marks;
  const std::string_view variant = marking ? std::string_view(marker->variant) : std::string_view();
  std::optional<TemplateData> fields;  // one for every card rendered here, made on the first
  for (size_t index = 0; index < cards.size(); ++index) {
    const Card& card = cards[index];
    age.clear();
    append_age(age, card.published_at, now);
    const std::string* html = cache.find(card, age, links_expire, variant);
    if (html == nullptr) {
      if (fields) {
        fields->clear();
      } else {
        fields.emplace(nodes_per_card, text_per_card);
      }
      add_card_fields(fields->root(), card, age, options_.links, links_expire);
      if (marking) {
        const std::vector<TitleMark> marks = marker->marks(card.title);
        if (!marks.empty())
          fields->root().set_safe_written("marked",
                                          [&](std::string& out) { append_marked(out, card.title, marks); });
      }
      html = &cache.store(card, age, links_expire, t_.card.render(*fields), variant);
    }
    auto item = list.add_object();
    item.set("html", *html);  // the card cache outlives the page
    if (extra) extra(item, card, index);
  }
}

Result<Renderer> Renderer::load(SiteOptions options, const media::StaticAssets* assets) {
  auto sources = TemplateSources::read_directory(options.templates_dir);
  if (!sources) return sources.error();
  if (assets != nullptr)
    sources->transform([assets](std::string_view text) { return assets->rewrite(text); });
  // Pages include {{> card}} inside a list of cards; each item carries its card's HTML, rendered
  // from card.html on its own (and cached) by add_cards().
  sources->add(std::string(card_fragment), "(built in)", "{{{html}}}");
  auto compile_page = [&](std::string_view page) {
    PartialBinding bindings[] = {{"content", page}, {"card", card_fragment}};
    return Template::compile(*sources, "layout", bindings);
  };
  auto card = Template::compile(*sources, "card");
  if (!card) return card.error();
  Templates templates;
  templates.card = std::move(*card);
  struct Page {
    std::string_view name;
    Template* target;
  };
  for (auto [name, target] :
       {Page{"home", &templates.home}, Page{"listing", &templates.listing}, Page{"search", &templates.search},
        Page{"watch", &templates.watch}, Page{"upload", &templates.upload}, Page{"error", &templates.error},
        Page{"signin", &templates.signin}, Page{"register", &templates.register_form},
        Page{"account", &templates.account}, Page{"collection", &templates.collection},
        Page{"playlists", &templates.playlists}}) {
    auto page = compile_page(name);
    if (!page) return page.error();
    *target = std::move(*page);
  }
  for (auto [name, target] :
       {Page{"user_bar", &templates.user_bar}, Page{"watch_actions", &templates.watch_actions},
        Page{"comment_form", &templates.comment_form}}) {
    auto fragment = Template::compile(*sources, name);
    if (!fragment) return fragment.error();
    *target = std::move(*fragment);
  }
  return Renderer(std::move(options), std::move(templates));
}

std::string Renderer::home(const projection::Home& home, int64_t now, const Frame& frame) const {
  size_t cards = home.popular.size() + home.newest.size();
  CardCache& cache = thread_card_cache();
  cache.begin_page(id_);
  TemplateData data(page_nodes + cards * nodes_per_card, page_text + cards * text_per_card);
  auto root = data.root();
  add_layout(root, options_.name, "", "Watch the newest and most viewed videos.", home.nav, "/", frame);
  root.set("canonical", "/");
  add_cards(root, "popular", home.popular, now, cache);
  add_cards(root, "newest", home.newest, now, cache);
  return render_page(t_.home, data, cards);
}

std::string Renderer::listing(const projection::Listing& listing, const ListingContext& context, int64_t now,
                              const Frame& frame) const {
  size_t cards = listing.cards.size();
  CardCache& cache = thread_card_cache();
  cache.begin_page(id_);
  TemplateData data(page_nodes + cards * nodes_per_card, page_text + cards * text_per_card);
  auto root = data.root();

  std::string heading = listing.title;
  if (heading.empty()) {
    heading = std::string(sort_label(context.sort));
    heading += " videos";
    if (context.sort == Sort::views && context.period != Period::all) {
      heading += " · ";
      heading += period_label(context.period);
    }
  }
  if (context.sort != Sort::views && context.period != Period::all) {
    heading += " · uploaded ";
    heading += lowercase_label(period_label(context.period));
  }
  if (context.duration != Duration::any) {
    heading += " · ";
    heading += lowercase_label(duration_label(context.duration));
  }
  std::string page_title = heading;
  if (listing.page > 1) page_title += " · Page " + std::to_string(listing.page);
  std::string description =
      heading + ": " + format_exact_count(listing.total) + " videos on " + options_.name + ".";

  add_layout(root, options_.name, page_title, description, listing.nav, context.path, frame);
  root.set_written("canonical", [&](std::string& out) {
    append_listing_href(out, context, context.sort, context.period, context.duration, listing.page);
  });
  root.set("heading", heading).set("kind", kind_label(context.kind));
  root.set_safe_written("total", [&](std::string& out) { append_exact_count(out, listing.total); });
  root.set_bool("single", listing.total == 1);
  add_sort_tabs(root, context);
  add_cards(root, "cards", listing.cards, now, cache);
  add_listing_pagination(root, listing, context);
  return render_page(t_.listing, data, cards);
}

namespace {

// "/search?q=night+city&sort=newest&category=music&duration=long&page=2": the query always, the
// rest when it is not the default.
void append_search_href(std::string& out, const projection::SearchQuery& query, projection::SearchSort sort,
                        int64_t page) {
  out.append("/search?q=");
  append_url_encoded(out, query.text);
  if (sort != projection::SearchSort::relevance) {
    out.append("&sort=");
    out.append(search_sort_name(sort));
  }
  for (auto [name, value] : {std::pair<std::string_view, std::string_view>{"category", query.category},
                             {"tag", query.tag},
                             {"channel", query.channel}}) {
    if (value.empty()) continue;
    out.append("&").append(name).append("=");
    append_url_encoded(out, value);
  }
  if (query.duration != Duration::any) out.append("&duration=").append(duration_name(query.duration));
  if (query.period != Period::all) out.append("&period=").append(period_name(query.period));
  if (page > 1) out.append("&page=").append(std::to_string(page));
}

std::string_view search_sort_label(projection::SearchSort sort) {
  switch (sort) {
    case projection::SearchSort::relevance:
      return "Relevance";
    case projection::SearchSort::newest:
      return "Newest";
    case projection::SearchSort::views:
      return "Most viewed";
    case projection::SearchSort::rating:
      return "Top rated";
    case projection::SearchSort::duration:
      return "Longest";
  }
  return "Relevance";
}

}  // namespace

std::string Renderer::search(const projection::SearchResults& results, const SearchPage& page, int64_t now,
                             const Frame& frame) const {
  const projection::SearchQuery& query = page.query;
  const size_t cards = results.cards.size();
  CardCache& cache = thread_card_cache();
  cache.begin_page(id_);
  TemplateData data(page_nodes * 2 + cards * nodes_per_card, page_text * 2 + cards * text_per_card);
  auto root = data.root();
  const bool searched = page.message.empty() && !query.text.empty();
  std::string heading = searched ? "Results for “" + query.text + "”" : std::string("Search");
  if (results.page > 1) heading += " · Page " + std::to_string(results.page);
  const std::string description = "Search the videos on " + options_.name + ".";  // outlives the render
  add_layout(root, options_.name, heading, description, results.nav, "", frame);
  root.set_bool("noindex", true).set("heading", heading).set("q", query.text).set("message", page.message);
  root.set("search_q", query.text).set("sort", search_sort_name(query.sort));
  root.set("tag", query.tag).set("channel", query.channel);
  auto categories = root.add_list("categories");
  for (const CategoryLink& category : results.nav) {
    categories.add_object()
        .set("slug", category.slug)
        .set("name", category.name)
        .set_bool("selected", category.slug == query.category);
  }
  auto durations = root.add_list("durations");
  for (Duration duration : all_durations) {
    durations.add_object()
        .set("value", duration == Duration::any ? "" : duration_name(duration))
        .set("label", duration_label(duration))
        .set_bool("selected", duration == query.duration);
  }
  auto periods = root.add_list("periods");
  for (Period period : {Period::all, Period::day, Period::week, Period::month}) {
    periods.add_object()
        .set("value", period == Period::all ? "" : period_name(period))
        .set("label", period == Period::all ? "Any time" : period_label(period))
        .set_bool("selected", period == query.period);
  }
  if (page.suggestion) {
    projection::SearchQuery corrected = query;
    corrected.text = *page.suggestion;
    root.add_object("suggestion").set("text", *page.suggestion).set_written("href", [&](std::string& out) {
      append_search_href(out, corrected, query.sort, 1);
    });
  }
  if (searched) {
    root.set_bool("has_results", results.total > 0).set_bool("no_results", results.total == 0);
    root.set_safe_written("total", [&](std::string& out) { append_exact_count(out, results.total); });
    root.set_bool("single", results.total == 1).set_bool("approximate", results.approximate);
    const bool filtered = !query.category.empty() || !query.tag.empty() || !query.channel.empty() ||
                          query.duration != Duration::any || query.period != Period::all;
    if (filtered) {
      projection::SearchQuery unfiltered;
      unfiltered.text = query.text;
      root.set_written("unfiltered",
                       [&](std::string& out) { append_search_href(out, unfiltered, query.sort, 1); });
    }
    auto tabs = root.add_list("sort_tabs");
    for (projection::SearchSort sort : projection::all_search_sorts) {
      tabs.add_object()
          .set("label", search_sort_label(sort))
          .set_bool("current", sort == query.sort)
          .set_written("href", [&](std::string& out) { append_search_href(out, query, sort, 1); });
    }
    add_cards(root, "cards", results.cards, now, cache, {}, &page.marker);
    add_pagination(root, results.page, results.pages, [&](std::string& out, int64_t number) {
      append_search_href(out, query, query.sort, number);
    });
  }
  return render_page(t_.search, data, cards);
}

std::string Renderer::opensearch(std::string_view origin) const {
  std::string out = R"(<?xml version="1.0" encoding="UTF-8"?>
<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/" xmlns:moz="http://www.mozilla.org/2006/browser/search/">
<ShortName>)";
  append_escaped(out, std::string_view(options_.name).substr(0, 16));
  out.append("</ShortName>\n<Description>Search the videos on ");
  append_escaped(out, options_.name);
  out.append(
      "</Description>\n<InputEncoding>UTF-8</InputEncoding>\n<Image width=\"16\" height=\"16\" "
      "type=\"image/svg+xml\">");
  append_escaped(out, origin);
  out.append("/static/img/favicon.svg</Image>\n<Url type=\"text/html\" method=\"get\" template=\"");
  append_escaped(out, origin);
  out.append(
      "/search?q={searchTerms}\"/>\n<Url type=\"application/x-suggestions+json\" method=\"get\" template=\"");
  append_escaped(out, origin);
  out.append(
      "/api/v1/suggest?q={searchTerms}&amp;format=opensearch\"/>\n<Url "
      "type=\"application/opensearchdescription+xml\" rel=\"self\" template=\"");
  append_escaped(out, origin);
  out.append("/opensearch.xml\"/>\n<moz:SearchForm>");
  append_escaped(out, origin);
  out.append("/search</moz:SearchForm>\n</OpenSearchDescription>\n");
  return out;
}

std::string Renderer::watch(const projection::VideoPage& video, int64_t now, const Frame& frame,
                            const WatchActions& actions, const WatchComments& comments,
                            const PlaylistPanel* playlist) const {
  size_t cards = video.related.size() + (playlist != nullptr ? playlist->cards.size() / 2 : 0);
  CardCache& cache = thread_card_cache();
  cache.begin_page(id_);
  TemplateData data(page_nodes + cards * nodes_per_card, page_text + cards * text_per_card);
  auto root = data.root();
  std::string_view description = utf8_prefix(video.description, max_description_bytes);
  add_layout(root, options_.name, video.title,
             description.empty() ? std::string_view(video.title) : description, video.nav, "", frame);
  root.set_safe_written("canonical", [&](std::string& out) { append_watch_path(out, video.id, video.slug); });

  auto page = root.add_object("video");
  page.set("title", video.title)
      .set("poster", video.poster_url)
      .set("hls", video.hls_url)
      .set("sprite_vtt", video.sprite_vtt_url)
      .set("description", video.description)
      .set("channel", video.channel_display_name.empty() ? video.channel_name : video.channel_display_name)
      .set_safe_written("channel_url",
                        [&](std::string& out) {
                          out.append("/channel/");
                          append_url_encoded(out, video.channel_name);
                        })
      .set_safe_written("views", [&](std::string& out) { append_exact_count(out, video.views); })
      .set_bool("single_view", video.views == 1)
      .set_safe_written("age", [&](std::string& out) { append_age(out, video.published_at, now); })
      .set_safe_written("duration", [&](std::string& out) { append_duration(out, video.duration_s); })
      .set_safe_written("beacon",
                        [&](std::string& out) {
                          out.append("/api/v1/videos/");
                          out.append(std::to_string(video.id));
                          out.append("/view");
                        })
      .set_safe_written("likes", [&](std::string& out) { append_count(out, video.likes); })
      .set_safe_written("dislikes", [&](std::string& out) { append_count(out, video.dislikes); });
  if (video.rating >= 0) page.set_int("rating", std::lround(video.rating));
  page.set_int("id", video.id).set_safe_written("comment_count", [&](std::string& out) {
    append_exact_count(out, video.comments);
  });
  if (!frame.esi) add_watch_actions(page, video.id, video.channel_name, actions);
  auto files = page.add_list("files");
  for (const projection::Rendition& file : video.files) {
    files.add_object().set("url", file.url).set_int("height", file.height);
  }
  auto tags = page.add_list("tags");
  for (const std::string& tag : video.tags) {
    tags.add_object().set("name", tag).set_safe_written("href", [&](std::string& out) {
      out.append("/tag/");
      append_url_encoded(out, tag);
    });
  }
  auto categories = page.add_list("categories");
  for (const CategoryLink& category : video.categories) {
    categories.add_object().set("name", category.name).set_safe_written("href", [&](std::string& out) {
      out.append("/category/");
      append_url_encoded(out, category.slug);
    });
  }
  add_cards(root, "related", video.related, now, cache);
  if (comments.page != nullptr) add_comments(page, video, comments, now, frame);
  if (playlist != nullptr) add_playlist_panel(root, *playlist, video.id);
  return render_page(t_.watch, data, cards);
}

std::string Renderer::upload(const std::vector<CategoryLink>& nav, const Frame& frame,
                             bool may_upload) const {
  TemplateData data(page_nodes + nav.size() * 3, page_text);
  auto root = data.root();
  const std::string description = "Upload a video to " + options_.name + ".";  // borrowed by the data
  add_layout(root, options_.name, "Upload a video", description, nav, "", frame);
  root.set_bool("noindex", true).set_bool("may_upload", may_upload);
  auto categories = root.add_list("categories");
  for (const CategoryLink& category : nav)
    categories.add_object().set("slug", category.slug).set("name", category.name);
  return render_page(t_.upload, data, 0);
}

std::string Renderer::error_page(int status, std::string_view title, std::string_view message,
                                 const std::vector<CategoryLink>& nav, const Frame& frame) const {
  TemplateData data(page_nodes, page_text);
  auto root = data.root();
  add_layout(root, options_.name, title, message, nav, "", frame);
  root.set_int("status", status).set("title", title).set("message", message).set_bool("noindex", true);
  return render_page(t_.error, data, 0);
}

std::string Renderer::user_bar(const Viewer& viewer) const {
  TemplateData data(32, 256);
  add_viewer(data.root(), viewer);
  return render_page(t_.user_bar, data, 0);
}

std::string Renderer::comment_form(int64_t video_id, const Viewer& viewer) const {
  TemplateData data(16, 128);
  auto root = data.root();
  add_viewer(root, viewer);
  root.set_int("id", video_id);
  return render_page(t_.comment_form, data, 0);
}

std::string Renderer::watch_actions(int64_t video_id, std::string_view channel, const Viewer& viewer,
                                    const WatchActions& actions) const {
  TemplateData data(64 + actions.playlists.size() * 4, 512);
  auto root = data.root();
  add_viewer(root, viewer);
  add_watch_actions(root, video_id, channel, actions);
  return render_page(t_.watch_actions, data, 0);
}

std::string Renderer::collection(const CollectionPage& page, const std::vector<Card>& cards, int64_t now,
                                 const Frame& frame, const std::vector<CategoryLink>& nav) const {
  CardCache& cache = thread_card_cache();
  cache.begin_page(id_);
  TemplateData data(page_nodes + cards.size() * nodes_per_card, page_text + cards.size() * text_per_card);
  auto root = data.root();
  std::string heading;  // borrowed by the data
  std::string_view eyebrow;
  std::string_view empty;
  switch (page.kind) {
    case Collection::favorites:
      heading = "Your favorites";
      empty = "Nothing here yet: press Favorite under a video to keep it here.";
      break;
    case Collection::videos:
      heading = "Your videos";
      empty = "You have not uploaded a video yet.";
      root.set_bool("upload", true);
      break;
    case Collection::feed:
      heading = "Subscriptions";
      empty = "No videos yet: subscribe to channels to see their newest videos here.";
      break;
    case Collection::playlist:
      heading = page.playlist.title;
      eyebrow = "Playlist";
      empty = "This playlist is empty.";
      break;
  }
  std::string page_title = heading;  // borrowed by the data
  if (page.page > 1) page_title += " · Page " + std::to_string(page.page);
  add_layout(root, options_.name, page_title, heading, nav, "", frame);
  root.set("heading", heading)
      .set("eyebrow", eyebrow)
      .set("empty", empty)
      .set_bool("noindex", page.kind != Collection::playlist);
  root.set_safe_written("total", [&](std::string& out) { append_exact_count(out, page.total); });
  root.set_bool("single", page.total == 1);
  // Where a form on this page comes back to: this very page.
  root.set_written("back", [&](std::string& out) { append_paged_path(out, page.path, page.page); });

  CardExtra extra;
  if (page.kind == Collection::favorites) {
    extra = [](TemplateData::Object item, const Card& card, size_t) {
      add_remove_button(item, "/api/v1/me/favorites/", card, "Remove");
    };
  } else if (page.kind == Collection::videos) {
    extra = [](TemplateData::Object item, const Card& card, size_t) {
      add_remove_button(item, "/api/v1/videos/", card, "Delete");
    };
  } else if (page.kind == Collection::playlist) {
    const int64_t id = page.playlist.id;
    const bool owner = page.owner;
    const int64_t first = page.first_index;
    // The owner's buttons: remove (DELETE /api/v1/playlists/{id}/videos/{video}) and move one
    // place up or down (PUT of the same address with the new position).
    std::string items = owner ? "/api/v1/playlists/" + std::to_string(id) + "/videos/" : "";
    const int64_t total = page.total;
    extra = [id, first, total, items = std::move(items)](TemplateData::Object item, const Card& card,
                                                         size_t index) {
      const int64_t position = first + static_cast<int64_t>(index);
      item.set_written("play",
                       [&](std::string& out) { append_playlist_watch_path(out, card, id, position); });
      item.set_int("index", position);
      if (items.empty()) return;
      add_remove_button(item, items, card, "Remove");
      if (position > 1) item.set_int("move_up", position - 1);
      if (position < total) item.set_int("move_down", position + 1);
    };
    auto playlist = root.add_object("playlist");
    playlist.set_int("id", id)
        .set("title", page.playlist.title)
        .set("owner", page.playlist.owner_name)
        .set_bool("public", page.playlist.is_public)
        .set_bool("edit", owner);
    if (page.total > 0) {
      playlist.set_safe_written("play_all", [&](std::string& out) { append_playlist_play_path(out, id, 1); });
    }
  }
  if (page.kind == Collection::feed) {
    auto followed = root.add_object("followed");
    followed.set_safe_written("total",
                              [&](std::string& out) { append_exact_count(out, page.channels_total); });
    auto channels = followed.add_list("channels");
    for (const catalog::FollowedChannel& channel : page.channels) {
      channels.add_object()
          .set("name", channel.display_name.empty() ? channel.name : channel.display_name)
          .set_safe_written("href",
                            [&](std::string& out) {
                              out.append("/channel/");
                              append_url_encoded(out, channel.name);
                            })
          .set_safe_written("unsubscribe",
                            [&](std::string& out) {
                              out.append("/api/v1/me/subscriptions/");
                              append_url_encoded(out, channel.name);
                            })
          .set_safe_written("subscribers", [&](std::string& out) { append_count(out, channel.subscribers); });
    }
  }
  add_cards(root, "cards", cards, now, cache, extra);
  add_pagination(root, page.page, page.pages,
                 [&](std::string& out, int64_t number) { append_paged_path(out, page.path, number); });
  return render_page(t_.collection, data, cards.size());
}

std::string Renderer::playlists(const PlaylistsPage& page, const Frame& frame,
                                const std::vector<CategoryLink>& nav) const {
  TemplateData data(page_nodes + page.playlists.size() * 8, page_text + page.playlists.size() * 64);
  auto root = data.root();
  add_layout(root, options_.name, "Your playlists", "Your playlists.", nav, "", frame);
  root.set_bool("noindex", true);
  root.set_safe_written("total", [&](std::string& out) { append_exact_count(out, page.total); });
  auto list = root.add_list("playlists");
  for (const catalog::PlaylistSummary& summary : page.playlists) {
    list.add_object()
        .set("title", summary.playlist.title)
        .set_safe_written("href",
                          [&](std::string& out) {
                            out.append("/playlist/");
                            out.append(std::to_string(summary.playlist.id));
                          })
        .set_safe_written("items", [&](std::string& out) { append_exact_count(out, summary.items); })
        .set_bool("single", summary.items == 1)
        .set_bool("public", summary.playlist.is_public);
  }
  add_pagination(root, page.page, page.pages,
                 [](std::string& out, int64_t number) { append_paged_path(out, "/me/playlists", number); });
  return render_page(t_.playlists, data, 0);
}

namespace {

// The fields of the account forms (signin.html, register.html, account.html).
void add_form(TemplateData::Object root, const FormPage& form) {
  root.set("form_token", form.form_token)
      .set("message", form.message)
      .set("next", form.next)
      .set("username", form.username)
      .set("email", form.email)
      .set_bool("noindex", true);
}

}  // namespace

std::string Renderer::entry_form(EntryForm which, const FormPage& form,
                                 const std::vector<CategoryLink>& nav) const {
  TemplateData data(page_nodes, page_text);
  auto root = data.root();
  const bool signin = which == EntryForm::signin;
  const std::string description =  // borrowed by the data
      (signin ? "Sign in to " : "Create an account on ") + options_.name + ".";
  add_layout(root, options_.name, signin ? "Sign in" : "Register", description, nav, "", {});
  add_form(root, form);
  return render_page(signin ? t_.signin : t_.register_form, data, 0);
}

std::string Renderer::account(const Frame& frame, const FormPage& form,
                              const std::vector<CategoryLink>& nav) const {
  TemplateData data(page_nodes, page_text);
  auto root = data.root();
  add_layout(root, options_.name, "Your account", "Your account.", nav, "", frame);
  add_form(root, form);
  return render_page(t_.account, data, 0);
}

}  // namespace reel::pages
