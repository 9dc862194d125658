#include "pages/renderer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace reel::pages {
namespace {

using projection::Card;
using projection::CategoryLink;
using projection::Duration;
using projection::ListKind;
using projection::Period;
using projection::Sort;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t now = 1'700'000'000;
constexpr std::string_view evil_title = R"(Tom & Jerry <script>alert("x")</script> 'quoted' — 日本語)";
constexpr std::string_view escaped_evil_title =
    "Tom &amp; Jerry &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#39;quoted&#39; — 日本語";

std::string templates_dir() {
  const char* source_dir = std::getenv("REEL_SOURCE_DIR");
  return std::string(source_dir != nullptr ? source_dir : ".") + "/templates";
}

size_t count(std::string_view text, std::string_view needle) {
  size_t found = 0;
  for (size_t at = text.find(needle); at != text.npos; at = text.find(needle, at + needle.size())) ++found;
  return found;
}

std::vector<CategoryLink> nav() {
  return {{"music", "Music"}, {"pets-animals", "Pets & Animals"}};
}

Card card(int64_t id) {
  Card c;
  c.id = id;
  c.title = id == 1 ? std::string(evil_title) : "Video number " + std::to_string(id);
  c.slug = "video-" + std::to_string(id);
  c.duration_s = static_cast<int32_t>(60 + id);
  c.views = 1'234'567;
  c.rating = id % 2 == 0 ? 92.4 : -1;
  c.published_at = now - 3 * 86'400;
  c.thumb_url = "/media/thumbs/" + std::to_string(id) + ".jpg";
  c.channel_name = "chan" + std::to_string(id);
  return c;
}

std::vector<Card> cards(int n) {
  std::vector<Card> result;
  for (int i = 1; i <= n; ++i) result.push_back(card(i));
  return result;
}

projection::Listing listing_page(int page, int pages) {
  projection::Listing listing;
  listing.cards = cards(30);
  listing.total = static_cast<int64_t>(pages) * 30;
  listing.page = page;
  listing.pages = pages;
  listing.nav = nav();
  return listing;
}

class RendererTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = Renderer::load(SiteOptions{"Reel", templates_dir(), {}});
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    renderer_.emplace(std::move(*loaded));
  }

  std::string listing(int page, int pages, ListingContext context = {ListKind::all, "/videos"}) const {
    return renderer_->listing(listing_page(page, pages), context, now);
  }

  std::optional<Renderer> renderer_;
};

void expect_common_page_parts(const std::string& html) {
  EXPECT_TRUE(html.starts_with("<!doctype html>")) << html.substr(0, 80);
  EXPECT_THAT(html, HasSubstr(R"(<html lang="en">)"));
  EXPECT_THAT(html, HasSubstr(R"(<meta name="viewport" content="width=device-width, initial-scale=1">)"));
  EXPECT_THAT(html, HasSubstr(R"(<meta name="description" content=")"));
  EXPECT_THAT(html, HasSubstr(R"(<link rel="stylesheet" href="/static/css/reel.css">)"));
  EXPECT_THAT(html, HasSubstr(R"(href="/static/img/favicon.svg")"));
  EXPECT_THAT(html, HasSubstr(R"(<a href="/category/music">Music</a>)"));
  EXPECT_THAT(html, HasSubstr(R"(<a href="/category/pets-animals">Pets &amp; Animals</a>)"));
  EXPECT_THAT(html, HasSubstr("</html>"));
}

TEST_F(RendererTest, ListingRendersThirtyCardsWithLinksAndEscapedTitles) {
  std::string html = listing(1, 5);
  expect_common_page_parts(html);
  EXPECT_THAT(html, HasSubstr("<title>Newest videos · Reel</title>"));
  EXPECT_EQ(count(html, R"(<article class="card">)"), 30u);
  for (int id = 1; id <= 30; ++id) {
    EXPECT_EQ(count(html, "href=\"" + watch_path(id, "video-" + std::to_string(id)) + "\""), 2u) << id;
  }
  EXPECT_THAT(html, HasSubstr(escaped_evil_title));
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, HasSubstr(R"(<span class="card__duration">1:01</span>)"));
  EXPECT_THAT(html, HasSubstr("1.2M views"));
  EXPECT_THAT(html, HasSubstr("3 days ago"));
  EXPECT_THAT(html, HasSubstr(R"(<a href="/channel/chan7">chan7</a>)"));
  EXPECT_EQ(count(html, R"(class="card__rating")"), 15u);  // only the even ids have votes
  EXPECT_THAT(html, HasSubstr(">92%</span>"));
}

