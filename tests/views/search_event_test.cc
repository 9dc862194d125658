// The search event: its line, the query encoding for odd queries, how the parser tells a search
// from a view, and every reason a search line is refused.
#include <gtest/gtest.h>

#include "views/event.h"

namespace reel::views {
namespace {

constexpr int64_t t = 1795867200;  // 2026-11-28 12:00:00 UTC

Skip parse(std::string_view line, Event* out) {
  static LineParser parser(ParserOptions{{"reel.example"}, "secret"});
  return parser.parse(line, out);
}

// The query a written line reads back as, or the reason it does not.
std::string round_trip(std::string_view query, Skip* outcome = nullptr) {
  const SearchEvent event{t, "0a1b2c3d4e5f6789", query, 7, Agent::desktop};
  Event parsed;
  const Skip got = parse(format_syslog_line(event, "web-1", "reel"), &parsed);
  if (outcome) *outcome = got;
  return got == Skip::search ? std::string(parsed.search.query) : std::string();
}

TEST(SearchEventFormat, WritesOneRfc5424LineWithMsgidSearch) {
  const SearchEvent event{t, "0a1b2c3d4e5f6789", "funny cats", 42, Agent::mobile};
  EXPECT_EQ(
      format_syslog_line(event, "web-1", "reel"),
      "<134>1 2026-11-28T12:00:00Z web-1 reel - search - t=1795867200 k=0a1b2c3d4e5f6789 q=funny%20cats "
      "n=42 u=mobile");
  SearchEvent unknown = event;
  unknown.results = -1;
  EXPECT_EQ(format_syslog_line(unknown, "web-1", "reel").find(" n="), std::string::npos);
}

TEST(SearchEventFormat, OddQueriesSurviveTheLineAndKeepItsFieldsApart) {
  const std::vector<std::string> queries = {
      "a b  c",
      "k=v t=1 v=9",
      "100% = 50%+50%",
      "\"quoted\" 'single'",
      "back\\slash [sd] x=\"y\"",
      "%41 is not A",
      "café 東京 🎬",
      "tab\tin",
      "-trailer \"phrase\"",
      "*:{}?",
      std::string(1, '%'),
      "=",
      "q=",
  };
  for (const std::string& query : queries) {
    const std::string line =
        format_syslog_line(SearchEvent{t, "viewer", query, 1, Agent::desktop}, "h", "reel");
    // Plain ASCII, one space between fields, so no relay and no key=value split can act on it.
    for (char c : line) EXPECT_TRUE(c > 0x1f && c < 0x7f) << line;
    const std::string_view message = strip_syslog_header(line);
    EXPECT_EQ(std::count(message.begin(), message.end(), ' '), 4) << line;  // t k q n u
    Skip outcome;
    if (query.find('\t') != std::string::npos) {
      // A control character is no shown query: encoded safely, then refused by the parser.
      EXPECT_EQ(round_trip(query, &outcome), "");
      EXPECT_EQ(outcome, Skip::bad_query);
    } else {
      EXPECT_EQ(round_trip(query, &outcome), query) << line;
      EXPECT_EQ(outcome, Skip::search);
    }
  }
}

TEST(SearchEventFormat, LineBreaksInvalidUtf8AndLongQueriesNeverBreakTheLine) {
  Skip outcome;
  for (std::string query : {std::string("a\r\nb"), std::string("bad \xff\xfe utf8"), std::string("\xc3"),
                            std::string("nul\0byte", 8)}) {
    const std::string line = format_syslog_line(SearchEvent{t, "v", query, 1, Agent::desktop}, "h", "reel");
    EXPECT_EQ(line.find_first_of(std::string("\r\n\0", 3)), std::string::npos);
    EXPECT_EQ(round_trip(query, &outcome), "");
    EXPECT_EQ(outcome, Skip::bad_query);
  }
  // 10 KB: the writer keeps max_query_bytes, cut at a character boundary.
  EXPECT_EQ(round_trip(std::string(10240, 'x')), std::string(max_query_bytes, 'x'));
  std::string accents;
  while (accents.size() < 10240) accents += "é";
  EXPECT_EQ(round_trip(accents), accents.substr(0, max_query_bytes));  // é is 2 bytes: 100 is a boundary
  EXPECT_EQ(round_trip("a" + accents), "a" + accents.substr(0, max_query_bytes - 2));
}

TEST(SearchEventParse, TheMessageAloneAndEveryHeaderShapeParse) {
  const std::string message = "t=1795867200 k=abc q=funny%20cats n=3 u=desktop";
  for (const std::string& line : {message, "<134>1 2026-11-28T12:00:00Z web-1 reel - search - " + message,
                                  "<134>Nov 28 12:00:00 web-1 reel[42]: " + message}) {
    Event e;
    ASSERT_EQ(parse(line, &e), Skip::search) << line;
    EXPECT_EQ(e.kind, Event::Kind::search);
    EXPECT_EQ(e.search.time, t);
    EXPECT_EQ(e.search.viewer, "abc");
    EXPECT_EQ(e.search.query, "funny cats");
    EXPECT_EQ(e.search.results, 3);
    EXPECT_EQ(e.search.agent, Agent::desktop);
  }
  Event e;
  ASSERT_EQ(parse("q=%66%6F%6f k=abc t=1795867200 future=1", &e), Skip::search);  // either hex case
  EXPECT_EQ(e.search.query, "foo");
  EXPECT_EQ(e.search.results, -1);
  EXPECT_EQ(e.search.agent, Agent::other);
  ASSERT_EQ(parse("t=1795867200 k=abc q=x n=lots", &e), Skip::search);
  EXPECT_EQ(e.search.results, -1);
}

TEST(SearchEventParse, AViewStaysAViewAndTheViewParserSkipsSearches) {
  Event e;
  ASSERT_EQ(parse("t=1795867200 v=9 k=abc q=%zz", &e), Skip::counted);  // v decides; q is a field it ignores
  EXPECT_EQ(e.kind, Event::Kind::view);
  EXPECT_EQ(e.view.video_id, 9);
  LineParser views_only(ParserOptions{{}, "secret"});
  ViewEvent view;
  EXPECT_EQ(views_only.parse("t=1795867200 k=abc q=cats", &view), Skip::not_a_view);
  EXPECT_EQ(views_only.parse("t=1795867200 k=abc v=3", &view), Skip::counted);
}

TEST(SearchEventParse, EachBadSearchHasItsReason) {
  Event e;
  EXPECT_EQ(parse("t=1795867200 q=cats", &e), Skip::malformed);  // no viewer
  EXPECT_EQ(parse("k=abc q=cats", &e), Skip::malformed);         // no time
  EXPECT_EQ(parse("t=later k=abc q=cats", &e), Skip::bad_time);
  for (const char* query :
       {"", "%", "%4", "%zz", "a%g1", "%0A", "%7F", "%C2%85", "%E2%80%AE", "%FF", "%C3", "%ED%A0%80"}) {
    EXPECT_EQ(parse(std::string("t=1795867200 k=abc q=") + query, &e), Skip::bad_query) << query;
  }
  EXPECT_EQ(parse("t=1795867200 k=abc q=" + std::string(max_query_bytes + 1, 'x'), &e), Skip::bad_query);
  EXPECT_EQ(parse("t=1795867200 k=abc q=" + std::string(max_query_bytes, 'x'), &e), Skip::search);
  std::string encoded;
  for (size_t i = 0; i < max_query_bytes; ++i) encoded += "%41";
  EXPECT_EQ(parse("t=1795867200 k=abc q=" + encoded, &e), Skip::search);
  EXPECT_EQ(parse("t=1795867200 k=abc q=" + encoded + "A", &e), Skip::bad_query);
  EXPECT_EQ(to_string(Skip::bad_query), "bad_query");
  EXPECT_EQ(to_string(Skip::search), "search");
}

}  // namespace
}  // namespace reel::views
