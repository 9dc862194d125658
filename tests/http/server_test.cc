// The real Server on 127.0.0.1:0 with a tiny handler, driven over raw sockets.
#include "http/server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>

#include "common/asio.h"
#include "http/test_server.h"
#include "support/fixtures.h"

namespace reel::http {
namespace {

using namespace std::chrono_literals;
using testing::RawConnection;
using testing::RawResponse;
using testing::ServerThread;
using testing::test_options;

// What the test handler shares with the test: a slow request it can hold and release, and a file
// to answer /file with.
struct Fixture {
  std::atomic<int> loops_started{0};
  asio::io_context* loop = nullptr;
  std::promise<void> slow_entered;
  asio::steady_timer* slow_timer = nullptr;
  std::string file_path;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
};

Task<Response> hold_until_released(asio::io_context& loop, Fixture& fixture) {
  asio::steady_timer timer(loop, std::chrono::steady_clock::time_point::max());
  fixture.slow_timer = &timer;
  fixture.slow_entered.set_value();
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  Response response = Response::text(200, std::string(100'000, 's'));
  response.route = "slow";
  co_return response;
}

Task<Response> handle(const Request& request, asio::io_context& loop, Fixture& fixture) {
  const std::string_view path = request.path();
  if (path == "/hello") {
    Response response = Response::text(200, "hello");
    response.route = "hello";
    co_return response;
  }
  if (path == "/echo") {
    Response response = Response::text(200, request.method + " " + request.target + " " + request.body);
    response.route = "echo";
    co_return response;
  }
  if (path == "/throw") throw std::runtime_error("handler failure on purpose");
  if (path == "/split") {
    Response response = Response::text(200, "split");
    response.set("X-Echo", "value\r\nSet-Cookie: stolen=1");
    response.set("X-Fine", "kept");
    co_return response;
  }
  if (path == "/unopened") {
    Response response;
    response.file = std::make_shared<FileRange>(-1, 0, 10);
    co_return response;
  }
  if (path == "/slow") co_return co_await hold_until_released(loop, fixture);
  if (path == "/file") {
    Response response;
    response.route = "file";
    response.set("Content-Type", "application/octet-stream");
    response.file = std::make_shared<FileRange>(::open(fixture.file_path.c_str(), O_RDONLY | O_CLOEXEC),
                                                fixture.file_offset, fixture.file_length);
    co_return response;
  }
  Response response = Response::text(404, "no such page");
  response.route = "missing";
  co_return response;
}

HandlerFactory factory_for(Fixture& fixture) {
  return [&fixture](asio::io_context& loop, int) -> Handler {
    fixture.loops_started.fetch_add(1);
    fixture.loop = &loop;
    return [&loop, &fixture](const Request& request) { return handle(request, loop, fixture); };
  };
}

std::string random_bytes(size_t size) {
  std::mt19937_64 generator(42);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator());
  return bytes;
}

// A temporary directory removed with its files at the end of the test.

TEST(Server, AnswersSeveralRequestsOnOneKeepAliveConnection) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {
    auto response = client.get("/echo?n=" + std::to_string(i));
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "GET /echo?n=" + std::to_string(i) + " ");
    EXPECT_EQ(response->header("Connection"), "keep-alive");
    EXPECT_EQ(response->header("Server"), "reel");
    EXPECT_EQ(response->header("Date").value_or("").size(), 29u);
    EXPECT_EQ(response->header("Content-Type"), "text/plain; charset=utf-8");
  }
}

TEST(Server, AnswersPipelinedRequestsInOrder) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());
  ASSERT_TRUE(
      client.send("GET /echo?first HTTP/1.1\r\nHost: t\r\n\r\n"
                  "POST /echo?second HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody"
                  "GET /echo?third HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto first = client.read_response();
  auto second = client.read_response();
  auto third = client.read_response();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->body, "GET /echo?first ");
  EXPECT_EQ(second->body, "POST /echo?second body");
  EXPECT_EQ(third->body, "GET /echo?third ");
}

