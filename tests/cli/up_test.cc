// End to end: the real `reel` binary in its embedded mode (`reel up`), with the redis-server child
// it starts, SQLite, the demo catalog made with ffmpeg, its in-process media worker, and the
// commands that work on the same data dir while it runs. Asserts what a visitor, an uploader and
// an operator see over HTTP.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>

#include "process/child.h"
#include "sql/catalog_store.h"
#include "sql/token_store.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/reel_up.h"
#include "transcode/test_clip.h"

namespace reel {
namespace {

namespace fs = std::filesystem;
using reel::testing::read_file;
using testing::eventually;
using testing::http_get;

using testing::reel_binary;

int run_reel(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv{reel_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto child =
      process::Child::spawn({.argv = argv, .stdout_path = log.string(), .stderr_path = log.string()});
  if (!child) return -1;
  auto status = child->wait_for(std::chrono::minutes(5));
  return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

// One `reel up` shared by the tests of this suite (starting it makes the demo clips). Each test
// stands on its own: it may run in any order, and more than once, against the catalog the others
// have changed (uploads, deletes, a seed, a Redis restart).
class ReelUp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("reel-up-" + std::to_string(::getpid())));
    auto up = testing::ReelUp::start_fresh(*dir_);
    ASSERT_TRUE(up) << up.error().message;
    up_ = up->release();
    port_ = up_->port();
    // What the upload tests send: short, so the in-process worker makes it ready in a second or two.
    auto clip = transcode::make_test_clip((*dir_ / "clip.mp4").string(), {.seconds = 2});
    ASSERT_TRUE(clip.ok()) << clip.error().message;
  }

