// deploy/nginx/media-origin.conf.template, really run: Debian's nginx in front of `reel up`'s media
// root with the data dir's link secret. The links the app hands out must pass nginx's secure_link
// check, and nginx must refuse exactly what the app refuses in the embedded mode (403 for a
// missing or wrong signature, 410 once expired). Playlists go through nginx to the app, which
// signs the segment references inside; the signed segments then come from nginx.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/clock.h"
#include "config/config.h"
#include "media/secure_link.h"
#include "process/child.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/reel_up.h"

namespace reel {
namespace {

namespace fs = std::filesystem;
using reel::testing::read_file;
using testing::eventually;
using testing::http_get;

void write_file(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

class NginxOrigin : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const fs::path data = dir_->path() / "data";
    auto up = testing::ReelUp::start(data, dir_->path() / "up.log");
    ASSERT_TRUE(up) << up.error().message;
    up_ = up->release();
    app_port_ = up_->port();
    auto config = config::load((data / "reel.toml").string());
    ASSERT_TRUE(config) << config.error().message;
    secret_ = new std::string(config->media.link_secret);
    ASSERT_FALSE(secret_->empty()) << "reel up must sign media links";

    // An HLS set as the worker lays it out (contents need not be real media for nginx).
    const fs::path hls = data / "media" / "videos" / "999" / "hls";
    write_file(hls / "master.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000\n240/index.m3u8\n");
    write_file(hls / "240" / "index.m3u8",
               "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.0,\nseg-0.m4s\n#EXT-X-ENDLIST\n");
    write_file(hls / "240" / "init.mp4", "init-bytes");
    write_file(hls / "240" / "seg-0.m4s", "segment-zero");

    std::string site = read_file(fs::path(REEL_SOURCE_DIR) / "deploy/nginx/media-origin.conf.template");
    nginx_port_ = testing::free_port();
    replace_all(site, "${REEL_MEDIA_LISTEN}", "127.0.0.1:" + std::to_string(nginx_port_));
    replace_all(site, "${REEL_MEDIA_ROOT}", (data / "media").string());
    replace_all(site, "${REEL_LINK_SECRET}", *secret_);
    replace_all(site, "${REEL_APP}", "127.0.0.1:" + std::to_string(app_port_));
    replace_all(site, "${REEL_CACHE_DIR}", (dir_->path() / "nginx-cache").string());
    std::istringstream lines(site);
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with("#")) {
        ASSERT_EQ(line.find("${"), std::string::npos) << "not filled in: " << line;
      }
    }
    const fs::path nginx_dir = dir_->path() / "nginx";
    write_file(nginx_dir / "reel-media.conf", site);
    fs::create_directories(nginx_dir / "tmp");
    const std::string temp = (nginx_dir / "tmp").string();
    write_file(nginx_dir / "nginx.conf",
               "daemon off;\nmaster_process off;\nworker_processes 1;\npid " +
                   (nginx_dir / "nginx.pid").string() + ";\nerror_log " + (nginx_dir / "error.log").string() +
                   " info;\nevents { worker_connections 64; }\nhttp {\n  include /etc/nginx/mime.types;\n"
                   "  access_log off;\n  client_body_temp_path " +
                   temp + "/body;\n  proxy_temp_path " + temp + "/proxy;\n  fastcgi_temp_path " + temp +
                   "/fastcgi;\n  uwsgi_temp_path " + temp + "/uwsgi;\n  scgi_temp_path " + temp +
                   "/scgi;\n  include " + (nginx_dir / "reel-media.conf").string() + ";\n}\n");
    auto nginx = process::Child::spawn(
        {.argv = {"/usr/sbin/nginx", "-p", nginx_dir.string(), "-c", (nginx_dir / "nginx.conf").string()},
         .stdout_path = (nginx_dir / "out.log").string(),
         .stderr_path = (nginx_dir / "out.log").string()});
    ASSERT_TRUE(nginx) << nginx.error().message;
    nginx_ = new process::Child(std::move(*nginx));
    ASSERT_TRUE(eventually([] { return http_get(nginx_port_, "/").ok() || !nginx_->running(); }));
    ASSERT_TRUE(nginx_->running()) << read_file(nginx_dir / "out.log") << read_file(nginx_dir / "error.log");
  }

  static void TearDownTestSuite() {
    delete nginx_;
    delete up_;
    delete secret_;
    delete dir_;
  }

  // A link signed with the data dir's secret, expiring at `expires`.
  static std::string signed_link(const std::string& uri, int64_t expires) {
    return uri + "?" + media::sign(uri, expires, *secret_);
  }

  // The status nginx and the app give `target`; the test wants both to agree.
  static std::pair<int, int> statuses(const std::string& target) {
    auto via_nginx = http_get(nginx_port_, target);
    auto via_app = http_get(app_port_, target);
    return {via_nginx ? via_nginx->status : -1, via_app ? via_app->status : -1};
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline testing::ReelUp* up_ = nullptr;
  static inline process::Child* nginx_ = nullptr;
  static inline std::string* secret_ = nullptr;
  static inline uint16_t app_port_ = 0;
  static inline uint16_t nginx_port_ = 0;
};