TEST(Server, HeadSendsTheHeadersWithoutTheBody) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());
  ASSERT_TRUE(client.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = client.read_response(/*expect_body=*/false);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), "5");
  // Had the body been sent, it would be read as the start of this response.
  auto get = client.get("/hello");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "hello");
}

TEST(Server, ReadsARequestBodyAfter100Continue) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());
  ASSERT_TRUE(
      client.send("PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  auto interim = client.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send("abcde"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "PUT /echo abcde");
}

TEST(Server, ClosesAnHttp10ConnectionAfterTheResponse) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.0\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(client.wait_closed());
}

// RFC 9112 §3.2: an HTTP/1.1 request without Host, or any request with two, is refused with 400
// (and the connection closed); HTTP/1.0 without Host is still served (see above).
TEST(Server, AnswersAnHttp11RequestWithoutOneHostWith400) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  for (const std::string request :
       {"GET /hello HTTP/1.1\r\n\r\n", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /hello HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"}) {
    RawConnection client(server.port());
    ASSERT_TRUE(client.send(request));
    auto response = client.read_response();
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->status, 400) << request;
    EXPECT_EQ(response->header("Connection"), "close");
    EXPECT_TRUE(client.wait_closed());
  }
  RawConnection client(server.port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nhOsT: t\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200) << "the header's name is case-insensitive";
}

TEST(Server, AnswersGarbageWith400AndCloses) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());
  ASSERT_TRUE(client.send("\x01\x02 this is not http\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(client.wait_closed());
}

TEST(Server, AnswersAHeaderThatNeverCompletesWith408) {
  Fixture fixture;
  ServerOptions options = test_options();
  options.header_timeout = 200ms;
  ServerThread server(options, factory_for(fixture));
  RawConnection client(server.port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_TRUE(client.wait_closed());
}

TEST(Server, ClosesAnIdleKeepAliveConnectionSilently) {
  Fixture fixture;
  ServerOptions options = test_options();
  options.idle_timeout = 200ms;
  ServerThread server(options, factory_for(fixture));
  RawConnection client(server.port());
  ASSERT_TRUE(client.get("/hello"));
  EXPECT_TRUE(client.wait_closed());  // no 408: nothing was asked
}

TEST(Server, AnswersAnOversizedBodyWith413) {
  Fixture fixture;
  ServerOptions options = test_options();
  options.max_body_bytes = 1000;
  ServerThread server(options, factory_for(fixture));

  RawConnection declared(server.port());
  ASSERT_TRUE(declared.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n" +
                            std::string(2000, 'b')));
  auto response = declared.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(declared.wait_closed());

  RawConnection chunked(server.port());
  ASSERT_TRUE(chunked.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5dc\r\n" +
                           std::string(1500, 'c') + "\r\n0\r\n\r\n"));
  response = chunked.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
}

