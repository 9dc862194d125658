#include "app/router.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "app/fake_read_model.h"
#include "common/asio.h"  // before any other Asio header
#include "support/fixtures.h"

namespace reel::app {
namespace {

namespace fs = std::filesystem;

std::string source_dir() {
  const char* dir = std::getenv("REEL_SOURCE_DIR");
  return dir ? dir : ".";
}

size_t count(std::string_view text, std::string_view piece) {
  size_t n = 0;
  for (size_t at = text.find(piece); at != std::string_view::npos; at = text.find(piece, at + piece.size()))
    ++n;
  return n;
}

projection::Card card(int64_t id, std::string title) {
  projection::Card c;
  c.id = id;
  c.title = std::move(title);
  c.slug = "slug-" + std::to_string(id);
  c.duration_s = 65;
  c.views = 1234;
  c.published_at = 1795824000 - 3600;
  c.thumb_url = "/media/demo/t.jpg";
  c.channel_name = "bob";
  return c;
}

// Suggestions from fixed answers, like the suggester's snapshot would give.
class FakeSuggestions final : public SearchSuggestions {
 public:
  std::optional<std::string> did_you_mean(std::string_view text) const override {
    if (text == "gitar") return std::string("guitar");
    return std::nullopt;
  }
  std::vector<std::string> complete(std::string_view prefix, size_t limit) const override {
    std::vector<std::string> out;
    for (std::string_view known : {"guitar", "guitar lessons", "gumbo"}) {
      if (known.starts_with(prefix) && out.size() < limit) out.emplace_back(known);
    }
    return out;
  }
};

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(media_root_ / "demo");
    std::ofstream(media_root_ / "demo" / "clip.mp4") << "0123456789";
    auto statics = media::StaticAssets::open({source_dir() + "/static"});
    ASSERT_TRUE(statics) << statics.error().message;
    static_files_.emplace(std::move(*statics));
    auto pages = pages::Renderer::load({"Reel", source_dir() + "/templates", {}}, &*static_files_);
    ASSERT_TRUE(pages) << pages.error().message;
    pages_.emplace(std::move(*pages));
    auto media = media::FileServer::open({media_root_.string()});
    ASSERT_TRUE(media) << media.error().message;
    media_files_.emplace(std::move(*media));
    auto log = event_log::EventLog::open({"file:" + view_log_path().string()});
    ASSERT_TRUE(log) << log.error().message;
    view_log_ = std::move(*log);
    views_.emplace(*view_log_, clock_, ViewRecorderOptions{"secret", "web-1", 1});
    make_router();

    model_.listing_value.total = 95;
    model_.listing_value.pages = 4;
    for (int i = 1; i <= 30; ++i)
      model_.listing_value.cards.push_back(card(i, "Video <" + std::to_string(i) + ">"));
    model_.listing_value.nav = {{"music", "Music"}};
    projection::VideoPage video;
    video.id = 7;
    video.title = "Seven & \"friends\"";
    video.slug = "seven";
    video.files = {{360, "/media/demo/clip.mp4"}};
    video.related = {card(8, "Eight")};
    model_.videos[7] = video;
  }

  void make_router() {
    Services services{
        model_, *pages_, *static_files_, *media_files_, links_, clock_, [] { return std::string("m 1\n"); },
        *views_};
    services.suggestions = &suggestions_;
    router_.emplace(std::move(services));
  }

  // Turns media link signing on, as the embedded mode has it: a renderer and router with a secret.
  void sign_links() {
    links_ = media::LinkSigner({"s3cr3t", 3600, 60, ""});
    auto pages = pages::Renderer::load({"Reel", source_dir() + "/templates", links_});
    ASSERT_TRUE(pages) << pages.error().message;
    pages_.emplace(std::move(*pages));
    make_router();
  }

  http::Response get(std::string target, std::string method = "GET") {
    http::Request request;
    request.method = std::move(method);
    request.target = std::move(target);
    return send(request);
  }

  http::Response send(const http::Request& request) {
    asio::io_context io;
    http::Response response;
    asio::co_spawn(
        io, [&]() -> Task<void> { response = co_await router_->handle(request); }, asio::detached);
    io.run();
    return response;
  }