  static void TearDownTestSuite() {
    const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (suite != nullptr && suite->Failed())
      std::fprintf(stderr, "--- up.log ---\n%s\n", read_file(*dir_ / "up.log").c_str());
    delete up_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  // A new admin token from `reel admin token` on the data dir; empty (and a test failure) if none.
  static std::string admin_token() {
    const fs::path log = *dir_ / ("token-" + std::to_string(++tokens_) + ".log");
    EXPECT_EQ(run_reel({"admin", "token", "--data-dir", (*dir_ / "data").string()}, log), 0)
        << read_file(log);
    std::string token = read_file(log);
    if (!token.empty()) token.pop_back();  // the newline
    return token;
  }

  static std::string small_clip() { return read_file(*dir_ / "clip.mp4"); }

  // Whether SQL still has the video (read beside the running server: SQLite allows it).
  static bool sql_has_video(int64_t id) {
    auto db = sql::open({"sqlite:" + (*dir_ / "data" / "reel.db").string()});
    if (!db) return true;
    auto found = sql::CatalogStore(**db).find_video(id);
    return !found || found->has_value();
  }

  // How many videos SQL has ready: what the API's listing totals once Redis has them all.
  static int64_t ready_in_sql() {
    auto db = sql::open({"sqlite:" + (*dir_ / "data" / "reel.db").string()});
    if (!db) return -1;
    int64_t ready = 0;
    auto counted = sql::CatalogStore(**db).for_each_video(catalog::VideoStatus::ready,
                                                          [&](const catalog::Video&) { ++ready; });
    return counted ? ready : -1;
  }

  static inline fs::path* dir_ = nullptr;
  static inline uint16_t port_ = 0;
  static inline testing::ReelUp* up_ = nullptr;
  static inline int tokens_ = 0;
  static inline int runs_ = 0;  // tests that need names of their own (viewers) count their runs
};

TEST_F(ReelUp, HomeShowsTheDemoCatalog) {
  auto home = http_get(port_, "/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 200);
  EXPECT_NE(home->header("content-type").find("text/html"), std::string::npos);
  std::regex watch_link(R"(href="/watch/\d+-[a-z0-9-]*")");
  auto links = std::distance(std::sregex_iterator(home->body.begin(), home->body.end(), watch_link),
                             std::sregex_iterator());
  EXPECT_GE(links, 24);
  EXPECT_NE(home->body.find("/category/music"), std::string::npos);
}

// The "total" of /api/v1/videos with this query; -1 when it cannot be read.
int64_t total_listed(uint16_t port, const std::string& query = "") {
  auto r = http_get(port, "/api/v1/videos" + query);
  if (!r || r->status != 200) return -1;
  auto doc = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  return doc.is_object() && doc["total"].is_number_integer() ? doc["total"].get<int64_t>() : -1;
}

TEST_F(ReelUp, ListingsAndApiAgree) {
  // Every ready video in SQL (the 30 of the demo catalog, and whatever other tests added) is listed.
  const int64_t ready = ready_in_sql();
  ASSERT_GE(ready, 30);
  EXPECT_TRUE(eventually([&] { return total_listed(port_, "?sort=views&period=all") == ready; }))
      << total_listed(port_, "?sort=views&period=all") << " listed, " << ready << " ready in SQL";
  for (auto target :
       {"/videos", "/videos?sort=views&period=day", "/videos?sort=views&period=week",
        "/videos?sort=views&period=month", "/videos?sort=rating", "/videos?sort=duration&page=1",
        "/category/music", "/tag/demo", "/channel/aurora-studio"}) {
    auto r = http_get(port_, target);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 200) << target;
    EXPECT_NE(r->body.find("href=\"/watch/"), std::string::npos) << target;
  }
}

TEST_F(ReelUp, WatchPagePlaysARealClipThroughASignedLink) {
  auto api = http_get(port_, "/api/v1/videos/1");
  ASSERT_TRUE(api);
  ASSERT_EQ(api->status, 200);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      api->body, m, std::regex(R"re("url":"(/media/demo/[a-z]+\.mp4)\?(md5=[\w-]{22})&(expires=\d+)")re")))
      << api->body.substr(0, 600);
  const std::string clip = m[1];
  const std::string signed_clip = clip + "?" + m[2].str() + "&" + m[3].str();
  EXPECT_NE(api->body.find("\"related\":[{"), std::string::npos);
  auto page = http_get(port_, "/watch/1");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<video"), std::string::npos);
  EXPECT_NE(page->body.find(clip + "?" + m[2].str() + "&amp;" + m[3].str()), std::string::npos);
  auto range = http_get(port_, signed_clip, "Range: bytes=0-7\r\n");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->status, 206);
  EXPECT_EQ(range->body.size(), 8u);
  EXPECT_EQ(range->body.substr(4, 4), "ftyp");  // an MP4 file
  // reel up signs media links: without the signature, or with another's, the file is refused.
  auto unsigned_clip = http_get(port_, clip);
  ASSERT_TRUE(unsigned_clip);
  EXPECT_EQ(unsigned_clip->status, 403);
  auto other = http_get(port_, "/media/demo/other.mp4?" + m[2].str() + "&" + m[3].str());
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
}

TEST_F(ReelUp, BadInputGetsClearErrors) {
  struct Case {
    std::string target;
    int status;
  };
  for (const auto& c : std::vector<Case>{{"/videos?sort=bogus", 400},
                                         {"/videos?page=0", 400},
                                         {"/videos?page=99999", 404},
                                         {"/watch/999999", 404},
                                         {"/watch/abc", 404},
                                         {"/category/no-such", 404},
                                         {"/tag/no-such-tag", 404},
                                         {"/channel/nobody", 404},
                                         {"/media/../reel.toml", 404},
                                         {"/media/%2e%2e/reel.toml", 404},
                                         {"/api/v1/videos/0", 404},
                                         {"/videos?" + std::string(4000, 'x'), 414}}) {
    auto r = http_get(port_, c.target);
    ASSERT_TRUE(r) << c.target;
    EXPECT_EQ(r->status, c.status) << c.target;
  }
  auto huge = http_get(port_, "/videos?q=" + std::string(20000, 'x'));
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 431);
}

