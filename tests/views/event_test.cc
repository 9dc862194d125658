// The view event format: writing, parsing with and without syslog headers, access-log lines,
// classification, viewer keys, and every reason a line is skipped.
#include "views/event.h"

#include <gtest/gtest.h>

namespace reel::views {
namespace {

constexpr int64_t t = 1795867200;  // 2026-11-28 12:00:00 UTC

ViewEvent sample() {
  return ViewEvent{t, 123, "0a1b2c3d4e5f6789", Referrer::search, Agent::mobile};
}

Skip parse(std::string_view line, ViewEvent* out = nullptr) {
  static LineParser parser(ParserOptions{{"reel.example"}, "secret"});
  ViewEvent ignored;
  return parser.parse(line, out ? out : &ignored);
}

void expect_sample(std::string_view line) {
  ViewEvent e;
  ASSERT_EQ(parse(line, &e), Skip::counted) << line;
  EXPECT_EQ(e.time, t);
  EXPECT_EQ(e.video_id, 123);
  EXPECT_EQ(e.viewer, "0a1b2c3d4e5f6789");
  EXPECT_EQ(e.referrer, Referrer::search);
  EXPECT_EQ(e.agent, Agent::mobile);
}

TEST(ViewEventFormat, WritesOneRfc5424Line) {
  EXPECT_EQ(format_syslog_line(sample(), "web-1", "reel"),
            "<134>1 2026-11-28T12:00:00Z web-1 reel - view - t=1795867200 v=123 k=0a1b2c3d4e5f6789 r=search "
            "u=mobile");
}

TEST(ViewEventFormat, SanitizesHeaderFields) {
  const std::string line = format_syslog_line(sample(), "", "my app\n");
  EXPECT_TRUE(line.starts_with("<134>1 2026-11-28T12:00:00Z - my_app_ - view - ")) << line;
  expect_sample(line);
}

TEST(ViewEventParse, AcceptsEveryHeaderShape) {
  const std::string message = "t=1795867200 v=123 k=0a1b2c3d4e5f6789 r=search u=mobile";
  expect_sample(format_syslog_line(sample(), "web-1", "reel"));
  expect_sample(message);
  expect_sample("<134>1 2026-11-28T12:00:00.123456+00:00 web-1 reel 4242 view - " + message);
  expect_sample(
      "<134>1 2026-11-28T12:00:00Z web-1 reel - view [meta seq=\"1\" x=\"a \\\"]\\\" b\"][o k=\"v\"] " +
      message);
  expect_sample("<134>1 2026-11-28T12:00:00Z web-1 reel - view - \xEF\xBB\xBF" + message);
  expect_sample("<134>Nov 28 12:00:00 web-1 reel[42]: " + message);
  expect_sample("Nov 28 12:00:00 web-1 reel: " + message);
  expect_sample("Nov  8 12:00:00 web-1 reel: " + message);
  expect_sample("2026-11-28T12:00:00+00:00 web-1 reel[7]: " + message);
  expect_sample("<134>reel: " + message);
}

TEST(ViewEventParse, FieldsInAnyOrderWithDefaultsAndUnknownFields) {
  ViewEvent e;
  ASSERT_EQ(parse("k=abc x=1 v=9 t=1795867200 future=yes", &e), Skip::counted);
  EXPECT_EQ(e.video_id, 9);
  EXPECT_EQ(e.referrer, Referrer::direct);
  EXPECT_EQ(e.agent, Agent::other);
  ASSERT_EQ(parse("t=1795867200 v=9 k=abc r=carrier-pigeon u=fridge", &e), Skip::counted);
  EXPECT_EQ(e.referrer, Referrer::external);
  EXPECT_EQ(e.agent, Agent::other);
  ASSERT_EQ(parse("t=1795867200  v=9 k=abc u=bot", &e), Skip::counted);  // two spaces
  EXPECT_EQ(e.agent, Agent::bot);
}

TEST(ViewEventParse, EachBadInputHasItsReason) {
  EXPECT_EQ(parse(""), Skip::malformed);
  EXPECT_EQ(parse("hello world"), Skip::malformed);         // not an event, nor an access-log line
  EXPECT_EQ(parse("t=1795867200 v=123"), Skip::malformed);  // no viewer
  EXPECT_EQ(parse("v=123 k=abc"), Skip::malformed);         // no time
  EXPECT_EQ(parse("t=1795867200 k=abc"), Skip::malformed);  // no video
  EXPECT_EQ(parse("t=1795867200 v=1 k=abc garbage"), Skip::malformed);
  EXPECT_EQ(parse("t=soon v=123 k=abc"), Skip::bad_time);
  EXPECT_EQ(parse("t=99999999999999999999999 v=123 k=abc"), Skip::bad_time);
  // Found by fuzz/view_line: a time near the ends of int64 was counted, and writing the event back
  // (format_syslog_line) overflowed in its date arithmetic.
  EXPECT_EQ(parse("t=-9223372036854775808 v=123 k=abc"), Skip::bad_time);
  EXPECT_EQ(parse("t=9223372036854775807 v=123 k=abc"), Skip::bad_time);
  EXPECT_EQ(parse("t=-1 v=123 k=abc"), Skip::bad_time);
  EXPECT_EQ(parse("t=" + std::to_string(max_event_time + 1) + " v=123 k=abc"), Skip::bad_time);
  EXPECT_EQ(parse("t=" + std::to_string(max_event_time) + " v=123 k=abc"), Skip::counted);
  EXPECT_EQ(parse("t=0 v=123 k=abc"), Skip::counted);
  EXPECT_EQ(parse("t=1795867200 v=abc k=abc"), Skip::bad_video_id);
  EXPECT_EQ(parse("t=1795867200 v=0 k=abc"), Skip::bad_video_id);
  EXPECT_EQ(parse("t=1795867200 v=-5 k=abc"), Skip::bad_video_id);
  EXPECT_EQ(parse("t=1795867200 v=9007199254740992 k=abc"), Skip::bad_video_id);  // 2^53
  EXPECT_EQ(parse("t=1795867200 v=1 k=" + std::string(max_viewer_bytes + 1, 'a')), Skip::oversized);
  EXPECT_EQ(parse("t=1795867200 v=1 k=abc x=" + std::string(max_line_bytes, 'a')), Skip::oversized);
  EXPECT_EQ(parse("<134>1 2026-11-28T12:00:00Z web-1 reel"), Skip::malformed);  // header cut short
  EXPECT_EQ(parse("<134>1 2026-11-28T12:00:00Z web-1 reel - view [unterminated t=1"), Skip::malformed);
}

constexpr std::string_view chrome_mobile =
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile "
    "Safari/537.36";

std::string access(std::string_view request, int status, std::string_view referer, std::string_view ua,
                   std::string_view ip = "203.0.113.9") {
  return std::string(ip) + " - - [28/Nov/2026:13:00:00 +0100] \"" + std::string(request) + "\" " +
         std::to_string(status) + " 5120 \"" + std::string(referer) + "\" \"" + std::string(ua) + "\"";
}

TEST(AccessLogParse, WatchPagesAndBeaconsWithA2xxStatusAreViews) {
  ViewEvent e;
  ASSERT_EQ(
      parse(access("GET /watch/42-some-title HTTP/1.1", 200, "https://www.google.com/", chrome_mobile), &e),
      Skip::counted);
  EXPECT_EQ(e.time, t);  // 13:00 at +01:00
  EXPECT_EQ(e.video_id, 42);
  EXPECT_EQ(e.referrer, Referrer::search);
  EXPECT_EQ(e.agent, Agent::mobile);
  EXPECT_EQ(e.viewer, viewer_key("secret", "203.0.113.9", chrome_mobile));

  ASSERT_EQ(parse(access("POST /api/v1/videos/77/view HTTP/1.1", 204, "https://reel.example/watch/1",
                         "Mozilla/5.0 (X11; Linux x86_64)"),
                  &e),
            Skip::counted);
  EXPECT_EQ(e.video_id, 77);
  EXPECT_EQ(e.referrer, Referrer::internal);
  EXPECT_EQ(e.agent, Agent::desktop);

  EXPECT_EQ(parse(access("GET /watch/42 HTTP/1.1", 200, "-", chrome_mobile)), Skip::counted);
  EXPECT_EQ(parse(access("GET /watch/42/ HTTP/1.1", 200, "-", chrome_mobile)), Skip::counted);
  EXPECT_EQ(parse(access("GET /watch/42?t=10 HTTP/1.1", 206, "-", chrome_mobile)), Skip::counted);
  // Behind a syslog header (varnishncsa or nginx logging to syslog).
  EXPECT_EQ(parse("<190>Nov 28 12:00:00 cache-1 varnishncsa[99]: " +
                  access("GET /watch/42 HTTP/1.1", 200, "-", chrome_mobile)),
            Skip::counted);
}

TEST(AccessLogParse, OtherLinesAreSkippedWithTheirReason) {
  EXPECT_EQ(parse(access("GET /static/app.css HTTP/1.1", 200, "-", chrome_mobile)), Skip::not_a_view);
  EXPECT_EQ(parse(access("POST /watch/42 HTTP/1.1", 200, "-", chrome_mobile)), Skip::not_a_view);
  EXPECT_EQ(parse(access("GET /api/v1/videos/42 HTTP/1.1", 200, "-", chrome_mobile)), Skip::not_a_view);
  EXPECT_EQ(parse(access("GET /watchers HTTP/1.1", 200, "-", chrome_mobile)), Skip::not_a_view);
  EXPECT_EQ(parse(access("GET /watch/42x HTTP/1.1", 200, "-", chrome_mobile)), Skip::not_a_view);
  EXPECT_EQ(parse(access("GET /watch/42 HTTP/1.1", 404, "-", chrome_mobile)), Skip::failed_request);
  EXPECT_EQ(parse(access("GET /watch/42 HTTP/1.1", 304, "-", chrome_mobile)), Skip::failed_request);
  EXPECT_EQ(parse(access("GET /watch/0 HTTP/1.1", 200, "-", chrome_mobile)), Skip::bad_video_id);
  EXPECT_EQ(parse(access("GET /watch/99999999999999999 HTTP/1.1", 200, "-", chrome_mobile)),
            Skip::bad_video_id);
  EXPECT_EQ(parse(access("GET /watch/1 HTTP/1.1", 200, "-", std::string(max_field_bytes + 1, 'x'))),
            Skip::oversized);
  EXPECT_EQ(parse("203.0.113.9 - - [28/Nov/2026:25:00:00 +0100] \"GET /watch/1 HTTP/1.1\" 200 1 \"-\" \"x\""),
            Skip::bad_time);
  EXPECT_EQ(parse("203.0.113.9 - - [28/Nov/1969:13:00:00 +0100] \"GET /watch/1 HTTP/1.1\" 200 1 \"-\" \"x\""),
            Skip::bad_time);  // before 1970
  EXPECT_EQ(parse("203.0.113.9 - - [28/Nov/2026:13:00:00 +0100] \"GET /watch/1 HTTP/1.1\" 200 1 \"-\""),
            Skip::malformed);
  EXPECT_EQ(parse("203.0.113.9 - - [28/Nov/2026:13:00:00 +0100] \"GET /watch/1 HTTP/1.1"), Skip::malformed);
}

TEST(AccessLogParse, QuotedFieldsMayHoldEscapedQuotes) {
  ViewEvent e;
  ASSERT_EQ(
      parse(access("GET /watch/5 HTTP/1.1", 200, "-", "Mozilla/5.0 (Windows NT 10.0) \\\"quoted\\\""), &e),
      Skip::counted);
  EXPECT_EQ(e.agent, Agent::desktop);
}

TEST(Classify, UserAgents) {
  for (std::string_view bot :
       {"Googlebot/2.1 (+http://www.google.com/bot.html)", "Mozilla/5.0 (compatible; bingbot/2.0)",
        "curl/8.4.0", "Wget/1.21", "python-requests/2.31", "Mozilla/5.0 HeadlessChrome/120.0", "Baiduspider",
        "Yahoo! Slurp", "AhrefsBot", "facebookexternalhit/1.1", "", "-", "Go-http-client/1.1",
        "Scrapy/2.11"}) {
    EXPECT_EQ(classify_user_agent(bot), Agent::bot) << bot;
  }
  EXPECT_EQ(classify_user_agent(chrome_mobile), Agent::mobile);
  EXPECT_EQ(classify_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"),
            Agent::mobile);
  EXPECT_EQ(classify_user_agent("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)"), Agent::tablet);
  EXPECT_EQ(classify_user_agent("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 Safari/537.36"),
            Agent::tablet);
  EXPECT_EQ(classify_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0"), Agent::desktop);
  EXPECT_EQ(classify_user_agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Safari/605.1.15"),
            Agent::desktop);
  EXPECT_EQ(classify_user_agent("SmartTV/1.0"), Agent::other);
}

TEST(Classify, Referrers) {
  const std::vector<std::string> own{"reel.example", "www.reel.example"};
  EXPECT_EQ(classify_referrer("", own), Referrer::direct);
  EXPECT_EQ(classify_referrer("-", own), Referrer::direct);
  EXPECT_EQ(classify_referrer("https://REEL.example/watch/1", own), Referrer::internal);
  EXPECT_EQ(classify_referrer("https://www.reel.example:443/", own), Referrer::internal);
  EXPECT_EQ(classify_referrer("/videos?sort=views", own), Referrer::internal);
  EXPECT_EQ(classify_referrer("https://www.google.co.uk/search?q=x", own), Referrer::search);
  EXPECT_EQ(classify_referrer("https://duckduckgo.com/", own), Referrer::search);
  EXPECT_EQ(classify_referrer("https://t.co/abc", own), Referrer::social);
  EXPECT_EQ(classify_referrer("https://old.reddit.com/r/videos", own), Referrer::social);
  EXPECT_EQ(classify_referrer("https://x.com/someone", own), Referrer::social);
  EXPECT_EQ(classify_referrer("https://box.com/x", own), Referrer::external);  // not x.com
  EXPECT_EQ(classify_referrer("https://blog.example.org/post", own), Referrer::external);
  EXPECT_EQ(classify_referrer("https://reel.example.evil.org/", own), Referrer::external);
}

TEST(ViewerKey, IsAStableKeyedHashOfIpAndAgent) {
  const std::string a = viewer_key("secret", "203.0.113.9", "UA");
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a, ViewerKeyer("secret").key("203.0.113.9", "UA"));
  EXPECT_NE(a, viewer_key("other secret", "203.0.113.9", "UA"));
  EXPECT_NE(a, viewer_key("secret", "203.0.113.10", "UA"));
  EXPECT_NE(a, viewer_key("secret", "203.0.113.9", "UA2"));
  EXPECT_NE(viewer_key("secret", "1.2.3.4", "5"), viewer_key("secret", "1.2.3.", "45"));  // separator
}

TEST(TimeLocal, ParsesOffsetsAndRejectsNonsense) {
  int64_t v = 0;
  ASSERT_TRUE(parse_time_local("28/Nov/2026:12:00:00 +0000", &v));
  EXPECT_EQ(v, t);
  ASSERT_TRUE(parse_time_local("28/Nov/2026:07:30:00 -0430", &v));
  EXPECT_EQ(v, t);
  EXPECT_FALSE(parse_time_local("31/Feb/2026:12:00:00 +0000", &v));
  EXPECT_FALSE(parse_time_local("28/Foo/2026:12:00:00 +0000", &v));
  EXPECT_FALSE(parse_time_local("28/Nov/2026:12:00:00", &v));
  EXPECT_FALSE(parse_time_local("2026-11-28T12:00:00Z", &v));
}

TEST(Names, RoundTrip) {
  for (auto r :
       {Referrer::direct, Referrer::internal, Referrer::search, Referrer::social, Referrer::external}) {
    Referrer back{};
    ASSERT_TRUE(parse_referrer(to_string(r), &back));
    EXPECT_EQ(back, r);
  }
  for (auto a : {Agent::desktop, Agent::mobile, Agent::tablet, Agent::bot, Agent::other}) {
    Agent back{};
    ASSERT_TRUE(parse_agent(to_string(a), &back));
    EXPECT_EQ(back, a);
  }
  EXPECT_EQ(to_string(Skip::pending_full), "pending_full");
}

}  // namespace
}  // namespace reel::views
