// How long a 30-card listing page takes to render: the whole Renderer::listing() call (building
// the template data from read-model values, then rendering), and the template alone.
// Run: build/bench/pages/reel_template_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>

#include "pages/renderer.h"

namespace {

using namespace reel;

constexpr int64_t now = 1'700'000'000;

projection::Listing listing_of_30_cards() {
  projection::Listing listing;
  for (int64_t id = 1; id <= 30; ++id) {
    projection::Card card;
    card.id = 1'000'000 + id;
    card.title = "A fairly ordinary video title & a few <special> characters, number " + std::to_string(id);
    card.slug = "a-fairly-ordinary-video-title-a-few-special-characters-number-" + std::to_string(id);
    card.duration_s = static_cast<int32_t>(90 + id * 37);
    card.views = 1'234'567 * id;
    card.rating = id % 5 == 0 ? -1 : 80 + id % 20;
    card.published_at = now - id * 86'400;
    card.thumb_url = "/media/thumbs/" + std::to_string(card.id) + ".jpg";
    card.channel_name = "channel_" + std::to_string(id % 7);
    listing.cards.push_back(std::move(card));
  }
  listing.total = 1'000'000;
  listing.page = 17;
  listing.pages = 33'334;
  for (std::string name : {"Music", "Gaming", "Pets & Animals", "Sports", "Travel", "Comedy", "Education",
                           "Science", "News", "Film", "Autos", "How-to"}) {
    listing.nav.push_back({name, name});
  }
  return listing;
}

const pages::Renderer& renderer() {
  static const pages::Renderer instance = [] {
    auto loaded = pages::Renderer::load(pages::SiteOptions{"Reel", REEL_TEMPLATES_DIR, {}});
    if (!loaded) {
      std::cerr << loaded.error().message << "\n";
      std::exit(1);
    }
    return std::move(*loaded);
  }();
  return instance;
}

void BM_RenderListing30(benchmark::State& state) {
  projection::Listing listing = listing_of_30_cards();
  pages::ListingContext context{projection::ListKind::all, "/videos", projection::Sort::views,
                                projection::Period::week};
  size_t bytes = 0;
  for (auto _ : state) {
    std::string html = renderer().listing(listing, context, now);
    bytes = html.size();
    benchmark::DoNotOptimize(html);
  }
  state.counters["page_bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderListing30)->Unit(benchmark::kMicrosecond);

// The template engine alone: 30 cards of pre-built data through the card partial.
void BM_TemplateOnly30Cards(benchmark::State& state) {
  pages::TemplateSources sources;
  sources.add("grid", "grid.html", "<div class=\"grid\">{{#cards}}{{> card}}{{/cards}}</div>");
  auto all = pages::TemplateSources::read_directory(REEL_TEMPLATES_DIR);
  if (!all || all->find("card") == nullptr) {
    state.SkipWithError("templates not found");
    return;
  }
  sources.add("card", "card.html", all->find("card")->text);
  auto grid = pages::Template::compile(sources, "grid");
  if (!grid) {
    state.SkipWithError(grid.error().message.c_str());
    return;
  }
  projection::Listing listing = listing_of_30_cards();
  pages::TemplateData data(512, 8192);
  auto cards = data.root().add_list("cards");
  for (const projection::Card& card : listing.cards) {
    cards.add_object()
        .set("url", card.slug)
        .set("title", card.title)
        .set("thumb", card.thumb_url)
        .set("duration", "12:34")
        .set("channel", card.channel_name)
        .set("channel_url", card.channel_name)
        .set("views", "1.2M")
        .set("age", "3 days ago")
        .set("rating", "92");
  }
  for (auto _ : state) {
    std::string html;
    html.reserve(64 * 1024);
    grid->render(data, html);
    benchmark::DoNotOptimize(html);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TemplateOnly30Cards)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
