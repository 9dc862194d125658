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
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "media/link_signer.h"
#include "pages/card_cache.h"
#include "pages/format.h"  // format_count, format_duration, format_age, url_encode_path_segment, watch_path
#include "pages/template.h"
#include "projection/read_model.h"

namespace reel::pages {

struct SiteOptions {
  std::string name = "Reel";
  std::string templates_dir;
  media::LinkSigner links;  // signs the media URLs pages carry (card previews)
};

// What a listing page needs besides the data: its base path for links and the active sort.
struct ListingContext {
  projection::ListKind kind = projection::ListKind::all;
  std::string path;  // "/videos", "/category/music", "/tag/cats", "/channel/bob" (already URL-safe)
  projection::Sort sort = projection::Sort::newest;
  projection::Period period = projection::Period::all;
};

class Renderer {
 public:
  static Result<Renderer> load(SiteOptions options);

  std::string home(const projection::Home& home, int64_t now) const;
  // Sort tabs link to "?sort=newest|views|rating|duration[&period=day|week|month|all]" (kinds all
  // and category; tag and channel get newest and views only); page links add "&page=N".
  std::string listing(const projection::Listing& listing, const ListingContext& context, int64_t now) const;
  std::string watch(const projection::VideoPage& video, int64_t now) const;
  // The upload form; its category menu lists `nav`. Static but for the nav: no media links.
  std::string upload(const std::vector<projection::CategoryLink>& nav) const;
  std::string error_page(int status, std::string_view title, std::string_view message,
                         const std::vector<projection::CategoryLink>& nav) const;

 private:
  Renderer(SiteOptions options, Template home, Template listing, Template watch, Template upload,
           Template error, Template card);
  // Adds the list `key` of cards, each item holding its HTML from the thread's CardCache.
  void add_cards(TemplateData::Object parent, TemplateData::Key key,
                 const std::vector<projection::Card>& cards, int64_t now, CardCache& cache) const;

  SiteOptions options_;
  uint64_t id_;  // identifies this renderer's entries in the per-thread CardCache
  Template home_;
  Template listing_;
  Template watch_;
  Template upload_;
  Template error_;
  Template card_;
};

}  // namespace reel::pages
