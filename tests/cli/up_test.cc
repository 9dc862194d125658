// End to end: the real `reel` binary in its embedded mode (`reel up`), with the redis-server child
// it starts, SQLite, the demo catalog made with ffmpeg, and the commands that work on the same
// data dir while it runs. Asserts what a visitor and an operator see over HTTP.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "process/child.h"
#include "redis/server.h"
#include "support/fixtures.h"
#include "support/http_client.h"

namespace reel {
namespace {

namespace fs = std::filesystem;
using testing::eventually;
using testing::http_get;

std::string reel_binary() { return std::string(std::getenv("REEL_BINARY_DIR")) + "/reel"; }

int run_reel(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv{reel_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto child = process::Child::spawn({.argv = argv, .stdout_path = log.string(), .stderr_path = log.string()});
  if (!child) return -1;
  auto status = child->wait_for(std::chrono::minutes(5));
  return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One `reel up` shared by the tests of this suite (starting it makes the demo clips).
class ReelUp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("reel-up-" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    port_ = testing::free_port();
    auto child = process::Child::spawn({.argv = {reel_binary(), "up", "--data-dir", (*dir_ / "data").string(),
                                                 "--listen", "127.0.0.1:" + std::to_string(port_)},
                                        .stdout_path = (*dir_ / "up.log").string(),
                                        .stderr_path = (*dir_ / "up.log").string()});
    ASSERT_TRUE(child) << child.error().message;
    up_ = new process::Child(std::move(*child));
    ASSERT_TRUE(eventually([] {
      auto r = http_get(port_, "/readyz");
      return (r && r->status == 200) || !up_->running();
    }, std::chrono::seconds(120)));
    ASSERT_TRUE(up_->running()) << read_file(*dir_ / "up.log");
  }

  static void TearDownTestSuite() {
    delete up_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  static pid_t redis_pid() {
    return static_cast<pid_t>(std::stol(read_file(*dir_ / "data" / "redis" / "redis.pid")));
  }

  static inline fs::path* dir_ = nullptr;
  static inline uint16_t port_ = 0;
  static inline process::Child* up_ = nullptr;
};

TEST_F(ReelUp, HomeShowsTheDemoCatalog) {
  auto home = http_get(port_, "/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 200);
  EXPECT_NE(home->header("content-type").find("text/html"), std::string::npos);
  std::regex watch_link(R"(href="/watch/\d+-[a-z0-9-]*")");
  auto links = std::distance(std::sregex_iterator(home->body.begin(), home->body.end(), watch_link), std::sregex_iterator());
  EXPECT_GE(links, 24);
  EXPECT_NE(home->body.find("/category/music"), std::string::npos);
}

TEST_F(ReelUp, ListingsAndApiAgree) {
  auto api = http_get(port_, "/api/v1/videos?sort=views&period=all");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 200);
  EXPECT_NE(api->body.find("\"total\":30"), std::string::npos) << api->body.substr(0, 300);
  for (auto target : {"/videos", "/videos?sort=views&period=day", "/videos?sort=views&period=week",
                      "/videos?sort=views&period=month", "/videos?sort=rating", "/videos?sort=duration&page=1",
                      "/category/music", "/tag/demo", "/channel/aurora-studio"}) {
    auto r = http_get(port_, target);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 200) << target;
    EXPECT_NE(r->body.find("href=\"/watch/"), std::string::npos) << target;
  }
}

TEST_F(ReelUp, WatchPagePlaysARealClip) {
  auto api = http_get(port_, "/api/v1/videos/1");
  ASSERT_TRUE(api);
  ASSERT_EQ(api->status, 200);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(api->body, m, std::regex(R"re("url":"(/media/demo/[a-z]+\.mp4)")re")));
  const std::string clip = m[1];
  EXPECT_NE(api->body.find("\"related\":[{"), std::string::npos);
  auto page = http_get(port_, "/watch/1");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<video"), std::string::npos);
  EXPECT_NE(page->body.find(clip), std::string::npos);
  auto range = http_get(port_, clip, "Range: bytes=0-7\r\n");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->status, 206);
  EXPECT_EQ(range->body.size(), 8u);
  EXPECT_EQ(range->body.substr(4, 4), "ftyp");  // an MP4 file
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
  EXPECT_NE(metrics->body.find("reel_http_requests_total{route=\"videos\",status=\"200\"}"), std::string::npos);
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
  EXPECT_EQ(beacon(port_, 5, "Googlebot/2.1 (+http://www.google.com/bot.html)"), 204);
  for (int viewer = 0; viewer < 3; ++viewer) {
    EXPECT_EQ(beacon(port_, 5, "Mozilla/5.0 (X11; Linux x86_64) Firefox/120 viewer-" + std::to_string(viewer)), 204);
  }
  EXPECT_EQ(beacon(port_, 5, "Mozilla/5.0 (X11; Linux x86_64) Firefox/120 viewer-0"), 204);  // a repeat
  EXPECT_EQ(beacon(port_, 6, "Mozilla/5.0 (X11; Linux x86_64) Firefox/120 viewer-0"), 204);
  EXPECT_EQ(beacon(port_, 999999, "Mozilla/5.0 (X11; Linux x86_64) Firefox/120 viewer-0"), 404);