TEST_F(RendererTest, ListingUsesTheTitleAndMarksTheCurrentCategory) {
  auto data = listing_page(1, 1);
  data.title = "Pets & Animals";
  std::string html = renderer_->listing(data, {ListKind::category, "/category/pets-animals"}, now);
  EXPECT_THAT(html, HasSubstr("<h1>Pets &amp; Animals</h1>"));
  EXPECT_THAT(html, HasSubstr(R"(<a href="/category/pets-animals" aria-current="page">)"));
  EXPECT_THAT(html, HasSubstr(R"(<a href="/category/music">)"));
}

TEST_F(RendererTest, PaginationOnTheFirstPage) {
  std::string html = listing(1, 33'334);
  EXPECT_THAT(html, Not(HasSubstr(R"(rel="prev")")));
  EXPECT_THAT(html, HasSubstr(R"(rel="next" href="/videos?sort=newest&amp;page=2")"));
  EXPECT_THAT(html, HasSubstr(R"(<span class="pagination__page" aria-current="page">1</span>)"));
  EXPECT_THAT(html, HasSubstr(R"(<a class="pagination__page" href="/videos?sort=newest&amp;page=3">3</a>)"));
  EXPECT_THAT(html, Not(HasSubstr("page=4\"")));
  EXPECT_EQ(count(html, "pagination__gap"), 1u);
  EXPECT_THAT(
      html, HasSubstr(R"(<a class="pagination__page" href="/videos?sort=newest&amp;page=33334">33,334</a>)"));
}

TEST_F(RendererTest, PaginationInTheMiddleKeepsTheSortAndShowsAWindow) {
  std::string html = listing(500, 33'334, {ListKind::all, "/videos", Sort::views, Period::week});
  const std::string base = "/videos?sort=views&amp;period=week";
  EXPECT_THAT(html, HasSubstr(R"(rel="prev" href=")" + base + "&amp;page=499\""));
  EXPECT_THAT(html, HasSubstr(R"(rel="next" href=")" + base + "&amp;page=501\""));
  EXPECT_THAT(html, HasSubstr(R"(<a class="pagination__page" href=")" + base + "\">1</a>"));
  for (int page : {498, 499, 501, 502}) {
    EXPECT_THAT(html, HasSubstr("href=\"" + base + "&amp;page=" + std::to_string(page) + "\">" +
                                std::to_string(page) + "</a>"));
  }
  EXPECT_THAT(html, HasSubstr(R"(aria-current="page">500</span>)"));
  EXPECT_THAT(html, Not(HasSubstr("page=497\"")));
  EXPECT_THAT(html, Not(HasSubstr("page=503\"")));
  EXPECT_EQ(count(html, "pagination__gap"), 2u);
  EXPECT_THAT(html, HasSubstr("href=\"" + base + "&amp;page=33334\">33,334</a>"));
  EXPECT_THAT(html, HasSubstr("<title>Most viewed videos · This week · Page 500 · Reel</title>"));
}

TEST_F(RendererTest, PaginationOnTheLastPage) {
  std::string html = listing(7, 7);
  EXPECT_THAT(html, HasSubstr(R"(rel="prev" href="/videos?sort=newest&amp;page=6")"));
  EXPECT_THAT(html, Not(HasSubstr(R"(rel="next")")));
  EXPECT_THAT(html, HasSubstr(R"(aria-current="page">7</span>)"));
  EXPECT_THAT(html, HasSubstr(R"(href="/videos?sort=newest">1</a>)"));
  EXPECT_EQ(count(html, "pagination__gap"), 1u);
}

TEST_F(RendererTest, NoPaginationForOnePage) {
  EXPECT_THAT(listing(1, 1), Not(HasSubstr("class=\"pagination\"")));
}

TEST_F(RendererTest, SortTabsMarkTheActiveSortAndPeriod) {
  std::string html = listing(1, 2, {ListKind::category, "/category/music", Sort::views, Period::week});
  EXPECT_THAT(html, HasSubstr(R"(<a class="tab" href="/category/music?sort=newest">Newest</a>)"));
  EXPECT_THAT(
      html,
      HasSubstr(
          R"(<a class="tab" href="/category/music?sort=views&amp;period=week" aria-current="true">Most viewed</a>)"));
  EXPECT_THAT(html, HasSubstr(R"(<a class="tab" href="/category/music?sort=rating">Top rated</a>)"));
  EXPECT_THAT(html, HasSubstr(R"(<a class="tab" href="/category/music?sort=duration">Longest</a>)"));
  EXPECT_THAT(html,
              HasSubstr(R"(<a class="tab" href="/category/music?sort=views&amp;period=day">Today</a>)"));
  EXPECT_THAT(
      html,
      HasSubstr(
          R"(<a class="tab" href="/category/music?sort=views&amp;period=week" aria-current="true">This week</a>)"));
  EXPECT_THAT(html,
              HasSubstr(R"(<a class="tab" href="/category/music?sort=views&amp;period=all">All time</a>)"));
  // The length filter keeps the sort and its window.
  EXPECT_THAT(
      html,
      HasSubstr(
          R"(href="/category/music?sort=views&amp;period=week&amp;duration=long">Over 20 minutes</a>)"));
  EXPECT_EQ(count(html, R"(aria-current="true")"), 3u);  // the sort, the window, "Any length"
}

