// ViewRecorder::record_search: the search event line a search writes (viewer key as for views, the
// query as shown, the result count), read back by the aggregator's parser.
#include "app/view_recorder.h"

#include <gtest/gtest.h>

#include "event_log/line_queue.h"

namespace reel::app {
namespace {

class SearchRecorderTest : public ::testing::Test {
 protected:
  http::Request request(std::string forwarded_for = "203.0.113.7") {
    http::Request r;
    r.method = "GET";
    r.target = "/search?q=x";
    r.remote_address = "10.0.0.1";
    r.headers = {{"User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile"},
                 {"X-Forwarded-For", std::move(forwarded_for)}};
    return r;
  }
  // The lines written so far.
  std::vector<std::string> lines() {
    std::string all;
    queue_->take(all);
    std::vector<std::string> out;
    for (size_t start = 0; start < all.size();) {
      const size_t end = all.find('\n', start);
      out.push_back(all.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }

  std::shared_ptr<event_log::LineQueue> queue_ = std::make_shared<event_log::LineQueue>();
  std::unique_ptr<event_log::EventLog> log_ = event_log::EventLog::to_queue(queue_);
  ManualClock clock_{1795824000};
  ViewRecorder recorder_{*log_, clock_, ViewRecorderOptions{"secret", "web-1", 1}};
  views::LineParser parser_{views::ParserOptions{{}, "secret"}};
};

TEST_F(SearchRecorderTest, WritesOneSearchLineWithTheShownQueryAndTheViewersKey) {
  EXPECT_TRUE(recorder_.record_search(request(), "  Funny   CATS\r\n", 42));
  const auto written = lines();
  ASSERT_EQ(written.size(), 1u);
  const std::string key =
      views::viewer_key("secret", "203.0.113.7", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile");
  EXPECT_NE(written[0].find(" web-1 reel - search - t=1795824000 k=" + key + " q=funny%20cats n=42 u=mobile"),
            std::string::npos)
      << written[0];
  EXPECT_EQ(written[0].find("203.0.113.7"), std::string::npos);  // never the address

  views::Event event;
  ASSERT_EQ(parser_.parse(written[0], &event), views::Skip::search);
  EXPECT_EQ(event.search.query, "funny cats");
  EXPECT_EQ(event.search.viewer, key);
  EXPECT_EQ(event.search.results, 42);
}

TEST_F(SearchRecorderTest, OddQueriesAlwaysGiveALineTheParserAccepts) {
  std::string long_query;
  while (long_query.size() < 10240) long_query += "Ünïcode ";
  const std::vector<std::string> queries = {
      "a=b %20 \"q\" \\ [x]", "bad \xff\xfe bytes", "tab\tand\x7f del", "\xe2\x80\xae rtl override",
      "東京の夜景 🎬",         long_query,           "*:{}\r\n?"};
  for (const std::string& query : queries) EXPECT_TRUE(recorder_.record_search(request(), query, 1)) << query;
  const auto written = lines();
  ASSERT_EQ(written.size(), queries.size());
  for (const std::string& line : written) {
    views::Event event;
    ASSERT_EQ(parser_.parse(line, &event), views::Skip::search) << line;
    EXPECT_LE(event.search.query.size(), views::max_query_bytes);
    EXPECT_FALSE(event.search.query.starts_with(' ') || event.search.query.ends_with(' ')) << line;
  }
}

TEST_F(SearchRecorderTest, AQueryWithNothingToShowWritesNothing) {
  EXPECT_FALSE(recorder_.record_search(request(), "", 3));
  EXPECT_FALSE(recorder_.record_search(request(), " \t\r\n \xff ", 3));
  EXPECT_TRUE(lines().empty());
}

}  // namespace
}  // namespace reel::app
