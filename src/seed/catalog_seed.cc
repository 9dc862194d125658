#include "seed/catalog_seed.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string_view>

#include "common/days.h"
#include "common/log_failure.h"
#include "search/analyzer.h"

namespace reel::seed {
namespace {

struct CategorySpec {
  std::string_view slug, name;
};
constexpr std::array<CategorySpec, 12> category_specs{{
    {"music", "Music"},
    {"gaming", "Gaming"},
    {"sports", "Sports"},
    {"news", "News"},
    {"comedy", "Comedy"},
    {"education", "Education"},
    {"science-tech", "Science & Tech"},
    {"travel", "Travel"},
    {"film-animation", "Film & Animation"},
    {"cooking", "Cooking"},
    {"pets-animals", "Pets & Animals"},
    {"nature", "Nature"},
}};

constexpr std::array<std::string_view, 40> adjectives{
    "Amazing", "Quiet",   "Epic",    "Tiny",     "Golden", "Hidden", "Wild",     "Lazy",
    "Brave",   "Curious", "Ancient", "Electric", "Frozen", "Sunny",  "Midnight", "Rapid",
    "Gentle",  "Secret",  "Lost",    "Perfect",  "Crazy",  "Simple", "Ultimate", "Daily",
    "Cozy",    "Stormy",  "Urban",   "Retro",    "Cosmic", "Honest", "Spicy",    "Rainy",
    "Neon",    "Silent",  "Massive", "Early",    "Last",   "First",  "Best",     "Café"};
constexpr std::array<std::string_view, 40> nouns{
    "Guitar",  "Mountain",  "Kitten", "Robot",    "Recipe",   "Journey", "Forest",     "City",
    "Ocean",   "Puzzle",    "Garden", "Engine",   "Dragon",   "Sunset",  "Market",     "River",
    "Castle",  "Rocket",    "Piano",  "Island",   "Volcano",  "Library", "Harbor",     "Desert",
    "Bicycle", "Telescope", "Bakery", "Workshop", "Festival", "Train",   "Lighthouse", "Canyon",
    "Reef",    "Meadow",    "Studio", "Stadium",  "Kitchen",  "Glacier", "Jungle",     "Señor"};
constexpr std::array<std::string_view, 16> phrases{
    "in 4K",       "for Beginners",      "Explained",     "— Full Tour",         "at Night",
    "(Live)",      "vs. the World",      "Tips & Tricks", "Time-lapse",          "from Above",
    "Compilation", "\"Director's Cut\"", "Q&A",           "<Behind the Scenes>", "日本語 Edition",
    "Part 2"};
constexpr std::array<std::string_view, 8> channel_words{"studio", "daily", "films", "lab",
                                                        "crew",   "tv",    "works", "club"};

// A Pareto-like view count: most videos get few views, a few get millions.
int64_t skewed_views(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0001, 1.0);
  return static_cast<int64_t>(std::min(50'000'000.0, 40.0 / std::pow(u(rng), 1.3)));
}

struct Generator {
  explicit Generator(uint64_t seed) : rng(seed) {}

  std::string title() {
    std::string t = fmt::format("{} {}", pick(adjectives), pick(nouns));
    if (chance(0.6)) t += fmt::format(" {}", pick(phrases));
    return t;
  }

  template <class Array>
  const typename Array::value_type& pick(const Array& items) {
    return items[std::uniform_int_distribution<size_t>(0, items.size() - 1)(rng)];
  }