TEST_F(ReelUp, MetricsCountRequestsAndRedisRoundTrips) {
  ASSERT_TRUE(http_get(port_, "/videos"));
  auto metrics = http_get(port_, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("reel_http_requests_total{route=\"videos\",status=\"200\"}"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("reel_redis_round_trips_total"), std::string::npos);
  EXPECT_NE(metrics->body.find("reel_http_request_duration_seconds_bucket"), std::string::npos);
}

// The video's JSON document, or null when it cannot be read.
nlohmann::json video_document(uint16_t port, int64_t id) {
  auto r = http_get(port, "/api/v1/videos/" + std::to_string(id));
  if (!r || r->status != 200) return nullptr;
  return nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
}

int beacon(uint16_t port, int64_t id, const std::string& user_agent) {
  auto r = testing::http_request(port, "POST", "/api/v1/videos/" + std::to_string(id) + "/view",
                                 "User-Agent: " + user_agent + "\r\n");
  return r ? r->status : -1;
}

// The beacon goes over UDP to the aggregator `reel up` runs in-process: counts show on the API
// within seconds, once per viewer, bots left out; a viewer's next video becomes related.
TEST_F(ReelUp, BeaconViewsAreCountedWithinSeconds) {
  auto before = video_document(port_, 5);
  ASSERT_TRUE(before.is_object());
  const int64_t views = before["views"].get<int64_t>();
  // Viewers new to the aggregator (which counts a viewer once per video for 30 minutes), whichever
  // run of this test this is.
  const std::string agent =
      "Mozilla/5.0 (X11; Linux x86_64) Firefox/120 run-" + std::to_string(++runs_) + " viewer-";
  EXPECT_EQ(beacon(port_, 5, "Googlebot/2.1 (+http://www.google.com/bot.html)"), 204);
  for (int viewer = 0; viewer < 3; ++viewer) EXPECT_EQ(beacon(port_, 5, agent + std::to_string(viewer)), 204);
  EXPECT_EQ(beacon(port_, 5, agent + "0"), 204);  // a repeat
  EXPECT_EQ(beacon(port_, 6, agent + "0"), 204);
  EXPECT_EQ(beacon(port_, 999999, agent + "0"), 404);

  EXPECT_TRUE(eventually([&] {
    auto now = video_document(port_, 5);
    return now.is_object() && now["views"].get<int64_t>() >= views + 3;
  }));
  auto after = video_document(port_, 5);
  ASSERT_TRUE(after.is_object());
  EXPECT_EQ(after["views"].get<int64_t>(), views + 3) << "one view per viewer, no bot";
  ASSERT_FALSE(after["related"].empty());
  EXPECT_EQ(after["related"][0]["id"].get<int64_t>(), 6) << "watched in the same session comes first";
  auto trending = http_get(port_, "/api/v1/videos?sort=trending");
  ASSERT_TRUE(trending);
  EXPECT_EQ(trending->status, 200);
  EXPECT_NE(trending->body.find("\"id\":5"), std::string::npos);
}

TEST_F(ReelUp, AdminTokenPrintsANewTokenEachTime) {
  const std::regex token(R"(reel_[0-9a-f]{48})");  // admin_token() took the newline off
  const std::string first = admin_token(), second = admin_token();
  EXPECT_TRUE(std::regex_match(first, token)) << first;
  EXPECT_TRUE(std::regex_match(second, token)) << second;
  EXPECT_NE(first, second);
}

// `reel admin token --list` shows each token's id and last four characters, never the token;
// `--revoke ID` makes the server refuse it (the loops' caches hold a grant for a second).
TEST_F(ReelUp, AdminTokensCanBeListedAndRevoked) {
  const fs::path data = *dir_ / "data";
  const std::string token = admin_token();
  ASSERT_FALSE(token.empty());
  const std::string auth = "Authorization: Bearer " + token + "\r\n";
  auto before = testing::http_request(port_, "DELETE", "/api/v1/videos/999999", auth);
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 404) << "a valid admin token";

  const fs::path list_log = *dir_ / "token-list.log";
  ASSERT_EQ(run_reel({"admin", "token", "--list", "--data-dir", data.string()}, list_log), 0)
      << read_file(list_log);
  const std::string listing = read_file(list_log);
  EXPECT_EQ(listing.find(token), std::string::npos) << "the token itself is never shown";
  EXPECT_EQ(listing.find(token.substr(5, 8)), std::string::npos) << listing;
  std::smatch row;
  const std::regex line("\\n\\s*([0-9]+)\\s+admin\\s+\\S+ \\S+\\s+reel_…" + token.substr(token.size() - 4) +
                        "\\s");
  ASSERT_TRUE(std::regex_search(listing, row, line)) << listing;
  const std::string id = row[1];

  const fs::path revoke_log = *dir_ / "token-revoke.log";
  ASSERT_EQ(run_reel({"admin", "token", "--revoke", id, "--data-dir", data.string()}, revoke_log), 0)
      << read_file(revoke_log);
  EXPECT_TRUE(eventually(
      [&] {
        auto after = testing::http_request(port_, "DELETE", "/api/v1/videos/999999", auth);
        return after && after->status == 401;
      },
      std::chrono::seconds(60)))
      << "the revoked token is refused";
  EXPECT_NE(run_reel({"admin", "token", "--revoke", id, "--data-dir", data.string()}, revoke_log), 0)
      << "no such token any more";
  EXPECT_NE(run_reel({"admin", "token", "--list", "--revoke", id, "--data-dir", data.string()}, revoke_log),
            0);
}