TEST_F(RendererTest, OtherSortsFilterByUploadPeriodAndLength) {
  std::string html =
      listing(1, 2, {ListKind::all, "/videos", Sort::rating, Period::week, Duration::short_videos});
  EXPECT_THAT(
      html,
      HasSubstr(
          R"(href="/videos?sort=rating&amp;period=week&amp;duration=short" aria-current="true">Top rated</a>)"));
  EXPECT_THAT(html, HasSubstr(R"(aria-label="Uploaded")"));
  EXPECT_THAT(html, Not(HasSubstr("Views counted")));
  EXPECT_THAT(html, HasSubstr(R"(href="/videos?sort=rating&amp;duration=short">Any time</a>)"));
  EXPECT_THAT(html, HasSubstr(R"(href="/videos?sort=rating&amp;period=week">Any length</a>)"));
  // Switching to most viewed drops the upload period (its period is a window of views).
  EXPECT_THAT(html,
              HasSubstr(R"(href="/videos?sort=views&amp;period=all&amp;duration=short">Most viewed</a>)"));
  EXPECT_THAT(html, HasSubstr("Top rated videos · uploaded this week · under 4 minutes"));
}

TEST_F(RendererTest, TagAndChannelListingsOfferNewestAndMostViewedOnly) {
  auto data = listing_page(1, 2);
  data.title = "cats";
  std::string html = renderer_->listing(data, {ListKind::tag, "/tag/cats", Sort::views, Period::all}, now);
  EXPECT_THAT(html, HasSubstr(R"(<a class="tab" href="/tag/cats?sort=newest">Newest</a>)"));
  EXPECT_THAT(
      html,
      HasSubstr(
          R"(<a class="tab" href="/tag/cats?sort=views&amp;period=all" aria-current="true">Most viewed</a>)"));
  EXPECT_THAT(html, Not(HasSubstr("Top rated")));
  EXPECT_THAT(html, Not(HasSubstr("Longest")));
  EXPECT_THAT(html, Not(HasSubstr("Views counted")));
  EXPECT_THAT(html, HasSubstr(R"(<p class="eyebrow">Tag</p>)"));
}

TEST_F(RendererTest, EmptyListingSaysSo) {
  projection::Listing empty;
  empty.nav = nav();
  std::string html = renderer_->listing(empty, {ListKind::all, "/videos"}, now);
  EXPECT_THAT(html, HasSubstr("No videos here yet."));
  EXPECT_THAT(html, HasSubstr("0 videos"));
  EXPECT_EQ(count(html, R"(<article class="card">)"), 0u);
}

TEST_F(RendererTest, HomeHasPopularRowNewestGridAndLinkToAllVideos) {
  projection::Home home;
  home.popular = cards(5);
  home.newest = cards(24);
  home.nav = nav();
  std::string html = renderer_->home(home, now);
  expect_common_page_parts(html);
  EXPECT_THAT(html, HasSubstr("Most viewed today"));
  EXPECT_THAT(html, HasSubstr("Newest videos"));
  EXPECT_THAT(html, HasSubstr(R"(href="/videos")"));
  EXPECT_EQ(count(html, R"(<article class="card">)"), 29u);
  EXPECT_THAT(html, HasSubstr("<title>Reel</title>"));
}

projection::VideoPage video_page() {
  projection::VideoPage video;
  video.id = 42;
  video.title = std::string(evil_title);
  video.slug = "tom-jerry";
  video.description = "line one <b>\nline two & more";
  video.duration_s = 3723;
  video.views = 1'234'567;
  video.likes = 1200;
  video.dislikes = 100;
  video.rating = 92.3;
  video.published_at = now - 2 * 3600;
  video.channel_name = "bob";
  video.channel_display_name = "Bob's Channel";
  video.tags = {"cats", "funny cats"};
  video.categories = {{"pets-animals", "Pets & Animals"}};
  video.poster_url = "/media/posters/42.jpg";
  video.files = {{1080, "/media/42/1080.mp4"}, {720, "/media/42/720.mp4"}, {480, "/media/42/480.mp4"}};
  video.related = cards(12);
  video.nav = nav();
  return video;
}

