#include "media/file_server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "http/date.h"
#include "http/test_server.h"

namespace reel::media {
namespace {

namespace fs = std::filesystem;
using http::Request;
using http::Response;

// A root directory with files of every kind, plus a secret beside it (outside the root).
class FileServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "reel-media-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    base_ = pattern;
    root_ = base_ / "root";
    fs::create_directories(root_ / "videos" / "demo");
    fs::create_directories(root_ / "dir");
    write(base_ / "secret.txt", "outside the root");
    write(root_ / "index.html", "<html></html>");
    write(root_ / "videos" / "demo" / "clip-1.mp4", "0123456789abcdefghij");  // 20 bytes
    write(root_ / "a b.txt", "spaced");
    fs::create_symlink("videos/demo/clip-1.mp4", root_ / "inside-link.mp4");
    fs::create_symlink(base_ / "secret.txt", root_ / "outside-link.txt");
    fs::create_symlink("../secret.txt", root_ / "relative-outside-link.txt");
    fs::create_directory_symlink(base_, root_ / "outside-dir");

    auto server = FileServer::open({.root = root_.string(), .cache_control = "public, max-age=60"});
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_.emplace(std::move(server.value()));
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& path, std::string_view content) {
    std::ofstream(path, std::ios::binary) << content;
  }

  Response serve(std::string_view path, std::vector<http::Header> headers = {}, std::string method = "GET") {
    Request request;
    request.method = std::move(method);
    request.target = "/static/" + std::string(path);
    request.headers = std::move(headers);
    return server_->serve(request, path);
  }

  fs::path base_;
  fs::path root_;
  std::optional<FileServer> server_;
};

TEST_F(FileServerTest, ServesASmallFileInlineWithItsValidators) {
  Response response = serve("videos/demo/clip-1.mp4");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "0123456789abcdefghij");
  EXPECT_EQ(response.file, nullptr);
  EXPECT_EQ(response.header("Content-Type"), "video/mp4");
  EXPECT_EQ(response.header("Accept-Ranges"), "bytes");
  EXPECT_EQ(response.header("Cache-Control"), "public, max-age=60");
  struct stat info {};
  ASSERT_EQ(::stat((root_ / "videos/demo/clip-1.mp4").c_str(), &info), 0);
  EXPECT_EQ(response.header("Last-Modified"), http::format_http_date(info.st_mtim.tv_sec));
  const std::string etag(response.header("ETag").value_or(""));
  EXPECT_EQ(etag.front(), '"');  // strong
  EXPECT_EQ(etag.back(), '"');
  EXPECT_EQ(response.route, "static");
}

TEST_F(FileServerTest, NamesTheContentTypeByExtension) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"page.html", "text/html; charset=utf-8"},
      {"site.css", "text/css; charset=utf-8"},
      {"app.js", "text/javascript; charset=utf-8"},
      {"data.json", "application/json"},
      {"logo.svg", "image/svg+xml"},
      {"thumb.png", "image/png"},
      {"thumb.jpg", "image/jpeg"},
      {"thumb.JPEG", "image/jpeg"},
      {"thumb.webp", "image/webp"},
      {"anim.gif", "image/gif"},
      {"favicon.ico", "image/x-icon"},
      {"clip.mp4", "video/mp4"},
      {"clip.webm", "video/webm"},
      {"index.m3u8", "application/vnd.apple.mpegurl"},
      {"segment0.ts", "video/mp2t"},
      {"chunk.m4s", "video/iso.segment"},
      {"subs.vtt", "text/vtt"},
      {"font.woff2", "font/woff2"},
      {"readme.txt", "text/plain; charset=utf-8"},
      {"archive.bin", "application/octet-stream"},
      {"no-extension", "application/octet-stream"},
  };
  for (const auto& [name, type] : expected) {
    write(root_ / name, "x");
    Response response = serve(name);
    EXPECT_EQ(response.status, 200) << name;
    EXPECT_EQ(response.header("Content-Type"), type) << name;
  }
}

TEST_F(FileServerTest, AnswersConditionalRequestsWith304) {
  Response first = serve("index.html");
  const std::string etag(first.header("ETag").value_or(""));
  const std::string last_modified(first.header("Last-Modified").value_or(""));
  ASSERT_FALSE(etag.empty());

  Response by_etag = serve("index.html", {{"If-None-Match", "\"other\", " + etag}});
  EXPECT_EQ(by_etag.status, 304);
  EXPECT_TRUE(by_etag.body.empty());
  EXPECT_EQ(by_etag.header("ETag"), etag);
  EXPECT_EQ(serve("index.html", {{"If-None-Match", "W/" + etag}}).status, 304);
  EXPECT_EQ(serve("index.html", {{"If-None-Match", "*"}}).status, 304);
  EXPECT_EQ(serve("index.html", {{"If-None-Match", "\"stale\""}}).status, 200);

  EXPECT_EQ(serve("index.html", {{"If-Modified-Since", last_modified}}).status, 304);
  const auto modified = http::parse_http_date(last_modified);
  ASSERT_TRUE(modified);
  EXPECT_EQ(serve("index.html", {{"If-Modified-Since", http::format_http_date(*modified + 3600)}}).status,
            304);
  EXPECT_EQ(serve("index.html", {{"If-Modified-Since", http::format_http_date(*modified - 1)}}).status, 200);
  EXPECT_EQ(serve("index.html", {{"If-Modified-Since", "not a date"}}).status, 200);
  // If-None-Match decides when both are present.
  EXPECT_EQ(
      serve("index.html", {{"If-None-Match", "\"stale\""}, {"If-Modified-Since", last_modified}}).status,
      200);
}