// A multipart/form-data body with text fields and one file field named "file".
std::string multipart(const std::vector<std::pair<std::string, std::string>>& fields,
                      const std::string& file_bytes) {
  std::string body;
  for (const auto& [name, value] : fields) {
    body += "--XyZ\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  }
  body +=
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/clip.mp4\"\r\n"
      "Content-Type: video/mp4\r\n\r\n" +
      file_bytes + "\r\n--XyZ--\r\n";
  return body;
}

Result<testing::HttpReply> post_upload(uint16_t port, const std::string& token, const std::string& body) {
  std::string headers =
      "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n";
  if (!token.empty()) headers += "Authorization: Bearer " + token + "\r\n";
  return testing::http_request(port, "POST", "/api/v1/uploads", headers + "\r\n" + body);
}

// Uploads `clip` titled `title`: the new video's id; 0 (and a test failure) when it is refused.
int64_t upload_clip(uint16_t port, const std::string& token, const std::string& title,
                    const std::string& clip) {
  auto created = post_upload(port, token, multipart({{"title", title}}, clip));
  EXPECT_TRUE(created && created->status == 201) << (created ? created->body : created.error().message);
  if (!created || created->status != 201) return 0;
  auto doc = nlohmann::json::parse(created->body, nullptr, /*allow_exceptions=*/false);
  return doc.is_object() && doc["id"].is_number_integer() ? doc["id"].get<int64_t>() : 0;
}

// The video's API document once its upload is processed (no longer "processing"), polled until
// `deadline`; the last document read (maybe still processing) otherwise.
nlohmann::json wait_processed(uint16_t port, int64_t id,
                              std::chrono::seconds deadline = std::chrono::seconds(120)) {
  nlohmann::json doc;
  eventually(
      [&] {
        doc = video_document(port, id);
        return doc.is_object() && doc["status"] != "processing";
      },
      deadline);
  return doc;
}

// Whether the first page of /api/v1/videos (newest first) lists the video, and how many times.
int listed_times(uint16_t port, int64_t id) {
  auto r = http_get(port, "/api/v1/videos?sort=newest");
  if (!r || r->status != 200) return -1;
  auto doc = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc["videos"].is_array()) return -1;
  int times = 0;
  for (const auto& card : doc["videos"]) times += card["id"] == id ? 1 : 0;
  return times;
}