TEST_F(RendererTest, WatchPageHasPlayerDetailsAndRelatedCards) {
  std::string html = renderer_->watch(video_page(), now);
  expect_common_page_parts(html);
  EXPECT_THAT(
      html,
      HasSubstr(
          R"(<video controls playsinline preload="metadata" poster="/media/posters/42.jpg" data-view-beacon="/api/v1/videos/42/view">)"));
  size_t p1080 = html.find(R"(<source src="/media/42/1080.mp4" type="video/mp4")");
  size_t p720 = html.find(R"(<source src="/media/42/720.mp4" type="video/mp4")");
  size_t p480 = html.find(R"(<source src="/media/42/480.mp4" type="video/mp4")");
  ASSERT_NE(p1080, std::string::npos);
  ASSERT_NE(p720, std::string::npos);
  ASSERT_NE(p480, std::string::npos);
  EXPECT_LT(p1080, p720);
  EXPECT_LT(p720, p480);
  EXPECT_EQ(count(html, "<source "), 3u);
  EXPECT_THAT(html, HasSubstr(std::string("<h1 class=\"watch__title\">") + std::string(escaped_evil_title) +
                              "</h1>"));
  EXPECT_THAT(html, HasSubstr(R"(<a href="/channel/bob">Bob&#39;s Channel</a>)"));
  EXPECT_THAT(html, HasSubstr("1,234,567 views · 2 hours ago · 1:02:03"));
  EXPECT_THAT(html, HasSubstr("▲ 1.2K"));
  EXPECT_THAT(html, HasSubstr("▼ 100"));
  EXPECT_THAT(html, HasSubstr(R"(style="width: 92%")"));
  EXPECT_THAT(html, HasSubstr("line one &lt;b&gt;\nline two &amp; more"));
  EXPECT_THAT(html, HasSubstr(R"(href="/tag/cats">#cats</a>)"));
  EXPECT_THAT(html, HasSubstr(R"(href="/tag/funny%20cats">#funny cats</a>)"));
  EXPECT_THAT(html, HasSubstr(R"(href="/category/pets-animals">Pets &amp; Animals</a>)"));
  EXPECT_THAT(html, HasSubstr("Related videos"));
  EXPECT_EQ(count(html, R"(<article class="card">)"), 12u);
  EXPECT_THAT(html, HasSubstr(R"(<link rel="canonical" href="/watch/42-tom-jerry">)"));
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
}

TEST_F(RendererTest, WatchPageWithoutVotesOrPosterOmitsThem) {
  auto video = video_page();
  video.rating = -1;
  video.poster_url.clear();
  std::string html = renderer_->watch(video, now);
  EXPECT_THAT(html, HasSubstr(R"(<video controls playsinline preload="metadata" data-view-beacon=)"));
  EXPECT_THAT(html, Not(HasSubstr("style=\"width")));
}

Viewer evil_viewer() {
  return {7, "eve", "<script>alert(1)</script>", "tok\"en"};
}

TEST_F(RendererTest, AnonymousPagesCarryTheSignInLinksInPlace) {
  std::string html = renderer_->watch(video_page(), now);
  EXPECT_THAT(html, HasSubstr(R"(<a class="user-bar__signin" href="/signin">)"));
  EXPECT_THAT(html, HasSubstr(R"(<a class="favorite" href="/signin">)"));
  EXPECT_THAT(html, Not(HasSubstr("csrf")));
  EXPECT_THAT(html, Not(HasSubstr("esi:include")));
}

TEST_F(RendererTest, WithEsiThePerUserPartsAreIncludesAndNothingPersonalIsInThePage) {
  Frame frame{.esi = true, .viewer = evil_viewer()};
  WatchActions actions;
  actions.vote = 1;
  actions.favorite = true;
  std::string html = renderer_->watch(video_page(), now, frame, actions);
  EXPECT_THAT(html, HasSubstr(R"(<esi:include src="/fragments/user-bar"/>)"));
  EXPECT_THAT(html, HasSubstr(R"(<esi:include src="/fragments/watch/42"/>)"));
  EXPECT_THAT(html, Not(HasSubstr("eve")));
  EXPECT_THAT(html, Not(HasSubstr("tok")));
  EXPECT_THAT(html, Not(HasSubstr("Sign in")));
  EXPECT_THAT(renderer_->listing(listing_page(1, 1), {}, now, frame),
              HasSubstr(R"(<esi:include src="/fragments/user-bar"/>)"));
}