  fs::path view_log_path() const { return log_dir_.path() / "views.log"; }
  // The lines the view log received (closing it first, so its writer thread has written all).
  std::vector<std::string> view_lines() {
    views_.reset();
    view_log_.reset();
    std::vector<std::string> lines;
    std::ifstream in(view_log_path());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  reel::testing::TempDir temp_;
  reel::testing::TempDir log_dir_;
  const fs::path& media_root_ = temp_.path();
  std::unique_ptr<event_log::EventLog> view_log_;
  std::optional<ViewRecorder> views_;
  testing::FakeReadModel model_;
  FakeSuggestions suggestions_;
  ManualClock clock_{1795824000};
  std::optional<pages::Renderer> pages_;
  std::optional<media::StaticAssets> static_files_;
  std::optional<media::FileServer> media_files_;
  media::LinkSigner links_;  // off unless a test calls sign_links()
  std::optional<Router> router_;
};

TEST_F(RouterTest, HomeRenders) {
  model_.home_value.newest = {card(1, "First")};
  auto r = get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("First"), std::string::npos);
  EXPECT_EQ(r.route, "home");
}

TEST_F(RouterTest, ListingParsesSortPeriodAndPage) {
  auto r = get("/videos?sort=views&period=week&page=2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(model_.last_query.kind, projection::ListKind::all);
  EXPECT_EQ(model_.last_query.sort, projection::Sort::views);
  EXPECT_EQ(model_.last_query.period, projection::Period::week);
  EXPECT_EQ(model_.last_query.page, 2);
  EXPECT_NE(r.body.find("Video &lt;30&gt;"), std::string::npos);
  EXPECT_EQ(get("/videos?sort=trending").status, 200);
  EXPECT_EQ(model_.last_query.sort, projection::Sort::trending);
  EXPECT_EQ(get("/category/music?sort=trending").status, 200);
  EXPECT_EQ(r.body.find("Video <30>"), std::string::npos);
}

TEST_F(RouterTest, BadListingInputIs400) {
  for (auto target :
       {"/videos?sort=random", "/videos?period=year&sort=views", "/videos?page=0", "/videos?page=-1",
        "/videos?page=abc", "/videos?page=999999999999", "/videos?page=1e3", "/tag/cats?sort=rating",
        "/tag/cats?sort=trending", "/videos?sort=Trending", "/channel/bob?sort=views&period=day",
        "/videos?duration=huge", "/videos?duration=Long", "/videos?category=a%2Fb", "/videos?category=%00"}) {
    EXPECT_EQ(get(target).status, 400) << target;
  }
  auto api = get("/api/v1/videos?sort=random");
  EXPECT_EQ(api.status, 400);
  EXPECT_NE(api.body.find("\"error\":\"Unknown sort order"), std::string::npos) << api.body;
  EXPECT_NE(api.header("Content-Type").value_or("").find("json"), std::string::npos);
}

TEST_F(RouterTest, ListingsTakeCombinedFilters) {
  auto r = get("/videos?category=music&duration=long&period=week");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(model_.last_query.kind, projection::ListKind::category);
  EXPECT_EQ(model_.last_query.name, "music");
  EXPECT_EQ(model_.last_query.duration, projection::Duration::long_videos);
  EXPECT_EQ(model_.last_query.period, projection::Period::week);
  EXPECT_TRUE(model_.last_query.filtered());
  // Every link keeps the filters: the sort tabs, the other duration tabs, the pages.
  EXPECT_NE(r.body.find("/videos?sort=views&amp;period=all&amp;duration=long&amp;category=music"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("/videos?sort=newest&amp;period=week&amp;duration=short&amp;category=music"),
            std::string::npos);
  EXPECT_NE(
      r.body.find("/videos?sort=newest&amp;period=week&amp;duration=long&amp;category=music&amp;page=2"),
      std::string::npos);
  // A tag or channel takes an upload period with the newest sort.
  EXPECT_EQ(get("/channel/bob?period=day&duration=short").status, 200);
  EXPECT_EQ(model_.last_query.kind, projection::ListKind::channel);
  EXPECT_EQ(model_.last_query.period, projection::Period::day);
  EXPECT_EQ(get("/api/v1/videos?duration=medium").status, 200);
  EXPECT_EQ(model_.last_query.duration, projection::Duration::medium);
  // The views sort's period is its window, not a filter.
  EXPECT_EQ(get("/videos?sort=views&period=week").status, 200);
  EXPECT_FALSE(model_.last_query.filtered());
}

TEST_F(RouterTest, PagePastTheEndIs404) {
  EXPECT_EQ(get("/videos?page=5").status, 404);
  EXPECT_EQ(get("/videos?page=4").status, 200);
}

TEST_F(RouterTest, ScopedListingsPassTheirName) {
  EXPECT_EQ(get("/category/music").status, 200);
  EXPECT_EQ(model_.last_query.kind, projection::ListKind::category);
  EXPECT_EQ(model_.last_query.name, "music");
  EXPECT_EQ(get("/tag/caf%C3%A9").status, 200);
  EXPECT_EQ(model_.last_query.name, "café");
  EXPECT_EQ(get("/channel/bob?sort=views").status, 200);
  EXPECT_EQ(model_.last_query.kind, projection::ListKind::channel);
}

TEST_F(RouterTest, UnknownScopesAndBadNamesAre404) {
  model_.listing_value.found = false;
  EXPECT_EQ(get("/category/nope").status, 404);
  for (auto target :
       {"/tag/a%2Fb", "/tag/%00", "/tag/..", "/tag/a%zz", "/category/", "/channel/has%20space"}) {
    EXPECT_EQ(get(target).status, 404) << target;
  }
}

TEST_F(RouterTest, WatchAndApiVideo) {
  auto page = get("/watch/7-seven");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Seven &amp; &quot;friends&quot;"), std::string::npos);
  EXPECT_NE(page.body.find("/media/demo/clip.mp4"), std::string::npos);
  EXPECT_EQ(get("/watch/7").status, 200);
  auto api = get("/api/v1/videos/7");
  EXPECT_EQ(api.status, 200);
  EXPECT_NE(api.body.find("\"related\":[{"), std::string::npos);
  EXPECT_NE(api.body.find("\"title\":\"Seven & \\\"friends\\\"\""), std::string::npos);
}

TEST_F(RouterTest, BadVideoIdsAre404) {
  for (auto target : {"/watch/8", "/watch/abc", "/watch/", "/watch/-1", "/watch/007",
                      "/watch/99999999999999999999", "/api/v1/videos/7-seven", "/api/v1/videos/x"}) {
    EXPECT_EQ(get(target).status, 404) << target;
  }
}

TEST_F(RouterTest, RedisDownAnswers503WithRetryAfter) {
  model_.available = false;
  for (auto target : {"/", "/videos", "/watch/7", "/api/v1/videos/7"}) {
    auto r = get(target);
    EXPECT_EQ(r.status, 503) << target;
    EXPECT_EQ(r.header("Retry-After").value_or(""), "5") << target;
  }
  EXPECT_EQ(get("/readyz").status, 503);
  EXPECT_EQ(get("/healthz").status, 200);
}

// The form itself is for a signed-in account that may upload (tests/cli/session_uploads_test.cc).
TEST_F(RouterTest, UploadPageSendsSomeoneSignedOutToSignIn) {
  for (auto method : {"GET", "HEAD"}) {
    auto r = get("/upload", method);
    EXPECT_EQ(r.status, 303) << method;
    EXPECT_EQ(r.header("Location").value_or(""), "/signin?next=/upload");
    EXPECT_EQ(r.route, "upload_page");
    EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-store");
  }
  EXPECT_EQ(get("/upload", "POST").status, 405);
  EXPECT_EQ(get("/upload/x").status, 404);
}

TEST_F(RouterTest, OperationalRoutes) {
  EXPECT_EQ(get("/readyz").status, 200);
  EXPECT_EQ(get("/metrics").body, "m 1\n");
  EXPECT_EQ(get("/nope").status, 404);
  EXPECT_EQ(get("/videos", "POST").status, 405);
  EXPECT_EQ(get("/videos?" + std::string(3000, 'a')).status, 414);
}

// A video's address also answers DELETE (UploadRoutes, absent here: 503); other methods are 405
// with the three it answers.
TEST_F(RouterTest, AVideoAnswersDeleteAndSaysSo) {
  auto put = get("/api/v1/videos/7", "PUT");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.header("Allow").value_or(""), "GET, HEAD, DELETE");
  EXPECT_NE(put.body.find("\"status\":405"), std::string::npos) << put.body;
  EXPECT_EQ(get("/api/v1/videos/7", "DELETE").status, 503) << "no upload service configured";
  EXPECT_EQ(get("/api/v1/videos", "DELETE").status, 405) << "the listing is not deletable";
  EXPECT_EQ(get("/api/v1/videos/7/view", "DELETE").status, 405);
}

TEST_F(RouterTest, ViewBeaconWritesOneEventLineAndNothingElse) {
  http::Request beacon;
  beacon.method = "POST";
  beacon.target = "/api/v1/videos/7/view";
  beacon.remote_address = "10.0.0.9";
  beacon.headers = {{"Host", "reel.example:8080"},
                    {"User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"},
                    {"Referer", "https://reel.example/watch/6-six"},
                    {"X-Forwarded-For", "203.0.113.7"},
                    {"Sec-Fetch-Site", "same-origin"}};
  auto r = send(beacon);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-store");
  EXPECT_EQ(r.route, "view");

  auto pixel = get("/api/v1/videos/7/view.gif");
  EXPECT_EQ(pixel.status, 200);
  EXPECT_EQ(pixel.header("Content-Type").value_or(""), "image/gif");
  EXPECT_TRUE(pixel.body.starts_with("GIF89a"));

  auto lines = view_lines();
  ASSERT_EQ(lines.size(), 2u);
  // One trusted proxy hop: the viewer is keyed by the forwarded address, never written out.
  std::string key = views::viewer_key("secret", "203.0.113.7", beacon.header("User-Agent").value_or(""));
  EXPECT_NE(lines[0].find(" web-1 reel - view - "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("t=1795824000 v=7 k=" + key + " r=internal u=mobile"), std::string::npos)
      << lines[0];
  EXPECT_EQ(lines[0].find("203.0.113.7"), std::string::npos);
  EXPECT_NE(lines[1].find(" v=7 "), std::string::npos) << lines[1];
}

TEST_F(RouterTest, ViewBeaconRejectsBadInput) {
  EXPECT_EQ(get("/api/v1/videos/8/view", "POST").status, 404);  // unknown video
  EXPECT_EQ(get("/api/v1/videos/abc/view", "POST").status, 404);
  EXPECT_EQ(get("/api/v1/videos/0/view", "POST").status, 404);
  EXPECT_EQ(get("/api/v1/videos/99999999999999999999/view", "POST").status, 404);
  auto wrong_method = get("/api/v1/videos/7/view");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.header("Allow").value_or(""), "POST");
  EXPECT_EQ(get("/api/v1/videos/7/view.gif", "POST").status, 405);
  EXPECT_EQ(get("/api/v1/videos/7/other", "POST").status, 405);
  http::Request cross_site;
  cross_site.method = "POST";
  cross_site.target = "/api/v1/videos/7/view";
  cross_site.headers = {{"Sec-Fetch-Site", "cross-site"}};
  EXPECT_EQ(send(cross_site).status, 403);
  EXPECT_TRUE(view_lines().empty());
}

TEST_F(RouterTest, ViewBeaconStillRecordsWhenRedisIsDown) {
  model_.available = false;
  EXPECT_EQ(get("/api/v1/videos/8/view", "POST").status, 204);
  EXPECT_EQ(view_lines().size(), 1u);
}

TEST(ClientAddress, TakesTheTrustedHopFromTheRight) {
  http::Request request;
  request.remote_address = "10.0.0.1";
  request.headers = {{"X-Forwarded-For", "1.1.1.1, 2.2.2.2 ,3.3.3.3"}};
  EXPECT_EQ(client_address(request, 0), "10.0.0.1");
  EXPECT_EQ(client_address(request, 1), "3.3.3.3");
  EXPECT_EQ(client_address(request, 2), "2.2.2.2");
  EXPECT_EQ(client_address(request, 3), "1.1.1.1");
  EXPECT_EQ(client_address(request, 4), "10.0.0.1");
  request.headers.clear();
  EXPECT_EQ(client_address(request, 1), "10.0.0.1");
}

// The part of `body` from `from` up to the next quote: one URL written into HTML or JSON.
std::string url_at(const std::string& body, std::string_view from) {
  const size_t start = body.find(from);
  if (start == std::string::npos) return {};
  return body.substr(start, body.find('"', start) - start);
}

TEST_F(RouterTest, StaticAndMediaFiles) {
  auto css = get("/static/css/reel.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_NE(css.header("Content-Type").value_or("").find("text/css"), std::string::npos);
  EXPECT_EQ(css.header("Cache-Control").value_or(""), "public, max-age=86400");

  // Pages name the versioned file, which is the same bytes kept for a year; an older version's
  // name (a page cached before a release) still gets the current bytes, briefly cached.
  const std::string page = get("/").body;
  const std::string link = url_at(page, "/static/css/reel.");
  ASSERT_TRUE(link.ends_with(".css") && link.size() == std::string("/static/css/reel.0123456789.css").size())
      << link;
  auto versioned = get(link);
  EXPECT_EQ(versioned.status, 200);
  EXPECT_EQ(versioned.body, css.body);
  EXPECT_EQ(versioned.header("Cache-Control").value_or(""), "public, max-age=31536000, immutable");
  auto stale = get("/static/css/reel.00000000ff.css");
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, css.body);
  EXPECT_EQ(stale.header("Cache-Control").value_or(""), "public, max-age=86400");
  EXPECT_EQ(get("/static/css/missing.0123456789.css").status, 404);
  auto clip = get("/media/demo/clip.mp4");
  EXPECT_EQ(clip.status, 200);
  EXPECT_EQ(clip.body, "0123456789");
  EXPECT_EQ(get("/media/../etc/passwd").status, 404);
  EXPECT_EQ(get("/media/%2e%2e/%2e%2e/etc/passwd").status, 404);
}

TEST_F(RouterTest, PagesAndApiCarrySignedMediaLinks) {
  sign_links();
  auto& video = model_.videos[7];
  video.poster_url = "/media/videos/7/poster.jpg";
  video.hls_url = "/media/videos/7/hls/master.m3u8";
  video.sprite_vtt_url = "/media/videos/7/sprite.vtt";
  video.preview_url = "/media/videos/7/preview.mp4";
  video.related[0].preview_url = "/media/videos/8/preview.mp4";
  const int64_t expires = links_.expiry(clock_.unix_seconds());
  const std::string signature = "?md5=" + media::secure_link_md5("/media/demo/clip.mp4", expires, "s3cr3t") +
                                "&amp;expires=" + std::to_string(expires);

  auto page = get("/watch/7");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(url_at(page.body, "/media/demo/clip.mp4"), "/media/demo/clip.mp4" + signature);
  EXPECT_NE(url_at(page.body, "/media/videos/7/hls/master.m3u8").find("?md5="), std::string::npos);
  EXPECT_NE(url_at(page.body, "/media/videos/8/preview.mp4").find("?md5="), std::string::npos) << page.body;
  EXPECT_EQ(url_at(page.body, "/media/videos/7/poster.jpg"),
            "/media/videos/7/poster.jpg");  // images stay plain

  auto api = get("/api/v1/videos/7");
  ASSERT_EQ(api.status, 200);
  for (std::string_view url : {"/media/demo/clip.mp4", "/media/videos/7/hls/master.m3u8",
                               "/media/videos/7/sprite.vtt", "/media/videos/7/preview.mp4"}) {
    const std::string found = url_at(api.body, url);
    EXPECT_NE(found.find("?md5="), std::string::npos) << found;
    EXPECT_NE(found.find("&expires=" + std::to_string(expires)), std::string::npos) << found;
  }
}

TEST_F(RouterTest, MediaNeedsAValidUnexpiredSignatureWhenSigningIsOn) {
  sign_links();
  std::ofstream(media_root_ / "demo" / "poster.jpg") << "jpeg";
  const int64_t expires = links_.expiry(clock_.unix_seconds());
  const std::string good = links_.url("/media/demo/clip.mp4", expires);
  ASSERT_NE(good.find("?md5="), std::string::npos);

  auto clip = get(good);
  EXPECT_EQ(clip.status, 200);
  EXPECT_EQ(clip.body, "0123456789");
  EXPECT_EQ(get("/media/demo/clip.mp4").status, 403);
  EXPECT_EQ(get("/media/demo/poster.jpg").status, 200);  // images need no signature
  std::string tampered = good;
  tampered.replace(tampered.find("expires=") + 8, 1, "9");
  EXPECT_EQ(get(tampered).status, 403);
  EXPECT_EQ(get(links_.url("/media/demo/other.mp4", expires)).status, 404);  // signed, but missing

  clock_.advance(std::chrono::seconds(expires - clock_.unix_seconds() + 1));
  auto expired = get(good);
  EXPECT_EQ(expired.status, 410);
  EXPECT_NE(expired.body.find("expired"), std::string::npos);
}

TEST_F(RouterTest, PlaylistsAndVttAreServedWithSignedReferences) {
  sign_links();
  fs::create_directories(media_root_ / "videos" / "7" / "hls" / "240");
  std::ofstream(media_root_ / "videos" / "7" / "hls" / "master.m3u8")
      << "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000\n240/index.m3u8\n";
  std::ofstream(media_root_ / "videos" / "7" / "sprite.vtt")
      << "WEBVTT\n\n00:00.000 --> 00:05.000\nsprite.jpg#xywh=0,0,160,90\n";
  const int64_t expires = links_.expiry(clock_.unix_seconds());

  auto master = get(links_.url("/media/videos/7/hls/master.m3u8", expires));
  ASSERT_EQ(master.status, 200);
  EXPECT_EQ(master.header("Content-Type"), "application/vnd.apple.mpegurl");
  EXPECT_NE(master.body.find("240/index.m3u8?" +
                             media::sign("/media/videos/7/hls/240/index.m3u8", expires, "s3cr3t")),
            std::string::npos)
      << master.body;
  auto vtt = get(links_.url("/media/videos/7/sprite.vtt", expires));
  ASSERT_EQ(vtt.status, 200);
  EXPECT_NE(vtt.body.find("sprite.jpg?md5="), std::string::npos) << vtt.body;
  EXPECT_NE(vtt.body.find("#xywh=0,0,160,90"), std::string::npos);
  EXPECT_EQ(get("/media/videos/7/hls/master.m3u8").status, 403);
  EXPECT_EQ(get(links_.url("/media/videos/7/hls/missing.m3u8", expires)).status, 404);
}

}  // namespace
}  // namespace reel::app