// The upload API: 201 with the processing video, whose status the API reports until the
// in-process worker makes it ready and lists it; bad requests get clear errors.
TEST_F(ReelUp, UploadsAreProcessedAndListed) {
  const fs::path data = *dir_ / "data";
  const std::string token = admin_token();
  const std::string clip = small_clip();
  ASSERT_FALSE(clip.empty());

  auto created = post_upload(port_, token, multipart({{"title", "Uploaded & new"}, {"tags", "fresh"}}, clip));
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  auto doc = nlohmann::json::parse(created->body, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["status"], "processing");
  const int64_t id = doc["id"].get<int64_t>();
  auto processed = wait_processed(port_, id);
  ASSERT_TRUE(processed.is_object());
  ASSERT_EQ(processed["status"], "ready") << processed.dump() << "\n" << read_file(*dir_ / "up.log");
  EXPECT_EQ(processed["title"], "Uploaded & new") << "listed: the full document";
  EXPECT_EQ(processed["duration"], 2);
  EXPECT_TRUE(eventually([&] { return listed_times(port_, id) == 1; }))
      << "listed once (within the read model's second of caching)";
  auto page = http_get(port_, "/watch/" + std::to_string(id));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_FALSE(fs::exists(data / "uploads" / (std::to_string(id) + ".upload")))
      << "the upload is gone once processed";
  EXPECT_TRUE(fs::is_directory(data / "media" / "videos" / std::to_string(id)));

  auto no_token = post_upload(port_, "", multipart({{"title", "x"}}, clip));
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
  auto bad_token = post_upload(port_, "reel_" + std::string(48, '0'), multipart({{"title", "x"}}, clip));
  ASSERT_TRUE(bad_token);
  EXPECT_EQ(bad_token->status, 401);
  for (const auto& [fields, file, why] :
       std::vector<std::tuple<std::vector<std::pair<std::string, std::string>>, std::string, std::string>>{
           {{{"title", ""}}, clip, "a title is required"},
           {{{"title", "x"}, {"category", "no-such"}}, clip, "unknown category"},
           {{{"title", "x"}}, "", "The file is empty."}}) {
    auto refused = post_upload(port_, token, multipart(fields, file));
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 400) << why;
    EXPECT_NE(refused->body.find(why), std::string::npos) << refused->body;
  }
  auto truncated = post_upload(port_, token, multipart({{"title", "x"}}, clip).substr(0, 300));
  ASSERT_TRUE(truncated);
  EXPECT_EQ(truncated->status, 400) << truncated->body;
  std::size_t incoming = 0;
  for (const auto& entry : fs::directory_iterator(data / "uploads")) {
    incoming += entry.path().filename().string().starts_with("incoming-") ? 1 : 0;
  }
  EXPECT_EQ(incoming, 0u) << "refused uploads leave no files";
}

// A resumable upload: created, half sent, the offset asked after a "dropped connection", a wrong
// offset refused with the right one, then finished into a processing video.
TEST_F(ReelUp, ResumableUploadsPickUpWhereTheyStopped) {
  const std::string auth = "Authorization: Bearer " + admin_token() + "\r\n";
  const std::string clip = small_clip();
  ASSERT_GT(clip.size(), 2u);
  auto send = [&](const std::string& method, const std::string& target, const std::string& headers,
                  const std::string& body) {
    return testing::http_request(
        port_, method, target,
        auth + headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  };
  const std::string form = R"({"title": "Sent in pieces", "tags": "slow link"})";
  auto created = send("POST", "/api/v1/uploads/resumable",
                      "Upload-Length: " + std::to_string(clip.size()) + "\r\n", form);
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string location = created->header("location");
  ASSERT_TRUE(location.starts_with("/api/v1/uploads/resumable/")) << location;

  const size_t half = clip.size() / 2;
  auto first = send("PATCH", location, "Upload-Offset: 0\r\n", clip.substr(0, half));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 204) << first->body;
  auto asked = testing::http_request(port_, "GET", location, auth);
  ASSERT_TRUE(asked);
  EXPECT_EQ(asked->header("upload-offset"), std::to_string(half));
  auto wrong = send("PATCH", location, "Upload-Offset: 0\r\n", clip.substr(half));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 409);
  EXPECT_EQ(wrong->header("upload-offset"), std::to_string(half));
  auto other_token = testing::http_request(port_, "GET", location, "");
  ASSERT_TRUE(other_token);
  EXPECT_EQ(other_token->status, 401);

  auto last = send("PATCH", location, "Upload-Offset: " + std::to_string(half) + "\r\n", clip.substr(half));
  ASSERT_TRUE(last);
  ASSERT_EQ(last->status, 201) << last->body;
  auto doc = nlohmann::json::parse(last->body, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  const int64_t id = doc["id"].get<int64_t>();
  auto gone = testing::http_request(port_, "GET", location, auth);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404) << "the session ends with the upload";
  // Every byte, in order: a clip put together wrong would not decode to its full length.
  auto processed = wait_processed(port_, id);
  ASSERT_TRUE(processed.is_object());
  EXPECT_EQ(processed["status"], "ready") << processed.dump();
  EXPECT_EQ(processed["duration"], 2);
}