TEST_F(RendererTest, SignedInPartsInPlaceCarryTheViewerEscapedAndTheCsrfToken) {
  Frame frame{.viewer = evil_viewer()};
  WatchActions actions{.vote = -1, .subscribed = true, .playlists = {{5, "<b>Mine</b>", true}}};
  std::string html = renderer_->watch(video_page(), now, frame, actions);
  EXPECT_THAT(html, HasSubstr("<summary>&lt;script&gt;alert(1)&lt;/script&gt;</summary>"));
  EXPECT_THAT(html, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(html, HasSubstr(R"(name="csrf" value="tok&quot;en")"));
  EXPECT_THAT(html, HasSubstr(R"(value="0" aria-pressed="true">Dislike)"));
  EXPECT_THAT(html, HasSubstr(R"(value="1" aria-pressed="false">Like)"));
  EXPECT_THAT(html, HasSubstr(R"(action="/api/v1/playlists/5/videos/42")"));
  EXPECT_THAT(html, HasSubstr("&lt;b&gt;Mine&lt;/b&gt;"));
  EXPECT_THAT(html, HasSubstr(R"(action="/api/v1/me/subscriptions/bob")"));
  EXPECT_THAT(html, Not(HasSubstr("esi:include")));
}

catalog::Playlist evil_playlist(bool is_public) {
  catalog::Playlist playlist;
  playlist.id = 9;
  playlist.user_id = 7;
  playlist.owner_name = "eve";
  playlist.title = std::string(evil_title);
  playlist.is_public = is_public;
  return playlist;
}

TEST_F(RendererTest, AFavoritesPageListsCardsEachWithAFormThatRemovesItAndComesBack) {
  CollectionPage page;
  page.kind = Collection::favorites;
  page.path = "/me/favorites";
  page.total = 65;
  page.page = 2;
  page.pages = 3;
  std::string html = renderer_->collection(page, cards(3), now, {.viewer = evil_viewer()}, nav());
  expect_common_page_parts(html);
  EXPECT_THAT(html, HasSubstr("<h1>Your favorites</h1>"));
  EXPECT_EQ(count(html, R"(<article class="card">)"), 3u);
  EXPECT_THAT(html, HasSubstr(R"(action="/api/v1/me/favorites/2")"));
  EXPECT_EQ(count(html, R"(name="_method" value="DELETE")"), 4u) << "three cards and the sign-out form";
  EXPECT_EQ(count(html, R"(name="next" value="/me/favorites?page=2")"), 3u);
  EXPECT_THAT(html, HasSubstr(R"(name="csrf" value="tok&quot;en")"));
  EXPECT_THAT(html, HasSubstr(R"(href="/me/favorites?page=3")"));
  EXPECT_THAT(html, HasSubstr(R"(rel="prev" href="/me/favorites")"));
  EXPECT_THAT(html, HasSubstr(escaped_evil_title));
  EXPECT_THAT(html, HasSubstr(R"(<meta name="robots" content="noindex">)"));
}

TEST_F(RendererTest, AnEmptyListSaysWhatToDo) {
  CollectionPage page;
  page.kind = Collection::videos;
  page.path = "/me/videos";
  std::string html = renderer_->collection(page, {}, now, {.viewer = evil_viewer()}, nav());
  EXPECT_THAT(html, HasSubstr("You have not uploaded a video yet."));
  EXPECT_THAT(html, HasSubstr(R"(<a class="button" href="/upload">)"));
  EXPECT_THAT(html, Not(HasSubstr("pagination")));
}

TEST_F(RendererTest, APlaylistPageNumbersItsItemsAndPlaysFromEach) {
  CollectionPage page;
  page.kind = Collection::playlist;
  page.path = "/playlist/9";
  page.total = 32;
  page.page = 2;
  page.pages = 2;
  page.first_index = 31;
  page.playlist = evil_playlist(false);
  page.owner = true;
  std::string html = renderer_->collection(page, cards(2), now, {.viewer = evil_viewer()}, nav());
  EXPECT_THAT(html, HasSubstr("<h1>" + std::string(escaped_evil_title) + "</h1>"));
  EXPECT_THAT(html, Not(HasSubstr("<script>alert(\"x\")")));
  EXPECT_THAT(html, HasSubstr(R"(href="/watch/1-video-1?list=9&amp;index=31")"));
  EXPECT_THAT(html, HasSubstr(R"(href="/watch/2-video-2?list=9&amp;index=32")"));
  EXPECT_THAT(html, HasSubstr(R"(href="/playlist/9/play">)")) << "Play all starts at the first position";
  EXPECT_THAT(html, HasSubstr("Private"));
  EXPECT_THAT(html, HasSubstr(R"(action="/api/v1/playlists/9/videos/2")"));
  EXPECT_THAT(html, HasSubstr(R"(name="position" value="30")")) << "position 31 moves up to 30";
  EXPECT_THAT(html, HasSubstr(R"(name="position" value="32")")) << "and 31 down to 32";
  EXPECT_THAT(html, Not(HasSubstr(R"(name="position" value="33")"))) << "the last one stays last";
  EXPECT_THAT(html, HasSubstr("Edit playlist"));

  page.owner = false;
  page.playlist = evil_playlist(true);
  html = renderer_->collection(page, cards(2), now, {}, nav());
  EXPECT_THAT(html, Not(HasSubstr("Edit playlist")));
  EXPECT_THAT(html, Not(HasSubstr("/api/v1/playlists/9/videos/")));
  EXPECT_THAT(html, Not(HasSubstr(R"(<meta name="robots")"))) << "a public playlist may be indexed";
}

TEST_F(RendererTest, TheSubscriptionsPageListsTheChannelsFollowedAboveTheFeed) {
  CollectionPage page;
  page.kind = Collection::feed;
  page.path = "/subscriptions";
  page.total = 2;
  page.pages = 1;
  page.channels = {{"bob", "<b>Bob</b>", 1500, now}};
  page.channels_total = 1;
  std::string html = renderer_->collection(page, cards(2), now, {.viewer = evil_viewer()}, nav());
  EXPECT_THAT(html, HasSubstr(R"(<a href="/channel/bob">&lt;b&gt;Bob&lt;/b&gt;</a>)"));
  EXPECT_THAT(html, HasSubstr(R"(action="/api/v1/me/subscriptions/bob")"));
  EXPECT_THAT(html, HasSubstr("1.5K subscribers"));
  EXPECT_TRUE(html.find("Channels you follow") < html.find(R"(<article class="card">)"));
}

TEST_F(RendererTest, ThePlaylistsPageHasTheCreateFormAndEachPlaylist) {
  PlaylistsPage page;
  page.playlists = {{evil_playlist(false), 1}, {evil_playlist(true), 12}};
  page.total = 2;
  page.pages = 1;
  std::string html = renderer_->playlists(page, {.viewer = evil_viewer()}, nav());
  EXPECT_THAT(html, HasSubstr(R"(<form class="playlist-create" method="post" action="/api/v1/playlists">)"));
  EXPECT_EQ(count(html, R"(href="/playlist/9")"), 2u);
  EXPECT_THAT(html, HasSubstr("1 video · Private"));
  EXPECT_THAT(html, HasSubstr("12 videos · Public"));
  EXPECT_THAT(html, Not(HasSubstr("<script>alert(\"x\")")));
}

TEST_F(RendererTest, AWatchPagePlayedFromAPlaylistShowsItAndGoesOnToTheNextPosition) {
  PlaylistPanel panel;
  panel.playlist = evil_playlist(true);
  panel.cards = {card(7), card(42), card(8)};
  panel.first_index = 1;
  panel.current_index = 2;
  panel.total = 3;
  std::string html = renderer_->watch(video_page(), now, {}, {}, {}, &panel);
  EXPECT_THAT(html, HasSubstr(R"(data-next="/playlist/9/play?index=3")"));
  EXPECT_THAT(html, HasSubstr(R"(rel="prev" href="/playlist/9/play")"));
  EXPECT_THAT(html, HasSubstr("2 / 3"));
  EXPECT_EQ(count(html, R"(aria-current="true")"), 1u);
  EXPECT_THAT(
      html,
      HasSubstr(
          R"(<li class="playlist-panel__current" aria-current="true"><a href="/watch/42-video-42?list=9&amp;index=2">)"));

  panel.current_index = 3;
  html = renderer_->watch(video_page(), now, {}, {}, {}, &panel);
  EXPECT_THAT(html, Not(HasSubstr("data-next"))) << "the last position";
  html = renderer_->watch(video_page(), now);
  EXPECT_THAT(html, Not(HasSubstr("playlist-panel")));
  EXPECT_THAT(html, Not(HasSubstr("autoplay")));
}

catalog::Comment comment(int64_t id, int64_t user_id, std::string author, int64_t replies = 0) {
  catalog::Comment c;
  c.id = id;
  c.video_id = 42;
  c.user_id = user_id;
  c.author_name = std::move(author);
  c.body = std::string(evil_title);
  c.replies = replies;
  c.created_at = now - 60;
  return c;
}

TEST_F(RendererTest, TheViewersOwnCommentsCarryTheirEditAndDeleteFormsAndEveryCommentAReplyForm) {
  projection::CommentPage page;
  page.comments = {comment(5, 7, "eve", 2), comment(6, 8, "bob")};
  page.total = 2;
  page.pages = 1;
  projection::CommentPage replies;
  replies.comments = {comment(9, 8, "bob"), comment(10, 7, "eve")};
  WatchComments shown{.page = &page, .opened = 5, .replies = &replies};
  std::string html = renderer_->watch(video_page(), now, {.viewer = evil_viewer()}, {}, shown);
  EXPECT_EQ(count(html, R"(action="/api/v1/comments/5")"), 2u) << "edit and delete of one's own comment";
  EXPECT_EQ(count(html, R"(action="/api/v1/comments/10")"), 2u) << "and of one's own reply";
  EXPECT_EQ(count(html, R"(action="/api/v1/comments/6")"), 0u) << "never of another's";
  EXPECT_EQ(count(html, R"(action="/api/v1/comments/9")"), 0u);
  EXPECT_EQ(count(html, R"(name="parent" value=")"), 2u) << "a reply form under each top-level comment";
  EXPECT_THAT(
      html,
      HasSubstr(
          R"(<form method="post" action="/api/v1/videos/42/comments"><input type="hidden" name="csrf" value="tok&quot;en"><input type="hidden" name="parent" value="5">)"));
  EXPECT_THAT(html, HasSubstr(R"(<li class="comment comment--reply" id="comment-9")"));
  EXPECT_THAT(html, HasSubstr(R"(href="/watch/42-tom-jerry?comments=new&amp;replies=5#comment-5")"));
  EXPECT_THAT(html, Not(HasSubstr("<script>alert(\"x\")")));
  EXPECT_THAT(html, HasSubstr(">" + std::string(escaped_evil_title) + "</textarea>"))
      << "the edit form holds the text";

  // Anonymous, or under ESI (the page is everybody's): no forms at all.
  for (const Frame& frame : {Frame{}, Frame{.esi = true, .viewer = evil_viewer()}}) {
    html = renderer_->watch(video_page(), now, frame, {}, shown);
    EXPECT_THAT(html, Not(HasSubstr("/api/v1/comments/")));
    EXPECT_THAT(html, Not(HasSubstr(R"(name="parent")")));
    EXPECT_THAT(html, HasSubstr(R"(id="comment-10")")) << "the replies are shown all the same";
  }
}

TEST_F(RendererTest, FragmentsRenderAlone) {
  std::string bar = renderer_->user_bar(evil_viewer());
  EXPECT_THAT(bar, HasSubstr(R"(data-user="eve")"));
  EXPECT_THAT(bar, Not(HasSubstr("<html")));
  EXPECT_THAT(renderer_->user_bar({}), HasSubstr("Sign in"));
  WatchActions favorite;
  favorite.favorite = true;
  std::string actions = renderer_->watch_actions(42, "bob", evil_viewer(), favorite);
  EXPECT_THAT(actions, HasSubstr(R"(<div class="watch-actions" data-video="42">)"));
  EXPECT_THAT(actions, HasSubstr(">Favorited<"));
}

TEST_F(RendererTest, ErrorPageShowsStatusAndLinksHome) {
  std::string html = renderer_->error_page(404, "Page not found", "No video <here>.", nav());
  expect_common_page_parts(html);
  EXPECT_THAT(html, HasSubstr(R"(<p class="error__status">404</p>)"));
  EXPECT_THAT(html, HasSubstr("<h1>Page not found</h1>"));
  EXPECT_THAT(html, HasSubstr("No video &lt;here&gt;."));
  EXPECT_THAT(html, HasSubstr(R"(<a class="button" href="/">)"));
  EXPECT_THAT(html, HasSubstr(R"(<meta name="robots" content="noindex">)"));
  EXPECT_THAT(html, HasSubstr("<title>Page not found · Reel</title>"));
}

TEST_F(RendererTest, UploadPageHasTheFormWithTheNavCategories) {
  std::vector<CategoryLink> categories = nav();
  categories.push_back({"odd", R"(<b>"Odd"</b>)"});
  const Frame frame{.viewer = {7, "maker", "Maker", "the-csrf-token"}};
  std::string html = renderer_->upload(categories, frame, /*may_upload=*/true);
  expect_common_page_parts(html);
  EXPECT_THAT(html, HasSubstr("<title>Upload a video · Reel</title>"));
  EXPECT_THAT(html, HasSubstr(R"(<meta name="robots" content="noindex">)"));
  EXPECT_THAT(html, HasSubstr(R"(<form class="upload-form" method="post" action="/api/v1/uploads" )"
                              R"(enctype="multipart/form-data")"));
  for (auto field : {R"(<input type="hidden" name="csrf" value="the-csrf-token">)",
                     R"(name="file" type="file")", R"(name="title")", R"(name="description")",
                     R"(name="tags")", R"(<select id="upload-category" name="category">)"}) {
    EXPECT_THAT(html, HasSubstr(field));
  }
  EXPECT_THAT(html, HasSubstr(R"(<option value="music">Music</option>)"));
  EXPECT_THAT(html, HasSubstr(R"(<option value="pets-animals">Pets &amp; Animals</option>)"));
  EXPECT_THAT(html, HasSubstr(R"(<option value="odd">&lt;b&gt;&quot;Odd&quot;&lt;/b&gt;</option>)"));
  EXPECT_THAT(html, HasSubstr(R"(<progress class="upload-status__upload")"));
  EXPECT_THAT(html, HasSubstr(R"(<script src="/static/js/upload.js" defer></script>)"));
  EXPECT_THAT(html, HasSubstr(R"(<a class="site-header__upload" href="/upload">)"));

  const std::string refused = renderer_->upload(categories, frame, /*may_upload=*/false);
  EXPECT_THAT(refused, HasSubstr("Your account may not upload videos."));
  EXPECT_THAT(refused, Not(HasSubstr("upload-form")));
  EXPECT_THAT(refused, Not(HasSubstr("upload.js")));
}

TEST(RendererLoad, MissingDirectoryIsAnError) {
  auto loaded = Renderer::load(SiteOptions{"Reel", "/nonexistent/templates", {}});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error().message, HasSubstr("/nonexistent/templates"));
}

TEST(RendererLoad, BrokenTemplateNamesFileAndLine) {
  auto directory =
      std::filesystem::temp_directory_path() / ("reel_renderer_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  for (const auto& entry : std::filesystem::directory_iterator(templates_dir())) {
    std::filesystem::copy_file(entry.path(), directory / entry.path().filename());
  }
  std::ofstream(directory / "pagination.html", std::ios::trunc) << "<nav>\n{{#pagination}}\n</nav>\n";
  auto loaded = Renderer::load(SiteOptions{"Reel", directory.string(), {}});
  std::filesystem::remove_all(directory);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message,
            (directory / "pagination.html").string() + ":2: section 'pagination' is never closed");
}

}  // namespace
}  // namespace reel::pages

