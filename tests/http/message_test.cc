// The Beast-free parts of http/: messages, dates, metrics.
#include "http/message.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "http/date.h"
#include "http/metrics.h"

namespace reel::http {
namespace {

using namespace std::chrono_literals;

TEST(Request, SplitsTheTargetAndFindsHeadersIgnoringCase) {
  Request request;
  request.target = "/videos?sort=views&page=2";
  request.headers = {{"Host", "example"}, {"X-Twice", "first"}, {"x-twice", "second"}};
  EXPECT_EQ(request.path(), "/videos");
  EXPECT_EQ(request.query(), "sort=views&page=2");
  EXPECT_EQ(request.header("HOST"), "example");
  EXPECT_EQ(request.header("x-TWICE"), "first");
  EXPECT_EQ(request.header("Missing"), std::nullopt);
  request.target = "/plain";
  EXPECT_EQ(request.path(), "/plain");
  EXPECT_EQ(request.query(), "");
}

TEST(Response, SetReplacesAHeaderAndFactoriesSetTheType) {
  Response response = Response::json(201, "{}");
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.header("content-type"), "application/json");
  response.set("Content-Type", "text/plain").set("X-New", "1");
  EXPECT_EQ(response.headers.size(), 2u);
  EXPECT_EQ(response.header("Content-Type"), "text/plain");
  EXPECT_EQ(Response::html(200, "").header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(response.route, "other");
}

TEST(Reason, NamesKnownCodes) {
  EXPECT_EQ(reason(404), "Not Found");
  EXPECT_EQ(reason(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason(799), "Unknown");
}

TEST(FileRange, MovesOwnershipOfTheDescriptor) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ::close(pipe_fds[1]);
  FileRange original(pipe_fds[0], 3, 4);
  FileRange moved(std::move(original));
  EXPECT_EQ(original.fd, -1);
  EXPECT_EQ(moved.fd, pipe_fds[0]);
  EXPECT_EQ(moved.offset, 3u);
  EXPECT_EQ(moved.length, 4u);
}

TEST(HttpDate, FormatsAndParsesEveryForm) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"), 1835481599);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37"), std::nullopt);
  EXPECT_EQ(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("yesterday"), std::nullopt);
  EXPECT_EQ(parse_http_date(""), std::nullopt);
}

TEST(Metrics, RendersCountersAndCumulativeHistogramsByRoute) {
  Metrics metrics;
  metrics.record("watch", 200, 300us);
  metrics.record("watch", 200, 3ms);
  metrics.record("watch", 404, 20s);
  metrics.record("say \"hi\"", 500, 1ms);
  metrics.add_source([](std::string& out) { out += "custom_metric 7\n"; });
  const std::string text = metrics.render();
  EXPECT_NE(text.find("# TYPE reel_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("reel_http_requests_total{route=\"watch\",status=\"200\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("reel_http_requests_total{route=\"watch\",status=\"404\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("reel_http_requests_total{route=\"say \\\"hi\\\"\",status=\"500\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE reel_http_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("reel_http_request_duration_seconds_bucket{route=\"watch\",le=\"0.0005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("reel_http_request_duration_seconds_bucket{route=\"watch\",le=\"0.005\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("reel_http_request_duration_seconds_bucket{route=\"watch\",le=\"5\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("reel_http_request_duration_seconds_bucket{route=\"watch\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("reel_http_request_duration_seconds_sum{route=\"watch\"} 20.0033\n"),
            std::string::npos);
  EXPECT_NE(text.find("reel_http_request_duration_seconds_count{route=\"watch\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("custom_metric 7\n"), std::string::npos);
}

TEST(Metrics, CountsEveryRecordFromManyThreads) {
  Metrics metrics;
  constexpr int threads = 4;
  constexpr int per_thread = 20000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&metrics, t] {
      for (int i = 0; i < per_thread; ++i) metrics.record(i % 2 ? "a" : "b", 200 + t, 1ms);
    });
  }
  for (auto& worker : workers) worker.join();
  const std::string text = metrics.render();
  for (int t = 0; t < threads; ++t) {
    EXPECT_NE(
        text.find("reel_http_requests_total{route=\"a\",status=\"" + std::to_string(200 + t) + "\"} 10000\n"),
        std::string::npos)
        << text;
  }
  EXPECT_NE(text.find("reel_http_request_duration_seconds_count{route=\"b\"} 40000\n"), std::string::npos);
}

}  // namespace
}  // namespace reel::http