namespace reel::app {
namespace {

TEST_F(RouterTest, SearchPassesTheQueryAndEveryFilter) {
  model_.search_value.total = 70;
  model_.search_value.pages = 3;
  model_.search_value.page = 2;
  auto r =
      get("/search?q=night+city&sort=newest&category=music&tag=cats&channel=bob&duration=long&period=week&"
          "page=2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.route, "search");
  const projection::SearchQuery& q = model_.last_search;
  EXPECT_EQ(q.text, "night city");
  EXPECT_EQ(q.sort, projection::SearchSort::newest);
  EXPECT_EQ(q.category, "music");
  EXPECT_EQ(q.tag, "cats");
  EXPECT_EQ(q.channel, "bob");
  EXPECT_EQ(q.duration, projection::Duration::long_videos);
  EXPECT_EQ(q.period, projection::Period::week);
  EXPECT_EQ(q.page, 2);
  // The sort tabs and pages keep the query and the filters.
  EXPECT_NE(
      r.body.find("/search?q=night%20city&amp;sort=views&amp;category=music&amp;tag=cats&amp;channel=bob&amp;"
                  "duration=long&amp;period=week"),
      std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("<meta name=\"robots\" content=\"noindex\">"), std::string::npos);
  EXPECT_EQ(get("/search?q=x&page=4").status, 404);
  // Never kept by a shared cache: each search must reach the app to be counted.
  EXPECT_EQ(r.header("Cache-Control"), std::optional<std::string_view>("private, max-age=30"));
}

TEST_F(RouterTest, FirstPagesOfSearchesWithResultsAreSearchEvents) {
  model_.search_value.total = 40;
  model_.search_value.pages = 2;
  EXPECT_EQ(get("/search?q=Night+City").status, 200);
  EXPECT_EQ(get("/api/v1/search?q=guitar").status, 200);
  EXPECT_EQ(get("/search?q=Night+City&page=2").status, 200);  // paging counts nothing
  model_.search_value.total = 0;
  model_.search_value.pages = 0;
  EXPECT_EQ(get("/search?q=nothing").status, 200);  // nor a search that found nothing
  auto lines = view_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("q=night%20city"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("n=40"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("q=guitar"), std::string::npos) << lines[1];
}

TEST_F(RouterTest, SearchPageMarksMatchedWordsAndEscapesTheRest) {
  model_.search_value.total = 1;
  model_.search_value.pages = 1;
  model_.search_value.cards = {card(5, "Night <City> & Lights"), card(6, "City of Rivers"),
                               card(7, "Rivers")};
  auto r = get("/search?q=cities");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("Night &lt;<mark>City</mark>&gt; &amp; Lights"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<mark>City</mark> of Rivers"), std::string::npos) << r.body;
  // Every card is whole, marked or not.
  EXPECT_EQ(count(r.body, "<article class=\"card\">"), 3u) << r.body;
  EXPECT_NE(r.body.find("Results for “cities”"), std::string::npos);
  // The query is escaped wherever it is shown.
  auto hostile = get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E");
  EXPECT_EQ(hostile.status, 200);
  EXPECT_EQ(hostile.body.find("<script>alert"), std::string::npos);
  EXPECT_NE(hostile.body.find("&lt;script&gt;alert(1)"), std::string::npos);
}

// Marked cards come from the card cache once rendered twice: the same query's visitors share
// them, another query marks its own words, and a listing shows the same card unmarked.
TEST_F(RouterTest, MarkedCardsAreKeptPerQuery) {
  model_.search_value.total = 1;
  model_.search_value.pages = 1;
  model_.search_value.cards = {card(5, "City of Rivers")};
  for (int shown = 0; shown < 3; ++shown) {
    auto r = get("/search?q=city");
    EXPECT_NE(r.body.find("<mark>City</mark> of Rivers"), std::string::npos) << shown << r.body;
  }
  auto other = get("/search?q=rivers");
  EXPECT_NE(other.body.find("City of <mark>Rivers</mark>"), std::string::npos) << other.body;
  EXPECT_EQ(other.body.find("<mark>City</mark>"), std::string::npos) << other.body;
  model_.listing_value.total = 1;
  model_.listing_value.cards = {card(5, "City of Rivers")};
  for (int shown = 0; shown < 3; ++shown) {
    auto listing = get("/videos");
    EXPECT_EQ(listing.status, 200);
    EXPECT_EQ(listing.body.find("<mark>"), std::string::npos) << listing.body;
    EXPECT_NE(listing.body.find("City of Rivers"), std::string::npos) << listing.body;
  }
  auto again = get("/search?q=city");
  EXPECT_NE(again.body.find("<mark>City</mark> of Rivers"), std::string::npos) << again.body;
}

// A query over very common words is answered from a slice: its total is an estimate, said so.
TEST_F(RouterTest, AnEstimatedTotalIsSaidToBeOne) {
  model_.search_value.total = 6400;
  model_.search_value.approximate = true;
  model_.search_value.pages = 34;
  model_.search_value.cards = {card(5, "City of Rivers")};
  auto page = get("/search?q=city+rivers");
  EXPECT_NE(page.body.find("About 6,400 videos"), std::string::npos) << page.body;
  auto api = get("/api/v1/search?q=city+rivers");
  EXPECT_NE(api.body.find(R"("total":6400,"total_approximate":true)"), std::string::npos) << api.body;
  model_.search_value.approximate = false;
  EXPECT_EQ(get("/search?q=city+rivers").body.find("About "), std::string::npos);
}

TEST_F(RouterTest, ApiSearchDocumentAndDidYouMean) {
  model_.search_value.total = 1;
  model_.search_value.page = 1;
  model_.search_value.pages = 1;
  model_.search_value.cards = {card(5, "Guitar")};
  auto found = get("/api/v1/search?q=guitar");
  EXPECT_EQ(found.status, 200);
  EXPECT_EQ(found.route, "api_search");
  EXPECT_NE(
      found.body.find(
          "\"videos\":[{\"channel\":{\"display_name\":\"\",\"name\":\"bob\"},\"duration\":65,\"id\":5,"),
      std::string::npos)
      << found.body;
  for (std::string_view field : {"\"total\":1", "\"page\":1", "\"pages\":1", "\"suggestion\":null"})
    EXPECT_NE(found.body.find(field), std::string::npos) << field << " in " << found.body;
  model_.search_value = {};
  auto typo = get("/api/v1/search?q=gitar");
  EXPECT_NE(typo.body.find("\"suggestion\":\"guitar\""), std::string::npos) << typo.body;
  auto page = get("/search?q=gitar");
  EXPECT_NE(page.body.find("Did you mean <a href=\"/search?q=guitar\">guitar</a>?"), std::string::npos)
      << page.body;
  EXPECT_NE(page.body.find("No videos match “gitar”"), std::string::npos);
}

TEST_F(RouterTest, SearchWithNothingToLookUpSaysSo) {
  model_.search_value.empty_query = true;
  auto blank = get("/search?q=");
  EXPECT_EQ(blank.status, 200);
  EXPECT_NE(blank.body.find("Type what you are looking for"), std::string::npos);
  auto stop_words = get("/search?q=the+of");
  EXPECT_NE(stop_words.body.find("only very common words"), std::string::npos);
  auto api = get("/api/v1/search?q=the");
  EXPECT_EQ(api.status, 400);
  EXPECT_NE(api.body.find("\"error\":\"Nothing in this search"), std::string::npos) << api.body;
}

TEST_F(RouterTest, BadSearchInputIs4xx) {
  for (auto target : {"/search?q=a&sort=random", "/search?q=a&duration=huge", "/search?q=a&period=year",
                      "/search?q=a&category=a%2Fb", "/search?q=a&tag=%00", "/search?q=a&channel=has%20space",
                      "/search?q=a&page=0", "/api/v1/search?q=a&sort=Newest", "/api/v1/suggest",
                      "/search?q=%zz", "/search?q=a%00b"}) {
    EXPECT_EQ(get(target).status, 400) << target;
  }
  EXPECT_EQ(get("/search?q=" + std::string(10 * 1024, 'a')).status, 414);
  model_.available = false;
  EXPECT_EQ(get("/search?q=a").status, 503);
  EXPECT_EQ(get("/api/v1/search?q=a").status, 503);
}

TEST_F(RouterTest, SuggestCompletesFromMemory) {
  auto r = get("/api/v1/suggest?q=gui");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"suggestions\":[\"guitar\",\"guitar lessons\"]}");
  EXPECT_EQ(r.header("Cache-Control"), std::optional<std::string_view>("public, max-age=300"));
  auto opensearch = get("/api/v1/suggest?q=gu&format=opensearch");
  EXPECT_EQ(opensearch.body, "[\"gu\",[\"guitar\",\"guitar lessons\",\"gumbo\"]]");
  EXPECT_EQ(opensearch.header("Content-Type"),
            std::optional<std::string_view>("application/x-suggestions+json"));
  EXPECT_EQ(get("/api/v1/suggest?q=" + std::string(200, 'g')).body, "{\"suggestions\":[]}");
}

TEST_F(RouterTest, OpenSearchDescriptionNamesThisSite) {
  http::Request request;
  request.method = "GET";
  request.target = "/opensearch.xml";
  request.headers.push_back({"Host", "videos.example.com"});
  auto r = send(request);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"),
            std::optional<std::string_view>("application/opensearchdescription+xml"));
  EXPECT_NE(r.body.find("template=\"http://videos.example.com/search?q={searchTerms}\""), std::string::npos)
      << r.body;
  request.headers = {{"Host", "evil\"><x"}};
  auto hostile = send(request);
  EXPECT_EQ(hostile.body.find("evil"), std::string::npos);
  EXPECT_NE(hostile.body.find("http://localhost/search"), std::string::npos);
  // Every page tells browsers where it is.
  EXPECT_NE(get("/").body.find("rel=\"search\" type=\"application/opensearchdescription+xml\""),
            std::string::npos);
}

}  // namespace
}  // namespace reel::app
