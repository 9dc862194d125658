#include "media/link_signer.h"

#include <gtest/gtest.h>

namespace reel::media {
namespace {

constexpr int64_t now = 1767225000;

TEST(LinkSigner, ProtectsVideoPlaylistsSegmentsAndVttButNotImages) {
  for (std::string_view path : {"/media/videos/7/720.mp4", "videos/7/hls/480/seg-3.m4s", "a/b.ts",
                                "/media/videos/7/hls/master.m3u8", "/media/videos/7/sprite.vtt"}) {
    EXPECT_TRUE(LinkSigner::protects(path)) << path;
  }
  for (std::string_view path :
       {"/media/videos/7/poster.jpg", "/media/videos/7/sprite.jpg", "/media/demo/x.png",
        "/media/videos/7.mp4/readme", "/media/videos/noext", ""}) {
    EXPECT_FALSE(LinkSigner::protects(path)) << path;
  }
}

TEST(LinkSigner, SignsProtectedUrlsWithARoundedExpiry) {
  LinkSigner signer({"s3cr3t", 6 * 3600, 3600, ""});
  const int64_t expires = signer.expiry(now);
  EXPECT_EQ(expires % 3600, 0);
  EXPECT_GE(expires, now + 6 * 3600);
  EXPECT_LT(expires, now + 7 * 3600);
  EXPECT_EQ(signer.url("/media/videos/7/poster.jpg", expires), "/media/videos/7/poster.jpg");
  const std::string url = signer.url("/media/videos/7/720.mp4", expires);
  EXPECT_EQ(url, "/media/videos/7/720.mp4?" + sign("/media/videos/7/720.mp4", expires, "s3cr3t"));
  const std::string query = url.substr(url.find('?') + 1);
  EXPECT_EQ(signer.check("/media/videos/7/720.mp4", query, now), LinkCheck::ok);
  EXPECT_EQ(signer.check("/media/videos/8/720.mp4", query, now), LinkCheck::bad);
  EXPECT_EQ(signer.check("/media/videos/7/720.mp4", query, expires + 1), LinkCheck::expired);
  EXPECT_EQ(signer.check("/media/videos/7/720.mp4", "", now), LinkCheck::bad);
  EXPECT_EQ(signer.check("/media/videos/7/%zz.mp4", query, now), LinkCheck::bad);
  EXPECT_EQ(LinkSigner::request_expiry(query), expires);
}

TEST(LinkSigner, PointsProtectedUrlsAtTheMediaOrigin) {
  LinkSigner signer({"s3cr3t", 6 * 3600, 3600, "https://media.example.org"});
  const int64_t expires = signer.expiry(now);
  EXPECT_EQ(signer.url("/media/videos/7/720.mp4", expires),
            "https://media.example.org/media/videos/7/720.mp4?" +
                sign("/media/videos/7/720.mp4", expires, "s3cr3t"))
      << "signed for the path alone, as nginx checks it";
  EXPECT_EQ(signer.url("/media/videos/7/720.mp4", expires), signer.url("/media/videos/7/720.mp4", expires))
      << "remembered URLs keep the origin";
  EXPECT_EQ(signer.url("/media/videos/7/poster.jpg", expires), "/media/videos/7/poster.jpg");
  LinkSigner unsigned_links({"", 6 * 3600, 3600, "http://127.0.0.1:8081"});
  EXPECT_EQ(unsigned_links.url("/media/videos/7/hls/master.m3u8", 0),
            "http://127.0.0.1:8081/media/videos/7/hls/master.m3u8");
}

TEST(LinkSigner, ChecksThePercentDecodedPathAsNginxDoes) {
  LinkSigner signer({"k", 3600, 60, ""});
  const int64_t expires = signer.expiry(now);
  const std::string url = signer.url("/media/demo/a%20b.mp4", expires);
  EXPECT_EQ(url.substr(0, url.find('?')), "/media/demo/a%20b.mp4");
  EXPECT_EQ(signer.check("/media/demo/a%20b.mp4", url.substr(url.find('?') + 1), now), LinkCheck::ok);
}

// Each thread remembers the URLs it signed; the memo must never hand one signer's URL to another,
// nor an old expiry's.
TEST(LinkSigner, RememberedUrlsBelongToTheirSignerAndExpiry) {
  LinkSigner first({"one", 3600, 60, ""});
  LinkSigner second({"two", 3600, 60, ""});
  const std::string path = "/media/videos/7/720.mp4";
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(first.url(path, 1000), path + "?" + sign(path, 1000, "one"));
    EXPECT_EQ(second.url(path, 1000), path + "?" + sign(path, 1000, "two"));
    EXPECT_EQ(first.url(path, 2000), path + "?" + sign(path, 2000, "one"));
  }
}

TEST(LinkSigner, OffWithoutASecret) {
  LinkSigner signer;
  EXPECT_FALSE(signer.enabled());
  EXPECT_EQ(signer.url("/media/videos/7/720.mp4", 123), "/media/videos/7/720.mp4");
  EXPECT_EQ(signer.check("/media/videos/7/720.mp4", "", now), LinkCheck::ok);
}

}  // namespace
}  // namespace reel::media