// Deleting: 401 without a valid token, 404 for an unknown video, 405 for a method a video does not
// answer; 202, and the video is gone from every list and the API at once, then from disk and SQL.
TEST_F(ReelUp, DeletedVideosAreGoneEverywhere) {
  const fs::path data = *dir_ / "data";
  const std::string token = admin_token();
  const int64_t id = upload_clip(port_, token, "Short-lived", small_clip());
  ASSERT_GT(id, 0);
  ASSERT_EQ(wait_processed(port_, id)["status"], "ready");
  ASSERT_TRUE(eventually([&] { return listed_times(port_, id) == 1; }));
  const std::string target = "/api/v1/videos/" + std::to_string(id);
  const std::string auth = "Authorization: Bearer " + token + "\r\n";

  auto no_token = testing::http_request(port_, "DELETE", target);
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
  auto bad_token = testing::http_request(port_, "DELETE", target,
                                         "Authorization: Bearer reel_" + std::string(48, '0') + "\r\n");
  ASSERT_TRUE(bad_token);
  EXPECT_EQ(bad_token->status, 401);
  auto unknown = testing::http_request(port_, "DELETE", "/api/v1/videos/999999", auth);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto wrong_method = testing::http_request(port_, "PUT", target, auth + "Content-Length: 0\r\n");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->header("allow"), "GET, HEAD, DELETE");
  // Still listed: asked until every event loop's kept page (a second old at most) has it.
  EXPECT_TRUE(eventually([&] { return listed_times(port_, id) == 1; })) << "refused deletes change nothing";

  auto deleted = testing::http_request(port_, "DELETE", target, auth);
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 202) << deleted->body;
  auto answer = nlohmann::json::parse(deleted->body, nullptr, false);
  EXPECT_EQ(answer, (nlohmann::json{{"id", id}, {"status", "deleting"}}));
  // Out of every Redis list at once (tests/ingest); the API's pages are cached for a second.
  EXPECT_TRUE(eventually([&] { return listed_times(port_, id) == 0; }));
  auto status = http_get(port_, target);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 404);
  EXPECT_TRUE(eventually([&] { return !fs::exists(data / "media" / "videos" / std::to_string(id)); }))
      << read_file(*dir_ / "up.log");
  EXPECT_TRUE(eventually([&] { return !sql_has_video(id); })) << "the delete job removes the SQL rows";
  auto again = testing::http_request(port_, "DELETE", target, auth);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);
}

// A video deleted while it is still processing never shows up: its transcode job, queued or
// running, does not bring it back.
TEST_F(ReelUp, DeletingAnUploadStillProcessingKeepsItGone) {
  const fs::path data = *dir_ / "data";
  const std::string token = admin_token();
  const int64_t id = upload_clip(port_, token, "Never mind", small_clip());
  ASSERT_GT(id, 0);
  const std::string target = "/api/v1/videos/" + std::to_string(id);
  auto deleted = testing::http_request(port_, "DELETE", target, "Authorization: Bearer " + token + "\r\n");
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 202) << deleted->body;
  // One worker slot takes the jobs in order, so the transcode job is done once the delete job is.
  ASSERT_TRUE(eventually([&] { return !sql_has_video(id); }, std::chrono::seconds(120)))
      << read_file(*dir_ / "up.log");
  auto status = http_get(port_, target);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 404);
  EXPECT_TRUE(eventually([&] { return listed_times(port_, id) == 0; }));
  EXPECT_FALSE(fs::exists(data / "media" / "videos" / std::to_string(id)));
  EXPECT_FALSE(fs::exists(data / "uploads" / (std::to_string(id) + ".upload")));
}

// What a client pushing a large body saw: the status of the answer (0: none before the deadline),
// how many body bytes it had sent by then, and whether the server's temporary directory for
// bodies ever held a file meanwhile.
struct EarlyAnswer {
  int status = 0;
  uint64_t sent = 0;
  bool temp_file_seen = false;
};