  EXPECT_TRUE(eventually([&] {
    auto now = video_document(port_, 5);
    return now.is_object() && now["views"].get<int64_t>() >= views + 3;
  }, std::chrono::seconds(15)));
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
  const fs::path data = *dir_ / "data";
  ASSERT_EQ(run_reel({"admin", "token", "--data-dir", data.string()}, *dir_ / "token1.log"), 0)
      << read_file(*dir_ / "token1.log");
  ASSERT_EQ(run_reel({"admin", "token", "--data-dir", data.string()}, *dir_ / "token2.log"), 0);
  const std::regex token(R"(reel_[0-9a-f]{48}\n)");
  const std::string first = read_file(*dir_ / "token1.log"), second = read_file(*dir_ / "token2.log");
  EXPECT_TRUE(std::regex_match(first, token)) << first;
  EXPECT_TRUE(std::regex_match(second, token)) << second;
  EXPECT_NE(first, second);
}

// A multipart/form-data body with text fields and one file field named "file".
std::string multipart(const std::vector<std::pair<std::string, std::string>>& fields, const std::string& file_bytes) {
  std::string body;
  for (const auto& [name, value] : fields) {
    body += "--XyZ\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  }
  body += "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/clip.mp4\"\r\n"
          "Content-Type: video/mp4\r\n\r\n" + file_bytes + "\r\n--XyZ--\r\n";
  return body;
}

Result<testing::HttpReply> post_upload(uint16_t port, const std::string& token, const std::string& body) {
  std::string headers = "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n";
  if (!token.empty()) headers += "Authorization: Bearer " + token + "\r\n";
  return testing::http_request(port, "POST", "/api/v1/uploads", headers + "\r\n" + body);
}

// The upload API: 201 with the processing video, whose status the API reports until the worker
// (tested in tests/worker) makes it ready; bad requests get clear errors.
TEST_F(ReelUp, UploadsCreateAProcessingVideo) {
  const fs::path data = *dir_ / "data";
  ASSERT_EQ(run_reel({"admin", "token", "--data-dir", data.string()}, *dir_ / "upload-token.log"), 0);
  std::string token = read_file(*dir_ / "upload-token.log");
  token.pop_back();  // the newline
  const std::string clip = read_file(data / "media" / "demo" / "testcard.mp4");
  ASSERT_FALSE(clip.empty());

  auto created = post_upload(port_, token, multipart({{"title", "Uploaded & new"}, {"tags", "fresh"}}, clip));
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  auto doc = nlohmann::json::parse(created->body, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["status"], "processing");
  const int64_t id = doc["id"].get<int64_t>();
  EXPECT_TRUE(fs::exists(data / "uploads" / (std::to_string(id) + ".upload")));
  auto status = video_document(port_, id);
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status["status"], "processing");
  auto page = http_get(port_, "/watch/" + std::to_string(id));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 404) << "not listed until ready";

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
  const fs::path data = *dir_ / "data";
  ASSERT_EQ(run_reel({"admin", "token", "--data-dir", data.string()}, *dir_ / "resumable-token.log"), 0);
  std::string token = read_file(*dir_ / "resumable-token.log");
  token.pop_back();
  const std::string auth = "Authorization: Bearer " + token + "\r\n";
  const std::string clip = read_file(data / "media" / "demo" / "bars.mp4");
  ASSERT_GT(clip.size(), 2u);
  auto send = [&](const std::string& method, const std::string& target, const std::string& headers,
                  const std::string& body) {
    return testing::http_request(port_, method, target,
                                 auth + headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  };
  const std::string form = R"({"title": "Sent in pieces", "tags": "slow link"})";
  auto created = send("POST", "/api/v1/uploads/resumable", "Upload-Length: " + std::to_string(clip.size()) + "\r\n", form);
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
  EXPECT_EQ(read_file(data / "uploads" / (std::to_string(id) + ".upload")), clip) << "every byte, in order";
  auto gone = testing::http_request(port_, "GET", location, auth);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404) << "the session ends with the upload";
}

