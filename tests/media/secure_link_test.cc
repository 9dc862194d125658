#include "media/secure_link.h"

#include <gtest/gtest.h>

#include <string>

namespace reel::media {
namespace {

constexpr int64_t expires = 1767225600;  // 2026-01-01T00:00:00Z
constexpr std::string_view secret = "s3cr3t";

TEST(SecureLink, MatchesNginxDocumentationExample) {
  // nginx's secure_link_md5 example: "$secure_link_expires$uri$remote_addr secret" for /s/link
  // from 127.0.0.1, expires 2147483647, documented as md5=_e4Nc3iduzkWRm01TBBNYw:
  // echo -n '2147483647/s/link127.0.0.1 secret' | openssl md5 -binary | openssl base64 | tr +/ -_ | tr -d =
  EXPECT_EQ(secure_link_md5("/s/link", 2147483647, "secret", "127.0.0.1"), "_e4Nc3iduzkWRm01TBBNYw");
}

TEST(SecureLink, SignsWithoutClientAddress) {
  // echo -n '1767225600/media/videos/42/hls/240/index.m3u8 s3cr3t' | openssl md5 -binary | openssl base64 |
  //   tr +/ -_ | tr -d =
  EXPECT_EQ(sign("/media/videos/42/hls/240/index.m3u8", expires, secret),
            "md5=M8xWPiEzum1yjYiipHgeqA&expires=1767225600");
}

TEST(SecureLink, VerifiesItsOwnLinks) {
  const std::string uri = "/media/videos/42/mp4/480.mp4";
  const std::string md5 = secure_link_md5(uri, expires, secret);
  const std::string when = std::to_string(expires);
  EXPECT_EQ(md5.size(), 22u);
  EXPECT_EQ(verify(uri, md5, when, secret, expires - 100), LinkCheck::ok);
  EXPECT_EQ(verify(uri, md5, when, secret, expires), LinkCheck::ok);  // nginx: expired when expires < now
  EXPECT_EQ(verify(uri, md5, when, secret, expires + 1), LinkCheck::expired);
  EXPECT_EQ(verify(uri, md5 + "==", when, secret, expires), LinkCheck::ok);  // padding tolerated
}

TEST(SecureLink, RejectsTamperedOrMalformedLinks) {
  const std::string uri = "/media/videos/42/mp4/480.mp4";
  const std::string md5 = secure_link_md5(uri, expires, secret);
  const std::string when = std::to_string(expires);
  const int64_t now = expires - 10;
  EXPECT_EQ(verify("/media/videos/43/mp4/480.mp4", md5, when, secret, now), LinkCheck::bad);
  EXPECT_EQ(verify(uri, md5, std::to_string(expires + 3600), secret, now), LinkCheck::bad);
  EXPECT_EQ(verify(uri, md5, when, "other", now), LinkCheck::bad);
  EXPECT_EQ(verify(uri, md5, when, secret, now, "10.0.0.1"), LinkCheck::bad);
  std::string flipped = md5;
  flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(uri, flipped, when, secret, now), LinkCheck::bad);
  EXPECT_EQ(verify(uri, "", when, secret, now), LinkCheck::bad);
  EXPECT_EQ(verify(uri, md5.substr(0, 21), when, secret, now), LinkCheck::bad);
  EXPECT_EQ(verify(uri, md5 + "AAAA", when, secret, now), LinkCheck::bad);
  EXPECT_EQ(verify(uri, "!!!!!!!!!!!!!!!!!!!!!!", when, secret, now), LinkCheck::bad);
  for (std::string_view bad_expiry :
       {"", "0", "-5", "+1767225600", "1767225600x", "99999999999999999999999"}) {
    EXPECT_EQ(verify(uri, md5, bad_expiry, secret, now), LinkCheck::bad) << bad_expiry;
  }
  // An expired link with a wrong md5 is bad, not expired.
  EXPECT_EQ(verify(uri, flipped, when, secret, expires + 100), LinkCheck::bad);
}

TEST(SecureLink, IgnoresUnusedBitsOfTheLastCharacterAsNginxDoes) {
  // 16 bytes are 22 base64 characters, the last carrying 2 bits: nginx answers 410 (hash matched,
  // expired) for ...HgeqA and ...HgeqB alike, and 403 for ...HgeqQ (checked against nginx-light).
  const std::string uri = "/media/videos/42/hls/240/index.m3u8";
  const std::string when = std::to_string(expires);
  EXPECT_EQ(verify(uri, "M8xWPiEzum1yjYiipHgeqA", when, secret, expires), LinkCheck::ok);
  EXPECT_EQ(verify(uri, "M8xWPiEzum1yjYiipHgeqB", when, secret, expires), LinkCheck::ok);
  EXPECT_EQ(verify(uri, "M8xWPiEzum1yjYiipHgeqQ", when, secret, expires), LinkCheck::bad);
}

TEST(SecureLink, BindsToClientAddressWhenGiven) {
  const std::string uri = "/media/videos/42/poster.jpg";
  const std::string md5 = secure_link_md5(uri, expires, secret, "192.0.2.7");
  EXPECT_EQ(verify(uri, md5, std::to_string(expires), secret, expires, "192.0.2.7"), LinkCheck::ok);
  EXPECT_EQ(verify(uri, md5, std::to_string(expires), secret, expires, "192.0.2.8"), LinkCheck::bad);
  EXPECT_EQ(verify(uri, md5, std::to_string(expires), secret, expires), LinkCheck::bad);
}

TEST(SecureLink, ExpiryIsRoundedUpToTheStep) {
  EXPECT_EQ(link_expiry(1000, 3600, 600), 4800);
  EXPECT_EQ(link_expiry(1200, 3600, 600), 4800);
  EXPECT_EQ(link_expiry(1201, 3600, 600), 5400);
  EXPECT_EQ(link_expiry(1201, 3600, 0), 4801);
}

TEST(SecureLink, SignsMasterPlaylistVariants) {
  const std::string master =
      "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=426x240\n240/index.m3u8\n";
  const std::string out = sign_playlist(master, "/media/videos/42/hls/master.m3u8", expires, secret);
  EXPECT_EQ(out,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=426x240\n"
            "240/index.m3u8?md5=M8xWPiEzum1yjYiipHgeqA&expires=1767225600\n");
}

TEST(SecureLink, SignsSegmentsAndInitSegment) {
  const std::string variant =
      "#EXTM3U\r\n#EXT-X-MAP:URI=\"init.mp4\"\r\n#EXTINF:4.000000,\r\n0.m4s\r\n#EXT-X-ENDLIST\r\n";
  const std::string out = sign_playlist(variant, "/media/videos/42/hls/240/index.m3u8", expires, secret);
  // echo -n '1767225600/media/videos/42/hls/240/init.mp4 s3cr3t' | openssl md5 -binary | openssl base64 |
  //   tr +/ -_ | tr -d =   → jf6ViUdkhkw4b0fNKtVwmA
  // echo -n '1767225600/media/videos/42/hls/240/0.m4s s3cr3t' | ...  → e67sWBmXttH9zNPHD8XU9Q
  EXPECT_EQ(out,
            "#EXTM3U\r\n#EXT-X-MAP:URI=\"init.mp4?md5=jf6ViUdkhkw4b0fNKtVwmA&expires=1767225600\"\r\n"
            "#EXTINF:4.000000,\r\n0.m4s?md5=e67sWBmXttH9zNPHD8XU9Q&expires=1767225600\r\n#EXT-X-ENDLIST\r\n");
}

TEST(SecureLink, ResolvesDotSegmentsAbsolutePathsAndEscapes) {
  const std::string base = "/media/videos/42/hls/240/index.m3u8";
  const std::string sig = sign("/media/videos/42/hls/240/0.m4s", expires, secret);
  EXPECT_EQ(sign_playlist("../240/./0.m4s", base, expires, secret), "../240/./0.m4s?" + sig);
  EXPECT_EQ(sign_playlist("/media/videos/42/hls/240/0.m4s", base, expires, secret),
            "/media/videos/42/hls/240/0.m4s?" + sig);
  EXPECT_EQ(sign_playlist("%30.m4s", base, expires, secret), "%30.m4s?" + sig);  // %30 is '0'
  EXPECT_EQ(sign_playlist("0.m4s?v=2", base, expires, secret), "0.m4s?v=2&" + sig);
  // Not ours, or not decodable: left alone.
  EXPECT_EQ(sign_playlist("https://cdn.example/0.m4s", base, expires, secret), "https://cdn.example/0.m4s");
  EXPECT_EQ(sign_playlist("//cdn.example/0.m4s", base, expires, secret), "//cdn.example/0.m4s");
  EXPECT_EQ(sign_playlist("bad%zz.m4s", base, expires, secret), "bad%zz.m4s");
}

TEST(SecureLink, SignsSpriteVttCuesBeforeTheirFragment) {
  const std::string vtt =
      "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nsprite.jpg#xywh=0,0,160,90\n\n"
      "00:00:05.000 --> 00:00:08.000\nsprite.jpg#xywh=160,0,160,90\n";
  // echo -n '1767225600/media/videos/42/sprite.jpg s3cr3t' | openssl md5 -binary | openssl base64 |
  //   tr +/ -_ | tr -d =   → YM3DgI9yf---BG29i_4vRQ
  const std::string sig = "?md5=YM3DgI9yf---BG29i_4vRQ&expires=1767225600";
  EXPECT_EQ(sign_vtt(vtt, "/media/videos/42/sprite.vtt", expires, secret),
            "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nsprite.jpg" + sig +
                "#xywh=0,0,160,90\n\n"
                "00:00:05.000 --> 00:00:08.000\nsprite.jpg" +
                sig + "#xywh=160,0,160,90\n");
  // Text cues (with spaces) are not references.
  const std::string text_cue = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello there\n";
  EXPECT_EQ(sign_vtt(text_cue, "/media/x.vtt", expires, secret), text_cue);
}

}  // namespace
}  // namespace reel::media
