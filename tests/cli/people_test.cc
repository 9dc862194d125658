// End to end: accounts and sessions on the real `reel up` — what a browser and an API client see:
// registration, sign-in with its cookie and CSRF token, the rules on every state-changing call,
// sign-out (a stolen cookie dies with it), session fixation, the lockout, the plain forms, and
// pages that stay cacheable for everyone but carry the viewer's parts in place or as ESI, and the
// pages of the viewer's lists and of a playlist played in order.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "people_fixture.h"

namespace reel {
namespace {

using testing::form_type;
using testing::http_get;
using testing::HttpReply;
using testing::json_type;
using testing::set_cookie_value;

class People : public testing::PeopleFixture {
 protected:
  static void SetUpTestSuite() { start("people"); }
};

TEST_F(People, RegisterSignInAndSeeYourself) {
  const std::string name = fresh_name("ann");
  HttpReply registered = register_user(name);
  ASSERT_EQ(registered.status, 201) << registered.body;
  EXPECT_EQ(nlohmann::json::parse(registered.body)["name"], name);
  EXPECT_EQ(set_cookie_value(registered, "reel_session"), "") << "the API does not sign in on registration";

  Signed ann = sign_in(name);
  ASSERT_FALSE(ann.csrf.empty());
  HttpReply me = call("GET", "/api/v1/me", with(ann, false));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(nlohmann::json::parse(me.body)["name"], name);
  EXPECT_EQ(call("GET", "/api/v1/me", "").status, 401);
}

TEST_F(People, RegistrationIsLimitedPerClientWithRetryAfter) {
  HttpReply reply;
  for (int attempt = 0; attempt < 6; ++attempt) reply = register_user(fresh_name("flood"));
  EXPECT_EQ(reply.status, 429);
  EXPECT_FALSE(reply.header("retry-after").empty());
  new_client();
  EXPECT_EQ(register_user(fresh_name("calm")).status, 201) << "another address is not held back";
}

TEST_F(People, RegistrationAndSignInSayNothingAboutWhoExists) {
  const std::string name = fresh_name("bea");
  ASSERT_EQ(register_user(name).status, 201);
  HttpReply again = register_user(name);
  EXPECT_EQ(again.status, 409);
  nlohmann::json same_email{
      {"username", fresh_name("other")}, {"email", name + "@example.org"}, {"password", "long enough pw"}};
  HttpReply email_taken = call("POST", "/api/v1/users", std::string(json_type), same_email.dump());
  EXPECT_EQ(email_taken.status, 409);
  EXPECT_EQ(nlohmann::json::parse(again.body)["error"], nlohmann::json::parse(email_taken.body)["error"]);

  nlohmann::json wrong{{"username", name}, {"password", "not the password"}};
  nlohmann::json nobody{{"username", fresh_name("nobody")}, {"password", "not the password"}};
  HttpReply wrong_reply = call("POST", "/api/v1/session", std::string(json_type), wrong.dump());
  HttpReply nobody_reply = call("POST", "/api/v1/session", std::string(json_type), nobody.dump());
  EXPECT_EQ(wrong_reply.status, 401);
  EXPECT_EQ(nobody_reply.status, 401);
  EXPECT_EQ(wrong_reply.body, nobody_reply.body);
}

TEST_F(People, AStateChangingCallNeedsTheSessionsCsrfToken) {
  const std::string name = fresh_name("cid");
  ASSERT_EQ(register_user(name).status, 201);
  Signed cid = sign_in(name);
  const std::string body = R"({"display_name": "Cid the Kid"})";
  EXPECT_EQ(call("PATCH", "/api/v1/me", std::string(json_type) + with(cid, false), body).status, 403);
  EXPECT_EQ(call("PATCH", "/api/v1/me",
                 std::string(json_type) + "Cookie: " + cid.cookie +
                     "\r\nX-CSRF-Token: " + std::string(43, 'A') + "\r\n",
                 body)
                .status,
            403);
  HttpReply renamed = call("PATCH", "/api/v1/me", std::string(json_type) + with(cid), body);
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(nlohmann::json::parse(call("GET", "/api/v1/me", with(cid, false)).body)["display_name"],
            "Cid the Kid");
  // A form posted from another site carries the cookie but cannot know the token.
  EXPECT_EQ(call("POST", "/api/v1/me", std::string(form_type) + with(cid, false), "_method=DELETE&password=x")
                .status,
            403);
}

TEST_F(People, SigningOutKillsTheCookieEvenWhenSomeoneCopiedIt) {
  const std::string name = fresh_name("dot");
  ASSERT_EQ(register_user(name).status, 201);
  Signed dot = sign_in(name);
  const std::string stolen = "Cookie: " + dot.cookie + "\r\n";
  HttpReply out = call("DELETE", "/api/v1/session", with(dot));
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(out.header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v1/me", stolen).status, 401);
}

TEST_F(People, SigningInNeverKeepsTheSessionItWasHanded) {
  const std::string name = fresh_name("eve");
  ASSERT_EQ(register_user(name).status, 201);
  Signed first = sign_in(name);
  Signed second = sign_in(name, "correct horse battery", "Cookie: " + first.cookie + "\r\n");
  EXPECT_NE(first.cookie, second.cookie);
  EXPECT_EQ(call("GET", "/api/v1/me", "Cookie: " + first.cookie + "\r\n").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/me", "Cookie: " + second.cookie + "\r\n").status, 200);
}

TEST_F(People, ChangingThePasswordEndsEveryOtherSession) {
  const std::string name = fresh_name("fay");
  ASSERT_EQ(register_user(name).status, 201);
  Signed laptop = sign_in(name);
  Signed phone = sign_in(name);
  nlohmann::json change{{"old_password", "correct horse battery"}, {"password", "a brand new secret"}};
  HttpReply changed =
      call("PUT", "/api/v1/me/password", std::string(json_type) + with(laptop), change.dump());
  ASSERT_EQ(changed.status, 200) << changed.body;
  const std::string renewed = "Cookie: reel_session=" + set_cookie_value(changed, "reel_session") + "\r\n";
  EXPECT_EQ(call("GET", "/api/v1/me", renewed).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/me", "Cookie: " + phone.cookie + "\r\n").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/me", "Cookie: " + laptop.cookie + "\r\n").status, 401);
  sign_in(name, "a brand new secret");
}

TEST_F(People, RepeatedFailuresLockTheAccountForThatClientWithRetryAfter) {
  const std::string name = fresh_name("gus");
  ASSERT_EQ(register_user(name).status, 201);
  nlohmann::json wrong{{"username", name}, {"password", "not the password"}};
  int status = 0;
  HttpReply reply;
  for (int attempt = 0; attempt < 8 && status != 429; ++attempt) {
    reply = call("POST", "/api/v1/session", std::string(json_type), wrong.dump());
    status = reply.status;
  }
  EXPECT_EQ(status, 429);
  EXPECT_FALSE(reply.header("retry-after").empty());
}

TEST_F(People, TheSignInFormWorksWithoutJavaScriptAndNeedsItsToken) {
  const std::string name = fresh_name("hal");
  ASSERT_EQ(register_user(name).status, 201);
  HttpReply page = call("GET", "/signin", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("cache-control"), "no-store");
  const std::string token = set_cookie_value(page, "reel_form");
  ASSERT_FALSE(token.empty());
  EXPECT_NE(page.body.find(token), std::string::npos) << "the form carries the token";
  const std::string fields = "username=" + name + "&password=correct+horse+battery&next=%2Fvideos&csrf=";
  HttpReply without = call("POST", "/api/v1/session", std::string(form_type), fields + token);
  EXPECT_EQ(without.status, 403) << "the cookie half is missing";
  HttpReply signed_in = call("POST", "/api/v1/session",
                             std::string(form_type) + "Cookie: reel_form=" + token + "\r\n", fields + token);
  EXPECT_EQ(signed_in.status, 303);
  EXPECT_EQ(signed_in.header("location"), "/videos");
  EXPECT_FALSE(set_cookie_value(signed_in, "reel_session").empty());
}

TEST_F(People, PagesStayCacheableForEveryoneAndCarryTheViewerOnlyWhenAsked) {
  HttpReply anonymous = call("GET", "/videos", "");
  ASSERT_EQ(anonymous.status, 200);
  EXPECT_EQ(anonymous.header("cache-control"), "public, max-age=30");
  EXPECT_EQ(anonymous.header("set-cookie"), "");
  EXPECT_NE(anonymous.body.find("href=\"/signin\""), std::string::npos);

  const std::string name = fresh_name("ivy");
  ASSERT_EQ(register_user(name).status, 201);
  Signed ivy = sign_in(name);
  HttpReply inline_page = call("GET", "/videos", with(ivy, false));
  ASSERT_EQ(inline_page.status, 200);
  EXPECT_EQ(inline_page.header("cache-control"), "private, no-cache");
  EXPECT_NE(inline_page.body.find("data-user=\"" + name + "\""), std::string::npos);

  HttpReply esi = call("GET", "/videos", with(ivy, false) + "Surrogate-Capability: varnish=\"ESI/1.0\"\r\n");
  ASSERT_EQ(esi.status, 200);
  EXPECT_EQ(esi.header("cache-control"), "public, max-age=30");
  EXPECT_EQ(esi.header("surrogate-control"), "content=\"ESI/1.0\"");
  EXPECT_NE(esi.body.find("<esi:include src=\"/fragments/user-bar\"/>"), std::string::npos);
  EXPECT_EQ(esi.body.find(name), std::string::npos);

  HttpReply fragment = call("GET", "/fragments/user-bar", with(ivy, false));
  EXPECT_EQ(fragment.status, 200);
  EXPECT_EQ(fragment.header("cache-control"), "private, no-cache");
  EXPECT_NE(fragment.body.find("data-user=\"" + name + "\""), std::string::npos);
}

// A listed video of the demo catalog.
int64_t some_video(uint16_t port) {
  auto reply = http_get(port, "/api/v1/videos?sort=newest");
  if (!reply || reply->status != 200) return 0;
  auto listing = nlohmann::json::parse(reply->body, nullptr, false);
  if (!listing.is_object() || listing["videos"].empty()) return 0;
  return listing["videos"][0]["id"].get<int64_t>();
}

TEST_F(People, OneVotePerPersonChangeableAndRemovable) {
  const int64_t video = some_video(port());
  ASSERT_NE(video, 0);
  const std::string target = "/api/v1/videos/" + std::to_string(video) + "/vote";
  const std::string name = fresh_name("jon");
  ASSERT_EQ(register_user(name).status, 201);
  Signed jon = sign_in(name);
  EXPECT_EQ(call("PUT", target, std::string(json_type) + with(jon, false), R"({"value": 1})").status, 403);
  HttpReply first = call("PUT", target, std::string(json_type) + with(jon), R"({"value": 1})");
  ASSERT_EQ(first.status, 200) << first.body;
  auto liked = nlohmann::json::parse(first.body);
  EXPECT_EQ(liked["mine"], 1);
  for (int again = 0; again < 3; ++again) {
    HttpReply stuffed = call("PUT", target, std::string(json_type) + with(jon), R"({"value": 1})");
    EXPECT_EQ(nlohmann::json::parse(stuffed.body)["likes"], liked["likes"]) << "one vote per person";
  }
  auto disliked =
      nlohmann::json::parse(call("PUT", target, std::string(json_type) + with(jon), R"({"value": -1})").body);
  EXPECT_EQ(disliked["mine"], -1);
  EXPECT_EQ(disliked["likes"].get<int64_t>(), liked["likes"].get<int64_t>() - 1);
  EXPECT_EQ(disliked["dislikes"].get<int64_t>(), liked["dislikes"].get<int64_t>() + 1);
  // The video's counts follow (pages keep what they read for at most a second).
  EXPECT_TRUE(testing::eventually([&] {
    auto page = http_get(port(), "/api/v1/videos/" + std::to_string(video));
    return page &&
           nlohmann::json::parse(page->body, nullptr, false).value("dislikes", -1) == disliked["dislikes"];
  }));
  auto removed =
      nlohmann::json::parse(call("PUT", target, std::string(json_type) + with(jon), R"({"value": 0})").body);
  EXPECT_EQ(removed["mine"], 0);
  EXPECT_EQ(removed["dislikes"].get<int64_t>(), liked["dislikes"].get<int64_t>());
  for (const char* bad : {R"({"value": 2})", R"({"value": "1"})", R"({})", R"({"value": 1.5})"}) {
    EXPECT_EQ(call("PUT", target, std::string(json_type) + with(jon), bad).status, 400) << bad;
  }
  EXPECT_EQ(
      call("PUT", "/api/v1/videos/999999999/vote", std::string(json_type) + with(jon), R"({"value": 1})")
          .status,
      404);
}

TEST_F(People, CommentsAreKeptAsTypedAndChangedOnlyByTheirAuthor) {
  const int64_t video = some_video(port());
  ASSERT_NE(video, 0);
  const std::string comments = "/api/v1/videos/" + std::to_string(video) + "/comments";
  const std::string author_name = fresh_name("kim");
  const std::string other_name = fresh_name("lou");
  ASSERT_EQ(register_user(author_name).status, 201);
  ASSERT_EQ(register_user(other_name).status, 201);
  Signed author = sign_in(author_name);
  Signed other = sign_in(other_name);
  const std::string typed = "<script>alert('x')</script> & \"quotes\"\nline two";
  HttpReply posted =
      call("POST", comments, std::string(json_type) + with(author), nlohmann::json{{"body", typed}}.dump());
  ASSERT_EQ(posted.status, 201) << posted.body;
  const int64_t id = nlohmann::json::parse(posted.body)["id"].get<int64_t>();
  HttpReply reply = call("POST", comments, std::string(json_type) + with(other),
                         nlohmann::json{{"body", "a reply"}, {"parent", id}}.dump());
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_TRUE(testing::eventually([&] {
    auto shown = http_get(port(), "/api/v1/videos/" + std::to_string(video));
    return shown && nlohmann::json::parse(shown->body, nullptr, false).value("comments", int64_t{0}) >= 2;
  })) << "the video's comment count";

  HttpReply page = call("GET", comments + "?sort=new", "");
  ASSERT_EQ(page.status, 200) << page.body;
  auto listed = nlohmann::json::parse(page.body);
  bool found = false;
  for (const auto& comment : listed["comments"]) {
    if (comment["id"] != id) continue;
    found = true;
    EXPECT_EQ(comment["body"], typed);
    EXPECT_EQ(comment["author"]["name"], author_name);
    EXPECT_EQ(comment["replies"], 1);
  }
  EXPECT_TRUE(found);
  HttpReply replies = call("GET", comments + "?parent=" + std::to_string(id), "");
  EXPECT_EQ(nlohmann::json::parse(replies.body)["comments"][0]["body"], "a reply");

  // The watch page shows it escaped, with the form for a signed-in viewer and a link otherwise.
  EXPECT_TRUE(testing::eventually([&] {
    HttpReply watch = call("GET", "/watch/" + std::to_string(video), "");
    return watch.body.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;") !=
           std::string::npos;
  }));
  HttpReply watch = call("GET", "/watch/" + std::to_string(video), with(author, false));
  EXPECT_EQ(watch.body.find("<script>alert('x')"), std::string::npos);
  EXPECT_NE(watch.body.find("action=\"/api/v1/videos/" + std::to_string(video) + "/comments\""),
            std::string::npos);
  EXPECT_NE(call("GET", "/watch/" + std::to_string(video), "").body.find("to comment."), std::string::npos);
  EXPECT_EQ(call("GET", "/watch/" + std::to_string(video) + "?comments=best", "").status, 400);
  // Its author's page carries the comment's edit and delete forms; another's does not; the reply
  // opens under it with ?replies=, and its own author may change it from there.
  const std::string own_forms = "action=\"/api/v1/comments/" + std::to_string(id) + "\"";
  EXPECT_NE(watch.body.find(own_forms), std::string::npos);
  const std::string opened =
      call("GET", "/watch/" + std::to_string(video) + "?replies=" + std::to_string(id), with(other, false))
          .body;
  EXPECT_EQ(opened.find(own_forms), std::string::npos);
  EXPECT_NE(opened.find(">a reply</p>"), std::string::npos);
  EXPECT_EQ(call("GET", "/watch/" + std::to_string(video) + "?replies=x", "").status, 400);

  const std::string one = "/api/v1/comments/" + std::to_string(id);
  EXPECT_EQ(call("PATCH", one, std::string(json_type) + with(other), R"({"body": "mine now"})").status, 403);
  EXPECT_EQ(call("DELETE", one, with(other)).status, 403);
  HttpReply edited = call("PATCH", one, std::string(json_type) + with(author), R"({"body": "edited"})");
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(nlohmann::json::parse(edited.body)["body"], "edited");
  EXPECT_EQ(call("DELETE", one, with(author)).status, 204);
  EXPECT_EQ(call("DELETE", one, with(author)).status, 404);

  for (const char* bad :
       {R"({"body": ""})", R"({"body": "   "})", R"({"body": "a\u0000b"})", R"({"body": 5})", R"({})"}) {
    EXPECT_EQ(call("POST", comments, std::string(json_type) + with(author), bad).status, 400) << bad;
  }
  EXPECT_EQ(call("POST", comments, std::string(json_type) + with(author),
                 nlohmann::json{{"body", std::string(5001, 'x')}}.dump())
                .status,
            400);
  EXPECT_EQ(call("GET", comments + "?sort=best", "").status, 400);
  EXPECT_EQ(call("GET", comments + "?page=0", "").status, 400);
}

TEST_F(People, FavoritesPlaylistsAndSubscriptionsThroughTheApi) {
  const int64_t video = some_video(port());
  ASSERT_NE(video, 0);
  const std::string v = std::to_string(video);
  const std::string name = fresh_name("max");
  ASSERT_EQ(register_user(name).status, 201);
  Signed max = sign_in(name);

  EXPECT_EQ(call("PUT", "/api/v1/me/favorites/" + v, with(max, false)).status, 403);
  ASSERT_EQ(call("PUT", "/api/v1/me/favorites/" + v, with(max)).status, 200);
  ASSERT_EQ(call("PUT", "/api/v1/me/favorites/" + v, with(max)).status, 200)
      << "adding twice is one favorite";
  auto favorites = nlohmann::json::parse(call("GET", "/api/v1/me/favorites", with(max, false)).body);
  EXPECT_EQ(favorites["total"], 1);
  EXPECT_EQ(favorites["videos"][0]["id"], video);
  EXPECT_NE(call("GET", "/watch/" + v, with(max, false)).body.find(">Favorited<"), std::string::npos);
  ASSERT_EQ(call("DELETE", "/api/v1/me/favorites/" + v, with(max)).status, 200);
  EXPECT_EQ(nlohmann::json::parse(call("GET", "/api/v1/me/favorites", with(max, false)).body)["total"], 0);

  HttpReply created = call("POST", "/api/v1/playlists", std::string(json_type) + with(max),
                           R"({"title": "<b>Road trip</b>", "public": false})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string playlist =
      "/api/v1/playlists/" + std::to_string(nlohmann::json::parse(created.body)["id"].get<int64_t>());
  ASSERT_EQ(call("POST", playlist + "/videos/" + v, with(max)).status, 200);
  auto own = nlohmann::json::parse(call("GET", playlist, with(max, false)).body);
  EXPECT_EQ(own["playlist"]["title"], "<b>Road trip</b>");
  EXPECT_EQ(own["videos"][0]["id"], video);
  EXPECT_EQ(call("GET", playlist, "").status, 404) << "a private playlist is its owner's alone";
  EXPECT_EQ(
      call("PUT", playlist + "/order", std::string(json_type) + with(max), R"({"videos": [1, 2, 3]})").status,
      400);
  EXPECT_EQ(call("PUT", playlist + "/order", std::string(json_type) + with(max), "{\"videos\": [" + v + "]}")
                .status,
            200);
  ASSERT_EQ(call("PATCH", playlist, std::string(json_type) + with(max), R"({"public": true})").status, 200);
  EXPECT_EQ(call("GET", playlist, "").status, 200);
  EXPECT_EQ(nlohmann::json::parse(call("GET", "/api/v1/me/playlists", with(max, false)).body)["total"], 1);

  // Subscribing to the channel of the video shows its newest videos in the feed.
  const std::string channel =
      nlohmann::json::parse(http_get(port(), "/api/v1/videos/" + v)->body)["channel"]["name"]
          .get<std::string>();
  HttpReply subscribed = call("PUT", "/api/v1/me/subscriptions/" + channel, with(max));
  ASSERT_EQ(subscribed.status, 200) << subscribed.body;
  EXPECT_GE(nlohmann::json::parse(subscribed.body)["subscribers"].get<int64_t>(), 1);
  auto feed = nlohmann::json::parse(call("GET", "/api/v1/me/feed", with(max, false)).body);
  EXPECT_GE(feed["total"].get<int64_t>(), 1);
  EXPECT_EQ(feed["videos"][0]["channel"]["name"], channel);
  EXPECT_EQ(call("PUT", "/api/v1/me/subscriptions/" + name, with(max)).status, 400) << "not to oneself";
  EXPECT_EQ(call("PUT", "/api/v1/me/subscriptions/nobody-" + name, with(max)).status, 404);
  ASSERT_EQ(call("DELETE", "/api/v1/me/subscriptions/" + channel, with(max)).status, 200);
  EXPECT_EQ(nlohmann::json::parse(call("GET", "/api/v1/me/subscriptions", with(max, false)).body)["total"],
            0);
  EXPECT_EQ(call("GET", "/api/v1/me/feed", "").status, 401);
}

// The ids of the newest `count` videos (fewer when the catalog is smaller).
std::vector<int64_t> newest_videos(uint16_t port, size_t count) {
  std::vector<int64_t> ids;
  auto reply = http_get(port, "/api/v1/videos?sort=newest");
  if (!reply || reply->status != 200) return ids;
  auto listing = nlohmann::json::parse(reply->body, nullptr, false);
  if (!listing.is_object()) return ids;
  for (const auto& video : listing["videos"]) {
    if (ids.size() == count) break;
    ids.push_back(video["id"].get<int64_t>());
  }
  return ids;
}

// The video a playlist page's play link for position `index` leads to ("" when there is none).
std::string played_at(const std::string& page, const std::string& playlist, size_t index) {
  std::smatch match;
  const std::regex link("href=\"/watch/([0-9]+)[^\"?]*\\?list=" + playlist +
                        "&amp;index=" + std::to_string(index) + "\"");
  return std::regex_search(page, match, link) ? match[1].str() : "";
}

TEST_F(People, EachListHasItsPageAndAPlaylistPlaysInOrder) {
  const std::vector<int64_t> videos = newest_videos(port(), 3);
  ASSERT_EQ(videos.size(), 3u);
  const std::string v0 = std::to_string(videos[0]), v1 = std::to_string(videos[1]),
                    v2 = std::to_string(videos[2]);
  const std::string name = fresh_name("ada");
  ASSERT_EQ(register_user(name).status, 201);
  Signed ada = sign_in(name);

  for (const std::string path : {"/me/favorites", "/me/videos", "/me/playlists", "/subscriptions"}) {
    HttpReply signed_out = call("GET", path, "");
    EXPECT_EQ(signed_out.status, 303) << path;
    EXPECT_EQ(signed_out.header("location"), "/signin?next=" + path);
    HttpReply own = call("GET", path, with(ada, false));
    EXPECT_EQ(own.status, 200) << path << ": " << own.body;
    EXPECT_EQ(own.header("cache-control"), "private, no-cache") << path;
  }
  EXPECT_NE(call("GET", "/me/videos", with(ada, false)).body.find("You have not uploaded a video yet."),
            std::string::npos);

  // Favorites: the page lists the video with a plain form that removes it and comes back.
  ASSERT_EQ(call("PUT", "/api/v1/me/favorites/" + v0, with(ada)).status, 200);
  std::string page = call("GET", "/me/favorites", with(ada, false)).body;
  EXPECT_NE(page.find("/watch/" + v0), std::string::npos);
  EXPECT_NE(page.find("action=\"/api/v1/me/favorites/" + v0 + "\""), std::string::npos);
  HttpReply removed =
      call("POST", "/api/v1/me/favorites/" + v0, std::string(form_type) + "Cookie: " + ada.cookie + "\r\n",
           "_method=DELETE&csrf=" + ada.csrf + "&next=%2Fme%2Ffavorites");
  EXPECT_EQ(removed.status, 303);
  EXPECT_EQ(removed.header("location"), "/me/favorites");
  EXPECT_EQ(call("GET", "/me/favorites", with(ada, false)).body.find("/watch/" + v0), std::string::npos);
  EXPECT_EQ(call("GET", "/me/favorites?page=0", with(ada, false)).status, 400);
  EXPECT_EQ(call("GET", "/me/favorites?page=9", with(ada, false)).status, 404);

  // A private playlist of three videos in a chosen order.
  HttpReply created = call("POST", "/api/v1/playlists", std::string(json_type) + with(ada),
                           R"({"title": "<i>Trip</i>", "public": false})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = std::to_string(nlohmann::json::parse(created.body)["id"].get<int64_t>());
  for (const std::string& v : {v0, v1, v2})
    ASSERT_EQ(call("POST", "/api/v1/playlists/" + id + "/videos/" + v, with(ada)).status, 200);
  ASSERT_EQ(call("PUT", "/api/v1/playlists/" + id + "/order", std::string(json_type) + with(ada),
                 "{\"videos\": [" + v2 + "," + v0 + "," + v1 + "]}")
                .status,
            200);
  // The watch page's playlist menu says which playlists hold the video.
  const std::string watch_page = call("GET", "/watch/" + v0, with(ada, false)).body;
  EXPECT_TRUE(std::regex_search(watch_page, std::regex("action=\"/api/v1/playlists/" + id + "/videos/" + v0 +
                                                       "\" data-add=\"POST\">\\s*<input type=\"hidden\" "
                                                       "name=\"_method\" value=\"DELETE\">")))
      << "the menu marks the playlist as holding the video";
  EXPECT_EQ(call("GET", "/playlist/" + id, "").status, 404) << "a private playlist is its owner's alone";
  page = call("GET", "/playlist/" + id, with(ada, false)).body;
  EXPECT_NE(page.find("&lt;i&gt;Trip&lt;/i&gt;"), std::string::npos);
  EXPECT_EQ(page.find("<i>Trip</i>"), std::string::npos);
  EXPECT_NE(page.find("href=\"/playlist/" + id + "/play\""), std::string::npos) << "Play all";
  EXPECT_EQ(played_at(page, id, 1), v2);
  EXPECT_EQ(played_at(page, id, 2), v0);
  EXPECT_EQ(played_at(page, id, 3), v1);
  EXPECT_NE(call("GET", "/me/playlists", with(ada, false)).body.find("href=\"/playlist/" + id + "\""),
            std::string::npos);

  // Playing it: each position leads to its video's watch page, past the end back to the playlist.
  const std::vector<std::string> order = {v2, v0, v1};
  for (size_t index = 1; index <= order.size(); ++index) {
    HttpReply play =
        call("GET", "/playlist/" + id + "/play?index=" + std::to_string(index), with(ada, false));
    ASSERT_EQ(play.status, 303) << index;
    const std::string location = play.header("location");
    EXPECT_TRUE(std::regex_match(location, std::regex("/watch/" + order[index - 1] + "(-[^?]*)?\\?list=" +
                                                      id + "&index=" + std::to_string(index))))
        << location;
    const std::string watch = call("GET", location, with(ada, false)).body;
    EXPECT_NE(watch.find("class=\"playlist-panel\""), std::string::npos) << index;
    const std::string next =
        "data-next=\"/playlist/" + id + "/play?index=" + std::to_string(index + 1) + "\"";
    EXPECT_EQ(watch.find(next) != std::string::npos, index < order.size()) << index;
  }
  HttpReply past = call("GET", "/playlist/" + id + "/play?index=4", with(ada, false));
  EXPECT_EQ(past.status, 303);
  EXPECT_EQ(past.header("location"), "/playlist/" + id);
  EXPECT_EQ(call("GET", "/playlist/" + id + "/play?index=0", with(ada, false)).status, 400);
  EXPECT_EQ(call("GET", "/playlist/" + id + "/play", "").status, 404) << "private";
  EXPECT_EQ(call("GET", "/watch/" + v0 + "?list=" + id + "&index=2", "").body.find("playlist-panel"),
            std::string::npos)
      << "nobody else sees a private playlist beside the video";

  // The owner moves the last video up one place with the page's form, or through the API.
  EXPECT_NE(page.find("name=\"position\" value=\"2\""), std::string::npos) << "the move forms";
  HttpReply moved = call("POST", "/api/v1/playlists/" + id + "/videos/" + v1,
                         std::string(form_type) + "Cookie: " + ada.cookie + "\r\n",
                         "_method=PUT&csrf=" + ada.csrf + "&position=2&next=%2Fplaylist%2F" + id);
  EXPECT_EQ(moved.status, 303) << moved.body;
  EXPECT_EQ(moved.header("location"), "/playlist/" + id);
  page = call("GET", "/playlist/" + id, with(ada, false)).body;
  EXPECT_EQ(played_at(page, id, 1), v2);
  EXPECT_EQ(played_at(page, id, 2), v1);
  EXPECT_EQ(played_at(page, id, 3), v0);
  ASSERT_EQ(call("PUT", "/api/v1/playlists/" + id + "/videos/" + v0, std::string(json_type) + with(ada),
                 R"({"position": 1})")
                .status,
            200);
  EXPECT_EQ(played_at(call("GET", "/playlist/" + id, with(ada, false)).body, id, 1), v0);
  EXPECT_EQ(call("PUT", "/api/v1/playlists/" + id + "/videos/" + v0, std::string(json_type) + with(ada),
                 R"({"position": 0})")
                .status,
            400);
  EXPECT_EQ(call("PUT", "/api/v1/playlists/" + id + "/videos/999999999", std::string(json_type) + with(ada),
                 R"({"position": 1})")
                .status,
            404);

  // Made public, its page is the same for every anonymous visitor.
  ASSERT_EQ(
      call("PATCH", "/api/v1/playlists/" + id, std::string(json_type) + with(ada), R"({"public": true})")
          .status,
      200);
  HttpReply shared = call("GET", "/playlist/" + id, "");
  EXPECT_EQ(shared.status, 200);
  EXPECT_EQ(shared.header("cache-control"), "public, max-age=30");
  EXPECT_EQ(shared.body.find("Edit playlist"), std::string::npos);

  // Subscriptions: the channels followed and their newest videos.
  const std::string channel =
      nlohmann::json::parse(http_get(port(), "/api/v1/videos/" + v0)->body)["channel"]["name"]
          .get<std::string>();
  ASSERT_EQ(call("PUT", "/api/v1/me/subscriptions/" + channel, with(ada)).status, 200);
  page = call("GET", "/subscriptions", with(ada, false)).body;
  EXPECT_NE(page.find("href=\"/channel/" + channel + "\""), std::string::npos);
  EXPECT_NE(page.find("/api/v1/me/subscriptions/" + channel), std::string::npos) << "its unsubscribe form";
  EXPECT_NE(page.find("class=\"card\""), std::string::npos) << "the feed's cards";
}

TEST_F(People, DeletingTheAccountTakesItsCommunityAlong) {
  const int64_t video = some_video(port());
  ASSERT_NE(video, 0);
  const std::string v = std::to_string(video);
  const std::string name = fresh_name("ned");
  ASSERT_EQ(register_user(name).status, 201);
  Signed ned = sign_in(name);
  auto before = nlohmann::json::parse(
      call("PUT", "/api/v1/videos/" + v + "/vote", std::string(json_type) + with(ned), R"({"value": 1})")
          .body);
  ASSERT_EQ(call("PUT", "/api/v1/me/favorites/" + v, with(ned)).status, 200);
  EXPECT_EQ(
      call("DELETE", "/api/v1/me", std::string(json_type) + with(ned), R"({"password": "wrong one"})").status,
      403);
  HttpReply deleted = call("DELETE", "/api/v1/me", std::string(json_type) + with(ned),
                           R"({"password": "correct horse battery"})");
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(call("GET", "/api/v1/me", "Cookie: " + ned.cookie + "\r\n").status, 401);
  EXPECT_TRUE(testing::eventually([&] {
    auto page = http_get(port(), "/api/v1/videos/" + v);
    return page && nlohmann::json::parse(page->body, nullptr, false).value("likes", -1) ==
                       before["likes"].get<int64_t>() - 1;
  })) << "the account's like went with it";
  nlohmann::json again{{"username", name}, {"password", "correct horse battery"}};
  EXPECT_EQ(call("POST", "/api/v1/session", std::string(json_type), again.dump()).status, 401);
  EXPECT_EQ(register_user(name).status, 409) << "the name stays taken";
}

TEST_F(People, BadInputGetsAClearError) {
  EXPECT_EQ(call("POST", "/api/v1/users", std::string(json_type), "{\"username\":").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/users", std::string(json_type), "[]").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/users", "Content-Type: text/plain\r\n", "hello").status, 415);
  for (const char* body : {R"({"username": "a", "email": "a@b.c", "password": "long enough"})",
                           R"({"username": "good_name1", "email": "nope", "password": "long enough"})",
                           R"({"username": "good_name2", "email": "x@y.z", "password": "short"})",
                           R"({"username": "admin", "email": "x@y.z", "password": "long enough"})",
                           R"({"username": "<script>", "email": "x@y.z", "password": "long enough"})",
                           R"({"username": 5, "email": "x@y.z", "password": "long enough"})"}) {
    new_client();
    HttpReply reply = call("POST", "/api/v1/users", std::string(json_type), body);
    EXPECT_EQ(reply.status, 400) << body << " -> " << reply.body;
    EXPECT_TRUE(nlohmann::json::parse(reply.body, nullptr, false).contains("error")) << reply.body;
  }
  EXPECT_EQ(call("GET", "/api/v1/session", "").status, 405);
}

}  // namespace
}  // namespace reel