// Sends `head` (a request header declaring a `length`-byte body), then body bytes as fast as the
// server takes them, until the server answers (its status line has arrived) or `deadline` passes.
EarlyAnswer push_body_until_answered(uint16_t port, const std::string& head, uint64_t length,
                                     const fs::path& temp_dir, std::chrono::milliseconds deadline) {
  EarlyAnswer out;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return out;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(fd, head.data(), head.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(head.size())) {
    ::close(fd);
    return out;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const std::string chunk(64 * 1024, 'x');
  std::string received;
  bool can_send = true;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until && received.find("\r\n") == std::string::npos) {
    pollfd p{fd, static_cast<short>(POLLIN | (can_send && out.sent < length ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 100) < 0) break;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[4096];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n > 0) received.append(buffer, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN)) break;
    }
    if (p.revents & POLLOUT) {
      const size_t size = static_cast<size_t>(std::min<uint64_t>(chunk.size(), length - out.sent));
      const ssize_t n = ::send(fd, chunk.data(), size, MSG_NOSIGNAL);
      if (n > 0) out.sent += static_cast<uint64_t>(n);
      if (n < 0 && errno != EAGAIN) can_send = false;  // the server closed; its answer may be waiting
    }
    std::error_code ec;
    if (!out.temp_file_seen && !fs::is_empty(temp_dir, ec) && !ec) out.temp_file_seen = true;
  }
  ::close(fd);
  if (received.starts_with("HTTP/1.1 ") && received.size() >= 12)
    out.status = std::stoi(received.substr(9, 3));
  return out;
}

// Pushes a 50 MB upload carrying `auth` (header lines) and expects `status` from its header alone:
// answered long before half of it could have been sent, and no byte of it on disk.
void expect_refused_before_body(uint16_t port, const fs::path& data_dir, const std::string& auth,
                                int status) {
  const fs::path temp_dir = data_dir / "uploads" / "tmp";
  ASSERT_TRUE(fs::is_directory(temp_dir));
  constexpr uint64_t length = 50 * 1024 * 1024;
  const std::string head =
      "POST /api/v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth +
      "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: " + std::to_string(length) +
      "\r\n\r\n";
  const EarlyAnswer answer = push_body_until_answered(port, head, length, temp_dir, std::chrono::seconds(60));
  EXPECT_EQ(answer.status, status) << auth;
  EXPECT_LT(answer.sent, length / 2) << "answered before the body was read";
  EXPECT_FALSE(answer.temp_file_seen) << "no byte of the body went to disk";
  EXPECT_TRUE(fs::is_empty(temp_dir));
}

// An upload without a valid token is refused from its header: 401 long before its 50 MB could
// have been sent, and no byte of it on disk.
TEST_F(ReelUp, AnUploadWithoutAValidTokenIsRefusedBeforeItsBody) {
  for (const std::string& auth :
       {std::string(), "Authorization: Bearer reel_" + std::string(48, '0') + "\r\n"}) {
    expect_refused_before_body(port_, *dir_ / "data", auth, 401);
  }
  auto resumable = testing::http_request(port_, "PATCH", "/api/v1/uploads/resumable/abc",
                                         "Upload-Offset: 0\r\nContent-Length: 3\r\n\r\nabc");
  ASSERT_TRUE(resumable);
  EXPECT_EQ(resumable->status, 401);
  EXPECT_EQ(resumable->header("www-authenticate"), "Bearer");
}

// A valid token without upload rights (a user token) is refused like a missing one: from the
// request's header, before its body is read, nothing of it on disk.
TEST_F(ReelUp, AnUploadWithATokenWithoutUploadRightsIsRefusedBeforeItsBody) {
  auto db = sql::open({"sqlite:" + (*dir_ / "data" / "reel.db").string()});
  ASSERT_TRUE(db) << db.error().message;
  auto user_token = sql::TokenStore(**db).create(sql::TokenRole::user, "no upload rights", 0, 0);
  ASSERT_TRUE(user_token) << user_token.error().message;
  const std::string auth = "Authorization: Bearer " + *user_token + "\r\n";
  expect_refused_before_body(port_, *dir_ / "data", auth, 403);
  auto resumable = testing::http_request(port_, "PATCH", "/api/v1/uploads/resumable/abc",
                                         auth + "Upload-Offset: 0\r\nContent-Length: 3\r\n\r\nabc");
  ASSERT_TRUE(resumable);
  EXPECT_EQ(resumable->status, 403);
}