namespace reel::pages {
namespace {

// Cards come from the per-thread card cache on a second render; the page must not change, and a
// changed count, title or age must show at once.
TEST_F(RendererTest, CachedCardsRenderTheSameAndFollowChanges) {
  ListingContext context{ListKind::all, "/videos"};
  auto page = listing_page(1, 5);
  std::string first = renderer_->listing(page, context, now);
  EXPECT_EQ(renderer_->listing(page, context, now), first);

  page.cards[0].views = 987'654;
  page.cards[1].title = "Retitled video";
  std::string changed = renderer_->listing(page, context, now);
  EXPECT_THAT(changed, HasSubstr("987K views"));
  EXPECT_THAT(changed, HasSubstr(">Retitled video</a>"));
  std::string later = renderer_->listing(page, context, now + 30 * 86'400);
  EXPECT_THAT(later, Not(HasSubstr("3 days ago")));
}

}  // namespace
}  // namespace reel::pages

namespace reel::pages {
namespace {

TEST_F(RendererTest, WatchPageSendsTheViewBeaconOnPlayback) {
  projection::VideoPage video;
  video.id = 42;
  video.title = "Forty-two";
  std::string html = renderer_->watch(video, now);
  EXPECT_THAT(html, HasSubstr(R"(data-view-beacon="/api/v1/videos/42/view")"));
  EXPECT_THAT(html, HasSubstr(R"(<noscript><img class="beacon" src="/api/v1/videos/42/view.gif")"));
  EXPECT_THAT(html, HasSubstr(R"(<script src="/static/js/watch.js" defer></script>)"));
}

}  // namespace
}  // namespace reel::pages

namespace reel::pages {
namespace {

TEST_F(RendererTest, WatchPageStreamsHlsWhenTheVideoHasIt) {
  projection::VideoPage video;
  video.id = 7;
  video.title = "Streamed";
  video.files = {{360, "/media/videos/7/mp4/360.mp4"}};
  EXPECT_THAT(renderer_->watch(video, now), Not(HasSubstr("hls.min.js")));
  video.hls_url = "/media/videos/7/hls/master.m3u8";
  std::string html = renderer_->watch(video, now);
  EXPECT_THAT(html, HasSubstr(R"(data-hls="/media/videos/7/hls/master.m3u8")"));
  EXPECT_THAT(html, HasSubstr(R"(<script src="/static/vendor/hls.min.js" defer></script>)"));
  EXPECT_THAT(html, HasSubstr(R"(<source src="/media/videos/7/mp4/360.mp4" type="video/mp4")"))
      << "MP4 fallback";
  EXPECT_THAT(html, HasSubstr(R"(preload="none")")) << "hls.js loads the stream";
}

TEST_F(RendererTest, WatchPageHasThePlayerBarWithSeekPreviews) {
  projection::VideoPage video;
  video.id = 7;
  video.title = "Previewed";
  video.files = {{720, "/media/videos/7/mp4/720.mp4?md5=a&expires=1"},
                 {360, "/media/videos/7/mp4/360.mp4?md5=b&expires=1"}};
  EXPECT_THAT(renderer_->watch(video, now), Not(HasSubstr("data-sprites")));
  video.sprite_vtt_url = "/media/videos/7/sprite.vtt?md5=c&expires=1";
  std::string html = renderer_->watch(video, now);
  EXPECT_THAT(html, HasSubstr(R"(data-sprites="/media/videos/7/sprite.vtt?md5=c&amp;expires=1")"));
  EXPECT_THAT(
      html,
      HasSubstr(
          R"(<source src="/media/videos/7/mp4/720.mp4?md5=a&amp;expires=1" type="video/mp4" data-height="720">)"));
  EXPECT_THAT(html, HasSubstr(R"(<div class="player-bar" hidden>)")) << "shown by watch.js";
  EXPECT_THAT(html, HasSubstr(R"(<div class="seek" role="slider" tabindex="0")"));
  EXPECT_THAT(html, HasSubstr(R"(<select class="quality__select" aria-label="Quality">)"));
}

}  // namespace
}  // namespace reel::pages