  bool chance(double p) { return std::bernoulli_distribution(p)(rng); }
  int64_t between(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

  std::mt19937_64 rng;
};

struct ChannelRef {
  int64_t id;
  std::string name;
};

catalog::Video make_video(Generator& gen, const Clip& clip, const ChannelRef& channel, int64_t published_at) {
  catalog::Video video;
  video.channel_id = channel.id;
  video.channel_name = channel.name;
  video.title = gen.title();
  video.slug = search::thread_analyzer().slug(video.title);
  video.description = fmt::format("{}.\nFilmed and edited by {}. Thanks for watching — like & subscribe!",
                                  video.title, channel.name);
  video.duration_s = static_cast<int32_t>(
      std::clamp<double>(std::lognormal_distribution<double>(5.5, 1.0)(gen.rng), 15, 3 * 3600));
  video.width = 640;
  video.height = 360;
  video.status = catalog::VideoStatus::ready;
  video.published_at = published_at;
  video.created_at = published_at;
  video.views = skewed_views(gen.rng);
  video.likes = video.views / gen.between(20, 80);
  video.dislikes = video.likes / gen.between(5, 40);
  video.files = clip.files;
  return video;
}

// Views for the last 30 days, shaped so today's count is a fair share of the total.
std::vector<catalog::DailyViews> recent_views(Generator& gen, int64_t video_id, int64_t total, int64_t now) {
  std::vector<catalog::DailyViews> rows;
  const int32_t today = utc_day(now);
  const int64_t per_day = std::max<int64_t>(1, total / 200);
  for (int back = 0; back < 30; ++back) {
    rows.push_back({video_id, days_before(today, back), per_day * gen.between(50, 150) / 100});
  }
  return rows;
}

}  // namespace

Status ensure_categories(sql::CatalogStore& store) {
  int32_t position = 0;
  for (const auto& c : category_specs) {
    if (auto id = store.ensure_category(std::string(c.slug), std::string(c.name), position++); !id)
      return id.error();
  }
  return {};
}

Status insert_demo_catalog(sql::CatalogStore& store, const std::vector<Clip>& clips, int64_t now) {
  if (clips.empty()) return Error{"the demo catalog needs at least one clip"};
  if (auto s = ensure_categories(store); !s) return s;
  struct ChannelSpec {
    std::string_view name, display;
  };
  constexpr std::array<ChannelSpec, 6> channels{{{"aurora-studio", "Aurora Studio"},
                                                 {"kitchen-lab", "Kitchen Lab"},
                                                 {"pixel-crew", "Pixel Crew"},
                                                 {"wanderlust", "Wanderlust TV"},
                                                 {"science-daily", "Science Daily"},
                                                 {"the-comedy-club", "The Comedy Club"}}};
  std::vector<ChannelRef> refs;
  for (const auto& c : channels) {
    auto id = store.ensure_channel(std::string(c.name), std::string(c.display));
    if (!id) return id.error();
    refs.push_back({*id, std::string(c.name)});
  }
  Generator gen(2026);
  for (int i = 0; i < 30; ++i) {
    auto video = make_video(gen, clips[static_cast<size_t>(i) % clips.size()],
                            refs[static_cast<size_t>(i) % refs.size()], now - gen.between(3600, 60 * 86400));
    video.duration_s = clips[static_cast<size_t>(i) % clips.size()].duration_s;
    video.categories = {std::string(category_specs[static_cast<size_t>(i) % 8].slug)};
    if (i % 3 == 0) video.categories.emplace_back(category_specs[8 + static_cast<size_t>(i) % 4].slug);
    video.tags = {"demo", search::thread_analyzer().slug(gen.pick(nouns)),
                  search::thread_analyzer().slug(gen.pick(adjectives))};
    auto id = store.insert_video(video);
    if (!id) return id.error();
    if (auto s = store.add_daily_views(recent_views(gen, *id, video.views, now)); !s) return s;
  }
  return {};
}

Status insert_synthetic(sql::CatalogStore& store, const std::vector<Clip>& clips,
                        const SyntheticOptions& options) {
  if (clips.empty()) return Error{"synthetic videos need at least one clip"};
  if (auto s = ensure_categories(store); !s) return s;
  Generator gen(options.seed);
  const int64_t channel_count = std::max<int64_t>(10, options.videos / 200);
  std::vector<ChannelRef> channel_refs;
  // Continue numbering after any synthetic channels already there, so repeated seeds add channels.
  auto existing = store.channels();
  if (!existing) return existing.error();
  const size_t first = existing->size();
  for (int64_t i = 0; i < channel_count; ++i) {
    std::string name = fmt::format("{}-{}-{}", search::thread_analyzer().slug(gen.pick(nouns)),
                                   gen.pick(channel_words), first + static_cast<size_t>(i));
    std::string display = fmt::format("{} {}", gen.pick(nouns), gen.pick(channel_words));
    display[display.find(' ') + 1] = static_cast<char>(std::toupper(display[display.find(' ') + 1]));
    auto id = store.ensure_channel(name, display);
    if (!id) return id.error();
    channel_refs.push_back({*id, std::move(name)});
  }
  std::vector<std::string> vocabulary;
  for (auto a : adjectives) vocabulary.push_back(search::thread_analyzer().slug(a));
  for (auto n : nouns) vocabulary.push_back(search::thread_analyzer().slug(n));
  for (auto a : adjectives)
    for (auto n : {"tutorial", "review", "vlog", "live", "shorts", "remix", "asmr", "hd"})
      vocabulary.push_back(fmt::format("{}-{}", search::thread_analyzer().slug(a), n));

  constexpr int64_t per_transaction = 20000;
  auto& db = store.connection();
  for (int64_t done = 0; done < options.videos;) {
    if (auto s = db.begin(); !s) return s;
    const int64_t end = std::min(options.videos, done + per_transaction);
    for (; done < end; ++done) {
      const auto& clip = clips[static_cast<size_t>(done) % clips.size()];
      auto video = make_video(gen, clip, channel_refs[static_cast<size_t>(gen.between(0, channel_count - 1))],
                              options.now - gen.between(0, 730 * 86400));
      video.categories = {std::string(gen.pick(category_specs).slug)};
      if (gen.chance(0.3)) {
        std::string second(gen.pick(category_specs).slug);
        if (second != video.categories[0]) video.categories.push_back(std::move(second));
      }
      const int tags = static_cast<int>(gen.between(3, 5));
      for (int t = 0; t < tags; ++t) {
        std::string tag =
            vocabulary[static_cast<size_t>(gen.between(0, static_cast<int64_t>(vocabulary.size()) - 1))];
        if (std::find(video.tags.begin(), video.tags.end(), tag) == video.tags.end())
          video.tags.push_back(std::move(tag));
      }
      auto id = store.insert_video(video);
      if (!id) {
        log_failure(store.rollback(), "rolling back the seed batch");
        return id.error();
      }
      if (video.views > 5000 && gen.chance(0.2)) {
        if (auto s = store.add_daily_views(recent_views(gen, *id, video.views, options.now)); !s) {
          log_failure(store.rollback(), "rolling back the seed batch");
          return s;
        }
      }
    }
    if (auto s = db.commit(); !s) return s;
    if (options.progress) options.progress(done, options.videos);
  }
  return {};
}

}  // namespace reel::seed