TEST(Server, AnswersAnOversizedHeaderWith431) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());
  ASSERT_TRUE(
      client.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(10'000, 'h') + "\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client.wait_closed());
}

TEST(Server, Answers503OverMaxConnectionsAndRecovers) {
  Fixture fixture;
  ServerOptions options = test_options();
  options.max_connections = 1;
  ServerThread server(options, factory_for(fixture));
  {
    RawConnection first(server.port());
    ASSERT_TRUE(first.get("/hello"));  // accepted and counted

    RawConnection second(server.port());
    ASSERT_TRUE(second.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto rejected = second.read_response();
    ASSERT_TRUE(rejected);
    EXPECT_EQ(rejected->status, 503);
    EXPECT_EQ(rejected->header("Retry-After"), "1");
    EXPECT_TRUE(second.wait_closed());
  }
  // Once the first connection is gone, the server notices and takes a new one.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    RawConnection next(server.port());
    auto response = next.get("/hello");
    status = response ? response->status : 0;
  }
  EXPECT_EQ(status, 200);
}

TEST(Server, DrainFinishesTheRequestInFlightAndClosesTheRest) {
  Fixture fixture;
  ServerOptions options = test_options();
  options.drain_timeout = std::chrono::minutes(10);  // far beyond wait_stopped's: run() returns without it
  ServerThread server(options, factory_for(fixture));
  RawConnection idle(server.port());
  ASSERT_TRUE(idle.get("/hello"));
  RawConnection busy(server.port());
  ASSERT_TRUE(busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_EQ(fixture.slow_entered.get_future().wait_for(60s), std::future_status::ready);

  server.server().stop();
  EXPECT_TRUE(idle.wait_closed());  // idle: closed at once
  RawConnection late(server.port());
  EXPECT_FALSE(late.connected());  // no longer accepting
  EXPECT_EQ(late.errno_value(), ECONNREFUSED);

  asio::post(*fixture.loop, [&fixture] { fixture.slow_timer->cancel(); });
  auto response = busy.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, std::string(100'000, 's'));
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(busy.wait_closed());
  busy.close();  // the server lingers until the client has closed too
  EXPECT_TRUE(server.wait_stopped());
}

TEST(Server, DrainTimeoutClosesARequestThatDoesNotFinish) {
  Fixture fixture;
  ServerOptions options = test_options();
  options.drain_timeout = 200ms;
  ServerThread server(options, factory_for(fixture));
  RawConnection busy(server.port());
  ASSERT_TRUE(busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_EQ(fixture.slow_entered.get_future().wait_for(60s), std::future_status::ready);
  server.server().stop();
  EXPECT_TRUE(busy.wait_closed());
  EXPECT_TRUE(server.wait_stopped());
}

TEST(Server, DrainsOnSigterm) {
  Fixture fixture;
  ServerOptions options = test_options();
  options.handle_signals = true;
  ServerThread server(options, factory_for(fixture));
  {
    RawConnection client(server.port());
    ASSERT_TRUE(client.get("/hello"));  // served: the loop has started and watches the signals
  }
  ASSERT_EQ(::raise(SIGTERM), 0);
  EXPECT_TRUE(server.wait_stopped());
}

TEST(Server, AnswersAThrowingHandlerWith500AndStaysUp) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());
  auto failed = client.get("/throw");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  auto next = client.get("/hello");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST(Server, DropsAHeaderThatWouldSplitTheResponse) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());
  auto response = client.get("/split");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("X-Echo"), std::nullopt);
  EXPECT_EQ(response->header("Set-Cookie"), std::nullopt);
  EXPECT_EQ(response->header("X-Fine"), "kept");
  EXPECT_EQ(response->body, "split");
}

TEST(Server, AnswersAFileThatIsNotOpenWith500) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());
  auto response = client.get("/unopened");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_TRUE(client.get("/hello"));
}