// DELETE of a resumable upload answers 204 only when the session is gone: 503 when it could not be
// removed (here: the name it is renamed to on its way out is taken), 404 once it is gone.
TEST_F(ReelUp, CancellingAResumableUploadSaysWhetherItIsGone) {
  const std::string auth = "Authorization: Bearer " + admin_token() + "\r\n";
  const std::string form = R"({"title": "Cancelled"})";
  auto created = testing::http_request(
      port_, "POST", "/api/v1/uploads/resumable",
      auth + "Upload-Length: 100\r\nContent-Length: " + std::to_string(form.size()) + "\r\n\r\n" + form);
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string location = created->header("location");
  const std::string id = location.substr(location.rfind('/') + 1);
  const fs::path obstacle = *dir_ / "data" / "uploads" / "sessions" / (".trash-" + id);
  fs::create_directories(obstacle);
  std::ofstream(obstacle / "in-the-way") << "x";

  auto refused = testing::http_request(port_, "DELETE", location, auth);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503) << "the session is still there";
  auto still = testing::http_request(port_, "GET", location, auth);
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 200);

  fs::remove_all(obstacle);
  auto cancelled = testing::http_request(port_, "DELETE", location, auth);
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->status, 204);
  auto again = testing::http_request(port_, "DELETE", location, auth);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);
}

TEST_F(ReelUp, SeedAndRebuildWorkWhileItRuns) {
  const fs::path data = *dir_ / "data";
  const int64_t before = ready_in_sql();  // the demo catalog and what the upload tests left
  ASSERT_GE(before, 30);
  ASSERT_EQ(run_reel({"seed", "--data-dir", data.string(), "--videos", "300"}, *dir_ / "seed.log"), 0)
      << read_file(*dir_ / "seed.log");
  EXPECT_EQ(ready_in_sql(), before + 300);
  EXPECT_TRUE(eventually([&] { return total_listed(port_) == before + 300; }))
      << total_listed(port_) << "\n"
      << read_file(*dir_ / "seed.log");
  ASSERT_EQ(run_reel({"rebuild", "--data-dir", data.string(), "nav", "newest"}, *dir_ / "rebuild.log"), 0)
      << read_file(*dir_ / "rebuild.log");
  EXPECT_EQ(run_reel({"rebuild", "--data-dir", data.string(), "bogus"}, *dir_ / "bad.log"), 1);
  EXPECT_NE(read_file(*dir_ / "bad.log").find("unknown projection 'bogus'"), std::string::npos);
}

// A Redis that dies under `reel up`: tests/cli/up_outage_test.cc.

TEST(ReelUpShutdown, SigtermStopsTheServerAndItsRedis) {
  const fs::path dir = fs::temp_directory_path() / ("reel-up-stop-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const uint16_t port = testing::free_port();
  auto child = process::Child::spawn({.argv = {reel_binary(), "up", "--data-dir", dir.string(), "--listen",
                                               "127.0.0.1:" + std::to_string(port)},
                                      .stdout_path = (dir.string() + ".log"),
                                      .stderr_path = (dir.string() + ".log")});
  ASSERT_TRUE(child) << child.error().message;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = http_get(port, "/readyz");
        return (r && r->status == 200) || !child->running();
      },
      std::chrono::seconds(120)));
  ASSERT_TRUE(child->running()) << read_file(dir.string() + ".log");
  const pid_t redis = static_cast<pid_t>(std::stol(read_file(dir / "redis" / "redis.pid")));
  ASSERT_EQ(::kill(child->pid(), SIGTERM), 0);
  auto status = child->wait_for(std::chrono::seconds(120));
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_file(dir.string() + ".log");
  EXPECT_NE(::kill(redis, 0), 0) << "redis-server child still running";
  fs::remove_all(dir);
  fs::remove(dir.string() + ".log");
}

}  // namespace
}  // namespace reel