TEST_F(ReelUp, SeedAndRebuildWorkWhileItRuns) {
  const fs::path data = *dir_ / "data";
  ASSERT_EQ(run_reel({"seed", "--data-dir", data.string(), "--videos", "300"}, *dir_ / "seed.log"), 0)
      << read_file(*dir_ / "seed.log");
  auto api = http_get(port_, "/api/v1/videos");
  ASSERT_TRUE(api);
  EXPECT_NE(api->body.find("\"total\":330"), std::string::npos) << api->body.substr(0, 200);
  ASSERT_EQ(run_reel({"rebuild", "--data-dir", data.string(), "nav", "newest"}, *dir_ / "rebuild.log"), 0)
      << read_file(*dir_ / "rebuild.log");
  EXPECT_EQ(run_reel({"rebuild", "--data-dir", data.string(), "bogus"}, *dir_ / "bad.log"), 1);
  EXPECT_NE(read_file(*dir_ / "bad.log").find("unknown projection 'bogus'"), std::string::npos);
}

// Runs last in this suite (gtest keeps declaration order): it restarts Redis.
TEST_F(ReelUp, RedisDownIs503AndRecoversByItself) {
  const fs::path redis_dir = *dir_ / "data" / "redis";
  const pid_t pid = redis_pid();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([] {
    auto r = http_get(port_, "/videos");
    return r && r->status == 503;
  }));
  auto down = http_get(port_, "/videos");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->header("retry-after"), "5");
  auto ready = http_get(port_, "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  auto health = http_get(port_, "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  // Bring the same Redis (same dir, same AOF, same port) back, as a supervisor would.
  const std::string conf = read_file(redis_dir / "redis.conf");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(conf, m, std::regex(R"(port (\d+))")));
  redis::RedisServerOptions options;
  options.dir = redis_dir.string();
  options.port = static_cast<uint16_t>(std::stoi(m[1]));
  auto revived = redis::RedisServer::start(options);
  ASSERT_TRUE(revived) << revived.error().message;
  EXPECT_TRUE(eventually([] {
    auto r = http_get(port_, "/videos");
    return r && r->status == 200;
  })) << read_file(*dir_ / "up.log");
  auto api = http_get(port_, "/api/v1/videos");
  ASSERT_TRUE(api) << api.error().message << "\n" << read_file(*dir_ / "up.log");
  EXPECT_NE(api->body.find("\"total\":330"), std::string::npos) << "the AOF kept the catalog";
}

TEST(ReelUpShutdown, SigtermStopsTheServerAndItsRedis) {
  const fs::path dir = fs::temp_directory_path() / ("reel-up-stop-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const uint16_t port = testing::free_port();
  auto child = process::Child::spawn({.argv = {reel_binary(), "up", "--data-dir", dir.string(), "--listen",
                                               "127.0.0.1:" + std::to_string(port)},
                                      .stdout_path = (dir.string() + ".log"),
                                      .stderr_path = (dir.string() + ".log")});
  ASSERT_TRUE(child) << child.error().message;
  ASSERT_TRUE(eventually([&] {
    auto r = http_get(port, "/readyz");
    return (r && r->status == 200) || !child->running();
  }, std::chrono::seconds(120)));
  ASSERT_TRUE(child->running()) << read_file(dir.string() + ".log");
  const pid_t redis = static_cast<pid_t>(std::stol(read_file(dir / "redis" / "redis.pid")));
  ASSERT_EQ(::kill(child->pid(), SIGTERM), 0);
  auto status = child->wait_for(std::chrono::seconds(30));
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_file(dir.string() + ".log");
  EXPECT_NE(::kill(redis, 0), 0) << "redis-server child still running";
  fs::remove_all(dir);
  fs::remove(dir.string() + ".log");
}

}  // namespace
}  // namespace reel