TEST_F(FileServerTest, ServesEachSingleRangeForm) {
  Response closed = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=2-5"}});
  EXPECT_EQ(closed.status, 206);
  EXPECT_EQ(closed.body, "2345");
  EXPECT_EQ(closed.header("Content-Range"), "bytes 2-5/20");

  Response open_ended = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=15-"}});
  EXPECT_EQ(open_ended.status, 206);
  EXPECT_EQ(open_ended.body, "fghij");
  EXPECT_EQ(open_ended.header("Content-Range"), "bytes 15-19/20");

  Response suffix = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=-3"}});
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, "hij");
  EXPECT_EQ(suffix.header("Content-Range"), "bytes 17-19/20");

  Response past_end = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=18-100"}});
  EXPECT_EQ(past_end.status, 206);
  EXPECT_EQ(past_end.body, "ij");
  EXPECT_EQ(past_end.header("Content-Range"), "bytes 18-19/20");

  Response longer_suffix = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=-50"}});
  EXPECT_EQ(longer_suffix.status, 206);
  EXPECT_EQ(longer_suffix.body.size(), 20u);
}

// RFC 9110 bounds neither the digits nor the leading zeros of a range; a value past 64 bits is past
// the end of the file, as any large value is.
TEST_F(FileServerTest, ReadsRangesWithManyDigits) {
  const std::string zeros(60, '0');
  Response padded = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=" + zeros + "2-" + zeros + "5"}});
  EXPECT_EQ(padded.status, 206);
  EXPECT_EQ(padded.header("Content-Range"), "bytes 2-5/20");

  Response huge_last = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=18-99999999999999999999999999"}});
  EXPECT_EQ(huge_last.status, 206);
  EXPECT_EQ(huge_last.header("Content-Range"), "bytes 18-19/20");

  Response huge_suffix = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=-99999999999999999999999999"}});
  EXPECT_EQ(huge_suffix.status, 206);
  EXPECT_EQ(huge_suffix.header("Content-Range"), "bytes 0-19/20");

  Response huge_first = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=99999999999999999999999999-"}});
  EXPECT_EQ(huge_first.status, 416);
}

TEST_F(FileServerTest, AnswersUnsatisfiableAndMalformedRangesWith416) {
  for (const char* range : {"bytes=20-", "bytes=25-30", "bytes=-0", "bytes=5-2", "bytes=abc", "bytes=1-x",
                            "bytes=", "items=0-1", "bytes 0-1", "bytes=--1"}) {
    Response response = serve("videos/demo/clip-1.mp4", {{"Range", range}});
    EXPECT_EQ(response.status, 416) << range;
    EXPECT_EQ(response.header("Content-Range"), "bytes */20") << range;
    EXPECT_TRUE(response.body.empty()) << range;
  }
}

TEST_F(FileServerTest, AnswersAMultiRangeWithTheWholeFile) {
  Response response = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=0-1,5-6"}});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "0123456789abcdefghij");
  EXPECT_EQ(response.header("Content-Range"), std::nullopt);
}

TEST_F(FileServerTest, HonoursIfRange) {
  const std::string etag(serve("videos/demo/clip-1.mp4").header("ETag").value_or(""));
  Response current = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=0-1"}, {"If-Range", etag}});
  EXPECT_EQ(current.status, 206);
  EXPECT_EQ(current.body, "01");
  Response stale = serve("videos/demo/clip-1.mp4", {{"Range", "bytes=0-1"}, {"If-Range", "\"old\""}});
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body.size(), 20u);
}

TEST_F(FileServerTest, HeadCarriesTheLengthWithoutReadingTheFile) {
  Response response = serve("videos/demo/clip-1.mp4", {}, "HEAD");
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.body.empty());
  ASSERT_NE(response.file, nullptr);
  EXPECT_EQ(response.file->offset, 0u);
  EXPECT_EQ(response.file->length, 20u);
  EXPECT_EQ(response.header("Content-Type"), "video/mp4");
}

TEST_F(FileServerTest, RefusesOtherMethodsWith405) {
  Response response = serve("index.html", {}, "POST");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.header("Allow"), "GET, HEAD");
}