TEST_F(NginxOrigin, ServesTheAppsSignedLinksAndRefusesTheOthersAlike) {
  auto api = http_get(app_port_, "/api/v1/videos/1");
  ASSERT_TRUE(api);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(api->body, m, std::regex(R"re("url":"((/media/demo/[a-z]+\.mp4)\?[^"]+)")re")));
  const std::string link = m[1];
  const std::string path = m[2];

  auto via_nginx = http_get(nginx_port_, link, "Range: bytes=0-7\r\n");
  ASSERT_TRUE(via_nginx);
  EXPECT_EQ(via_nginx->status, 206);
  EXPECT_EQ(via_nginx->body.substr(4, 4), "ftyp");
  EXPECT_EQ(via_nginx->header("access-control-allow-origin"), "*") << "pages on another host play it";
  auto via_app = http_get(app_port_, link, "Range: bytes=0-7\r\n");
  ASSERT_TRUE(via_app);
  EXPECT_EQ(via_nginx->body, via_app->body);

  const int64_t now = SystemClock().unix_seconds();
  std::string tampered = link;
  tampered.replace(tampered.find("md5=") + 4, 1, tampered[tampered.find("md5=") + 4] == 'A' ? "B" : "A");
  EXPECT_EQ(statuses(path), std::make_pair(403, 403));
  EXPECT_EQ(statuses(tampered), std::make_pair(403, 403));
  EXPECT_EQ(statuses(signed_link(path, now - 10)), std::make_pair(410, 410));
  EXPECT_EQ(statuses(signed_link(path, now + 600)), std::make_pair(200, 200));
  EXPECT_EQ(statuses(signed_link("/media/demo/none.mp4", now + 600)), std::make_pair(404, 404));
}

TEST_F(NginxOrigin, ImagesNeedNoSignature) {
  auto api = http_get(app_port_, "/api/v1/videos/1");
  ASSERT_TRUE(api);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(api->body, m, std::regex(R"re("poster":"(/media/[^"?]+\.jpg)")re")));
  EXPECT_EQ(statuses(m[1]), std::make_pair(200, 200));
}

TEST_F(NginxOrigin, PlaylistsComeSignedThroughTheAppAndSegmentsFromNginx) {
  const int64_t expires = SystemClock().unix_seconds() + 600;
  auto master = http_get(nginx_port_, signed_link("/media/videos/999/hls/master.m3u8", expires));
  ASSERT_TRUE(master);
  ASSERT_EQ(master->status, 200) << master->body;
  EXPECT_NE(master->body.find("240/index.m3u8?md5="), std::string::npos) << master->body;
  EXPECT_EQ(master->header("access-control-allow-origin"), "*") << "hls.js fetches it from the page's host";
  EXPECT_EQ(statuses("/media/videos/999/hls/master.m3u8"), std::make_pair(403, 403));

  auto variant = http_get(nginx_port_, signed_link("/media/videos/999/hls/240/index.m3u8", expires));
  ASSERT_TRUE(variant);
  ASSERT_EQ(variant->status, 200);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(variant->body, m, std::regex(R"(seg-0\.m4s\?\S+)"))) << variant->body;
  auto segment = http_get(nginx_port_, "/media/videos/999/hls/240/" + m[0].str());
  ASSERT_TRUE(segment);
  EXPECT_EQ(segment->status, 200);
  EXPECT_EQ(segment->body, "segment-zero");
  ASSERT_TRUE(std::regex_search(variant->body, m, std::regex(R"re(URI="(init\.mp4\?[^"]+)")re")))
      << variant->body;
  auto init = http_get(nginx_port_, "/media/videos/999/hls/240/" + m[1].str());
  ASSERT_TRUE(init);
  EXPECT_EQ(init->status, 200);
  EXPECT_EQ(statuses("/media/videos/999/hls/240/seg-0.m4s"), std::make_pair(403, 403));
}

}  // namespace
}  // namespace reel