TEST(Server, CountsRequestsByRouteAndStatus) {
  Fixture fixture;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.get("/hello"));
  ASSERT_TRUE(client.get("/nowhere"));
  // Requests on a connection are recorded before the next one is read, so this response means the
  // ones before it are counted.
  ASSERT_TRUE(client.get("/echo"));
  const std::string metrics = server.server().metrics().render();
  EXPECT_NE(metrics.find("reel_http_requests_total{route=\"hello\",status=\"200\"} 3\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("reel_http_requests_total{route=\"missing\",status=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("reel_http_request_duration_seconds_count{route=\"missing\"} 1\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("reel_http_connections 1\n"), std::string::npos);
}

TEST(Server, SendsALargeFileRangeByteExact) {
  reel::testing::TempDir dir;
  const std::string content = random_bytes(6 * 1024 * 1024 + 123);
  Fixture fixture;
  fixture.file_path = (dir.path() / "large.bin").string();
  std::ofstream(fixture.file_path, std::ios::binary) << content;
  fixture.file_offset = 4321;
  fixture.file_length = content.size() - fixture.file_offset - 1000;
  ServerThread server(test_options(), factory_for(fixture));
  RawConnection client(server.port());

  auto response = client.get("/file");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("Content-Length"), std::to_string(fixture.file_length));
  EXPECT_TRUE(response->body == content.substr(fixture.file_offset, fixture.file_length));

  ASSERT_TRUE(client.send("HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = client.read_response(/*expect_body=*/false);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length"), std::to_string(fixture.file_length));
  auto after = client.get("/hello");  // no file bytes were sent for HEAD
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "hello");
}

// Clients that go away in the middle of a file: each reads a little of a 64 MiB response and
// closes with the rest unread (the kernel answers the next data with a reset). sendfile(2) has no
// MSG_NOSIGNAL, so a server that did not ignore SIGPIPE would die here, test process and all.
TEST(Server, ClientsThatLeaveInTheMiddleOfAFileDoNotStopTheServer) {
  reel::testing::TempDir dir;
  Fixture fixture;
  fixture.file_path = (dir.path() / "big.bin").string();
  {
    std::ofstream big(fixture.file_path, std::ios::binary);
    const std::string block = random_bytes(1 << 20);
    for (int i = 0; i < 64; ++i) big << block;
  }
  fixture.file_length = 64u << 20;
  ServerThread server(test_options(), factory_for(fixture));
  for (int client = 0; client < 8; ++client) {
    RawConnection leaving(server.port());
    ASSERT_TRUE(leaving.connected());
    ASSERT_TRUE(leaving.send("GET /file HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_TRUE(leaving.read_some(64 * 1024)) << "the file starts coming";
  }  // each closes here with most of the file unread
  for (int attempt = 0; attempt < 3; ++attempt) {
    RawConnection after(server.port());
    auto response = after.get("/hello");
    ASSERT_TRUE(response) << "the server is still up";
    EXPECT_EQ(response->body, "hello");
  }
}

TEST(Server, ServesFromEveryLoopOnTheSamePort) {
  Fixture fixture;
  ServerOptions options = test_options();
  options.threads = 2;
  ServerThread server(options, factory_for(fixture));
  for (int i = 0; i < 20; ++i) {
    RawConnection client(server.port());
    auto response = client.get("/hello");
    ASSERT_TRUE(response) << "connection " << i;
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(fixture.loops_started.load(), 2);
  EXPECT_TRUE(server.stop_and_wait());
}

TEST(Server, WritesOneAccessLogLinePerRequest) {
  reel::testing::TempDir dir;
  Fixture fixture;
  ServerOptions options = test_options();
  options.access_log = (dir.path() / "access.log").string();
  ServerThread server(options, factory_for(fixture));
  RawConnection client(server.port());
  ASSERT_TRUE(client.get("/hello?x=1"));
  ASSERT_TRUE(client.get("/nowhere"));
  ASSERT_TRUE(server.stop_and_wait());  // run() flushes what is buffered

  std::ifstream log(options.access_log);
  std::stringstream text;
  text << log.rdbuf();
  const std::string lines = text.str();
  EXPECT_NE(lines.find(" 127.0.0.1 GET /hello?x=1 200 5 "), std::string::npos) << lines;
  EXPECT_NE(lines.find(" 127.0.0.1 GET /nowhere 404 12 "), std::string::npos) << lines;
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2);
}

TEST(Server, BindNamesTheAddressItCannotListenOn) {
  Fixture fixture;
  ServerOptions options = test_options();
  options.host = "192.0.2.1";  // TEST-NET-1: not an address of this machine
  Server server(options, factory_for(fixture));
  const Status status = server.bind();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("192.0.2.1"), std::string::npos) << status.error().message;
}

}  // namespace
}  // namespace reel::http