TEST_F(FileServerTest, DecodesPercentEscapes) {
  Response response = serve("a%20b.txt");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "spaced");
  EXPECT_EQ(serve("videos%2Fdemo%2Fclip-1.mp4").status, 200);
  EXPECT_EQ(serve("./videos//demo/clip-1.mp4").status, 200);
}

TEST_F(FileServerTest, RefusesEverythingOutsideTheRoot) {
  for (const char* path :
       {"../secret.txt", "videos/../../secret.txt", "%2e%2e/secret.txt", "%2E%2E/secret.txt",
        "..%2fsecret.txt", "..%2Fsecret.txt", "videos/%2e%2e/%2e%2e/secret.txt", "index.html%00.png", "%00",
        "/etc/passwd", "%2fetc%2fpasswd", "//etc/passwd", "outside-link.txt", "relative-outside-link.txt",
        "outside-dir/secret.txt", "%zz", "index.html%", "/proc/self/root/etc/passwd", ".."}) {
    Response response = serve(path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.body.find("outside the root"), std::string::npos) << path;
  }
}

TEST_F(FileServerTest, FollowsSymlinksThatStayInside) {
  Response response = serve("inside-link.mp4");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "0123456789abcdefghij");
}

TEST_F(FileServerTest, AnswersDirectoriesAndMissingFilesWith404) {
  EXPECT_EQ(serve("dir").status, 404);
  EXPECT_EQ(serve("dir/").status, 404);
  EXPECT_EQ(serve("videos").status, 404);
  EXPECT_EQ(serve("").status, 404);
  EXPECT_EQ(serve("missing.mp4").status, 404);
}

TEST_F(FileServerTest, HandsLargeFilesToSendfile) {
  write(root_ / "large.bin", std::string(100 * 1024, 'L'));
  Response whole = serve("large.bin");
  EXPECT_EQ(whole.status, 200);
  EXPECT_TRUE(whole.body.empty());
  ASSERT_NE(whole.file, nullptr);
  EXPECT_GE(whole.file->fd, 0);
  EXPECT_EQ(whole.file->length, 100u * 1024);
  // A range under the inline limit is read into the body.
  Response small_range = serve("large.bin", {{"Range", "bytes=0-9"}});
  EXPECT_EQ(small_range.status, 206);
  EXPECT_EQ(small_range.body, "LLLLLLLLLL");
  EXPECT_EQ(small_range.file, nullptr);
}

TEST_F(FileServerTest, ReadsSmallFilesByTheSameRules) {
  EXPECT_EQ(server_->read("videos/demo/clip-1.mp4", 100), "0123456789abcdefghij");
  EXPECT_EQ(server_->read("a%20b.txt", 100), "spaced");
  EXPECT_FALSE(server_->read("videos/demo/clip-1.mp4", 19));  // larger than allowed
  EXPECT_FALSE(server_->read("../secret.txt", 100));
  EXPECT_FALSE(server_->read("outside-link.txt", 100));
  EXPECT_FALSE(server_->read("dir", 100));
  EXPECT_FALSE(server_->read("missing.m3u8", 100));
}

TEST(FileServerOpen, ReportsAMissingRoot) {
  auto server = FileServer::open({.root = "/nonexistent/reel-media-root"});
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().message.find("/nonexistent/reel-media-root"), std::string::npos);
}

// Through the real server: a Range of a 2 MB file goes out by sendfile and arrives byte-exact.
TEST_F(FileServerTest, ServesARangeOfA2MbFileThroughTheServer) {
  std::mt19937_64 generator(7);
  std::string content(2 * 1024 * 1024, '\0');
  for (char& byte : content) byte = static_cast<char>(generator());
  write(root_ / "videos" / "big.mp4", content);

  http::testing::ServerThread server(
      http::testing::test_options(), [this](asio::io_context&, int) -> http::Handler {
        return [this](const Request& request) -> Task<Response> {
          co_return server_->serve(request, request.path().substr(std::string_view("/static/").size()));
        };
      });
  http::testing::RawConnection client(server.port());
  ASSERT_TRUE(
      client.send("GET /static/videos/big.mp4 HTTP/1.1\r\nHost: t\r\nRange: bytes=1000-1500999\r\n\r\n"));
  auto ranged = client.read_response();
  ASSERT_TRUE(ranged);
  EXPECT_EQ(ranged->status, 206);
  EXPECT_EQ(ranged->header("Content-Range"), "bytes 1000-1500999/" + std::to_string(content.size()));
  EXPECT_EQ(ranged->header("Content-Length"), "1500000");
  EXPECT_TRUE(ranged->body == content.substr(1000, 1'500'000));

  auto whole = client.get("/static/videos/big.mp4");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200);
  EXPECT_TRUE(whole->body == content);
  EXPECT_EQ(whole->header("Content-Type"), "video/mp4");
}

}  // namespace
}  // namespace reel::media
