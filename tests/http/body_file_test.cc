// Request bodies streamed to a file (ServerOptions::body_to_file): the real Server on 127.0.0.1:0,
// driven over raw sockets. A body of any size must cost bounded memory, arrive byte-exact in
// Request::body_file, and leave no file behind whatever happens to the request. A request refused
// from its header (ServerOptions::answer_before_body) is answered before its body is read at all.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/asio.h"
#include "http/server.h"
#include "http/test_server.h"
#include "support/fixtures.h"

namespace reel::http {
namespace {

using namespace std::chrono_literals;
using testing::RawConnection;
using testing::ServerThread;
using testing::test_options;
namespace fs = std::filesystem;

// The byte at `position` of a test body: varied, and checkable without keeping the body around.
char pattern_byte(uint64_t position) {
  return static_cast<char>(((position * 2654435761u) >> 13) & 0xff);
}

std::string pattern(uint64_t offset, size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = pattern_byte(offset + i);
  return bytes;
}

// FNV-1a over a whole file, read in chunks; "" when it cannot be opened.
std::string file_digest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  uint64_t hash = 1469598103934665603u;
  char chunk[64 * 1024];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      hash = (hash ^ static_cast<unsigned char>(chunk[i])) * 1099511628211u;
    }
  }
  return std::to_string(hash);
}

std::string pattern_digest(uint64_t size) {
  uint64_t hash = 1469598103934665603u;
  for (uint64_t i = 0; i < size; ++i)
    hash = (hash ^ static_cast<unsigned char>(pattern_byte(i))) * 1099511628211u;
  return std::to_string(hash);
}

size_t count_files(const fs::path& dir) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    (void)entry;
    ++count;
  }
  return count;
}

// Waits up to `timeout` for `dir` to hold exactly `count` entries.
bool wait_for_file_count(const fs::path& dir, size_t count, std::chrono::milliseconds timeout = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (count_files(dir) != count) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Resident memory of this process (the server runs in it), from /proc/self/statm.
uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// What the handler and body_to_file share with the test.
struct Fixture {
  std::atomic<int> asked{0};    // body_to_file calls
  std::atomic<int> handled{0};  // handler calls
  std::mutex mutex;
  std::string asked_target;  // what body_to_file saw
  std::string asked_header;  // its X-Upload header
  std::string keep_path;     // when set, /upload renames the body file here
};

// /upload answers "file=<0|1> body=<in-memory size> bytes=<body_bytes> digest=<of the file>";
// /echo answers the in-memory body.
Task<Response> handle(const Request& request, Fixture& fixture) {
  fixture.handled.fetch_add(1);
  if (request.path() == "/echo") co_return Response::text(200, request.body);
  std::string text = "file=" + std::string(request.body_file.empty() ? "0" : "1") +
                     " body=" + std::to_string(request.body.size()) +
                     " bytes=" + std::to_string(request.body_bytes) +
                     " digest=" + file_digest(request.body_file);
  std::string keep;
  {
    std::lock_guard lock(fixture.mutex);
    keep = fixture.keep_path;
  }
  if (!keep.empty() && std::rename(request.body_file.c_str(), keep.c_str()) != 0) {
    co_return Response::text(500, "rename failed");
  }
  co_return Response::text(200, text);
}

struct Harness {
  reel::testing::TempDir temp;  // upload_temp_dir
  Fixture fixture;
  std::unique_ptr<ServerThread> server;

  explicit Harness(const std::function<void(ServerOptions&)>& configure = nullptr) {
    ServerOptions options = test_options();
    options.upload_temp_dir = temp.path().string();
    options.max_body_bytes = 1000;
    options.body_to_file = [this](const Request& head) {
      fixture.asked.fetch_add(1);
      std::lock_guard lock(fixture.mutex);
      fixture.asked_target = head.target;
      fixture.asked_header = std::string(head.header("X-Upload").value_or(""));
      return head.path() == "/upload";
    };
    if (configure) configure(options);
    server = std::make_unique<ServerThread>(options, [this](asio::io_context&, int) -> Handler {
      return [this](const Request& request) { return handle(request, fixture); };
    });
  }
  uint16_t port() const { return server->port(); }
  const fs::path& dir() const { return temp.path(); }
};

std::string expected_answer(uint64_t size) {
  return "file=1 body=0 bytes=" + std::to_string(size) + " digest=" + pattern_digest(size);
}

std::string upload_header(uint64_t length, std::string_view extra = "") {
  return "POST /upload?x=1 HTTP/1.1\r\nHost: t\r\nX-Upload: yes\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

TEST(BodyFile, StreamsA50MbBodyToAFileWithBoundedMemory) {
  Harness harness;
  reel::testing::TempDir keep_dir;
  const fs::path kept = keep_dir.path() / "kept.bin";
  harness.fixture.keep_path = kept.string();
  constexpr uint64_t size = 50 * 1024 * 1024;
  RawConnection client(harness.port());
  ASSERT_TRUE(client.send(upload_header(size)));
  // Warm up: the first megabyte allocates what any request does; measure from there.
  constexpr size_t chunk = 1024 * 1024;
  ASSERT_TRUE(client.send(pattern(0, chunk)));
  const uint64_t baseline = resident_bytes();
  uint64_t peak = baseline;
  std::string piece(chunk, '\0');
  for (uint64_t offset = chunk; offset < size; offset += chunk) {
    for (size_t i = 0; i < chunk; ++i) piece[i] = pattern_byte(offset + i);
    ASSERT_TRUE(client.send(piece));
    peak = std::max(peak, resident_bytes());
  }
  auto response = client.read_response(true, 60s);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, expected_answer(size));
  // A 50 MB body held in memory would show here; streamed, it costs the read buffer.
  EXPECT_LT(peak - baseline, 16u * 1024 * 1024) << "resident memory grew by " << (peak - baseline);
  // The handler renamed the file away: the server left it alone, and nothing else is in the dir.
  EXPECT_EQ(fs::file_size(kept), size);
  EXPECT_EQ(file_digest(kept.string()), pattern_digest(size));
  EXPECT_EQ(count_files(harness.dir()), 0u);
}

TEST(BodyFile, RemovesTheFileOnceTheResponseIsWritten) {
  Harness harness;
  RawConnection client(harness.port());
  ASSERT_TRUE(client.send(upload_header(5000) + pattern(0, 5000)));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, expected_answer(5000));  // the handler read the file
  // The server removes the file before it reads the next request on the connection.
  auto next = client.get("/echo");
  ASSERT_TRUE(next);
  EXPECT_EQ(count_files(harness.dir()), 0u);
}

TEST(BodyFile, AsksBodyToFileWithTheHeadOnlyForRequestsWithABody) {
  Harness harness;
  RawConnection client(harness.port());
  ASSERT_TRUE(client.get("/echo"));
  EXPECT_EQ(harness.fixture.asked.load(), 0);
  ASSERT_TRUE(client.send(upload_header(10) + pattern(0, 10)));
  ASSERT_TRUE(client.read_response());
  EXPECT_EQ(harness.fixture.asked.load(), 1);
  std::lock_guard lock(harness.fixture.mutex);
  EXPECT_EQ(harness.fixture.asked_target, "/upload?x=1");
  EXPECT_EQ(harness.fixture.asked_header, "yes");
}

TEST(BodyFile, KeepsSmallBodiesOfOtherRequestsInMemoryUnderTheirLimit) {
  Harness harness;
  RawConnection client(harness.port());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "hello");
  ASSERT_TRUE(
      client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "abcde");

  // The in-memory limit (1000) still holds for them, declared or chunked.
  RawConnection declared(harness.port());
  ASSERT_TRUE(declared.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n"));
  response = declared.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  RawConnection chunked(harness.port());
  ASSERT_TRUE(chunked.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5dc\r\n" +
                           std::string(1500, 'c') + "\r\n0\r\n\r\n"));
  response = chunked.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(count_files(harness.dir()), 0u);
}

TEST(BodyFile, DecodesAChunkedBodyIntoTheFile) {
  Harness harness;
  RawConnection client(harness.port());
  std::string request = "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  uint64_t offset = 0;
  for (size_t size : {1u, 100'000u, 7u, 65'536u, 300'000u}) {
    char length[32];
    std::snprintf(length, sizeof length, "%zx", size);
    request += std::string(length) + (size == 7 ? ";ext=1" : "") + "\r\n" + pattern(offset, size) + "\r\n";
    offset += size;
  }
  request += "0\r\nX-Trailer: t\r\n\r\n";
  // Sent in uneven pieces, so chunk headers straddle reads.
  for (size_t at = 0; at < request.size(); at += 70'001) ASSERT_TRUE(client.send(request.substr(at, 70'001)));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, expected_answer(offset));
}

TEST(BodyFile, Sends100ContinueBeforeTheBody) {
  Harness harness;
  RawConnection client(harness.port());
  ASSERT_TRUE(client.send(upload_header(300'000, "Expect: 100-continue\r\n")));
  auto interim = client.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send(pattern(0, 300'000)));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, expected_answer(300'000));
}

TEST(BodyFile, KeepsTheConnectionForTheNextPipelinedRequest) {
  Harness harness;
  RawConnection client(harness.port());
  ASSERT_TRUE(client.send(upload_header(70'000) + pattern(0, 70'000) +
                          "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nnext"));
  auto first = client.read_response();
  auto second = client.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, expected_answer(70'000));
  EXPECT_EQ(second->body, "next");
}

void small_file_limit(ServerOptions& options) {
  options.max_file_body_bytes = 100'000;
}

TEST(BodyFile, AnswersADeclaredLengthOverTheLimitWith413BeforeAnyFile) {
  Harness harness(small_file_limit);
  RawConnection client(harness.port());
  // No "100 Continue": the refusal comes first, so the client need not send the body at all.
  ASSERT_TRUE(client.send(upload_header(100'001, "Expect: 100-continue\r\n")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client.wait_closed());
  EXPECT_EQ(count_files(harness.dir()), 0u);
  EXPECT_EQ(harness.fixture.handled.load(), 0);
}

TEST(BodyFile, AnswersAChunkedBodyGrowingOverTheLimitWith413AndRemovesTheFile) {
  Harness harness(small_file_limit);
  RawConnection client(harness.port());
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.send("c350\r\n" + pattern(0, 50'000) + "\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(count_files(harness.dir()), 0u);
  EXPECT_EQ(harness.fixture.handled.load(), 0);
}

TEST(BodyFile, RemovesThePartialFileWhenTheClientDisconnectsMidBody) {
  Harness harness;
  {
    RawConnection client(harness.port());
    ASSERT_TRUE(client.send(upload_header(1'000'000) + pattern(0, 400'000)));
    ASSERT_TRUE(wait_for_file_count(harness.dir(), 1));  // the body is being written
  }
  EXPECT_TRUE(wait_for_file_count(harness.dir(), 0));
  EXPECT_EQ(harness.fixture.handled.load(), 0);
  RawConnection next(harness.port());  // the server is fine
  ASSERT_TRUE(next.get("/echo"));
}

// Short enough for a test, long against the pace of the slow body below, so that a loaded machine
// pausing the sender for a while does not look like a stalled link.
void short_body_timeout(ServerOptions& options) {
  options.body_timeout = 2s;
}

TEST(BodyFile, TimesOutAStalledBodyWith408AndRemovesTheFile) {
  Harness harness(short_body_timeout);
  RawConnection client(harness.port());
  ASSERT_TRUE(client.send(upload_header(1000) + pattern(0, 10)));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(count_files(harness.dir()), 0u);
  EXPECT_EQ(harness.fixture.handled.load(), 0);
}

TEST(BodyFile, LetsASlowButSteadyBodyTakeLongerThanTheIdleTimeout) {
  Harness harness(short_body_timeout);
  RawConnection client(harness.port());
  constexpr int pieces = 10;
  ASSERT_TRUE(client.send(upload_header(pieces * 10)));
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < pieces; ++i) {
    // The pace of a slow link (300 ms between pieces), not a wait for the server.
    std::this_thread::sleep_for(300ms);
    ASSERT_TRUE(client.send(pattern(static_cast<uint64_t>(i) * 10, 10)));
  }
  ASSERT_GT(std::chrono::steady_clock::now() - started, 2s);  // longer than body_timeout in total
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, expected_answer(pieces * 10));
}

TEST(BodyFile, AnswersADeclaredLengthBeyondTheFreeSpaceWith507) {
  Harness harness([](ServerOptions& options) { options.max_file_body_bytes = UINT64_MAX; });
  struct statvfs usage {};
  ASSERT_EQ(::statvfs(harness.dir().c_str(), &usage), 0);
  const uint64_t too_much = static_cast<uint64_t>(usage.f_bavail) * usage.f_frsize + (uint64_t{1} << 30);
  RawConnection client(harness.port());
  ASSERT_TRUE(client.send(upload_header(too_much, "Expect: 100-continue\r\n")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 507);
  EXPECT_EQ(response->body, "Insufficient Storage\n");
  EXPECT_EQ(count_files(harness.dir()), 0u);
  EXPECT_EQ(harness.fixture.handled.load(), 0);
}

TEST(BodyFile, AnswersADiskThatFillsMidBodyWith507AndRemovesTheFile) {
  testing::TinyFileSystem tiny;
  ASSERT_TRUE(tiny.mounted()) << "cannot mount a small tmpfs here (the suite runs as root): " << tiny.error();
  ServerOptions options = test_options();
  options.upload_temp_dir = tiny.path().string();
  options.body_to_file = [](const Request&) { return true; };
  std::atomic<int> handled{0};
  ServerThread server(options, [&handled](asio::io_context&, int) -> Handler {
    return [&handled](const Request&) -> Task<Response> {
      handled.fetch_add(1);
      co_return Response::text(200, "stored");
    };
  });
  RawConnection client(server.port());
  // Chunked: no declared length to check up front, so a write runs out of space. 1 MiB + 32 KiB in
  // all: what the server has not read when it answers stays under what it drains before closing,
  // so the close cannot reset the connection before the answer is read.
  std::string request = "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 16; ++i) request += "10000\r\n" + pattern(0, 0x10000) + "\r\n";
  request += "8000\r\n" + pattern(0, 0x8000) + "\r\n";
  ASSERT_TRUE(client.send(request));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 507);
  EXPECT_EQ(count_files(tiny.path()), 0u);
  EXPECT_EQ(handled.load(), 0);
}

// --- answer_before_body ---

// What the hook saw, shared with the test.
struct Screen {
  std::atomic<int> calls{0};
  std::atomic<int> loop_index{-1};
};

// A hook that, like an upload's token check, awaits I/O on its loop (a timer here) and then
// refuses a request without "X-Token: good" with 401; it throws for "X-Token: throw".
void screen_tokens(ServerOptions& options, Screen& screen) {
  options.answer_before_body = [&screen](const Request& head,
                                         int loop_index) -> Task<std::optional<Response>> {
    screen.calls.fetch_add(1);
    screen.loop_index = loop_index;
    asio::steady_timer timer(co_await asio::this_coro::executor, 5ms);
    co_await timer.async_wait(asio::use_awaitable);
    const auto token = head.header("X-Token");
    if (token == "throw") throw std::runtime_error("token store exploded");
    if (token == "good") co_return std::nullopt;
    co_return Response::text(401, "no token\n");
  };
}

TEST(AnswerBeforeBody, RefusesFromTheHeaderAloneAndNeverReadsTheBody) {
  Screen screen;
  Harness harness([&screen](ServerOptions& options) { screen_tokens(options, screen); });
  RawConnection client(harness.port());
  // Only the header and the body's first 64 KiB of 10 MB are ever sent: the answer cannot wait for the rest.
  ASSERT_TRUE(client.send(upload_header(10 * 1024 * 1024) + pattern(0, 64 * 1024)));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->body, "no token\n");
  EXPECT_EQ(response->header("Connection").value_or(""), "close");
  EXPECT_TRUE(client.wait_closed());
  EXPECT_EQ(screen.calls.load(), 1);
  EXPECT_EQ(screen.loop_index.load(), 0);
  EXPECT_EQ(harness.fixture.asked.load(), 0) << "body_to_file is not asked: no file is made";
  EXPECT_EQ(harness.fixture.handled.load(), 0);
  EXPECT_EQ(count_files(harness.dir()), 0u);
}

TEST(AnswerBeforeBody, RefusesBeforeSending100Continue) {
  Screen screen;
  Harness harness([&screen](ServerOptions& options) { screen_tokens(options, screen); });
  RawConnection client(harness.port());
  ASSERT_TRUE(client.send(upload_header(300'000, "Expect: 100-continue\r\n")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401) << "the final answer, not 100 Continue";
  EXPECT_TRUE(client.wait_closed());
  EXPECT_EQ(count_files(harness.dir()), 0u);
}

TEST(AnswerBeforeBody, LetsAnAcceptedRequestStreamItsBodyAsUsual) {
  Screen screen;
  Harness harness([&screen](ServerOptions& options) { screen_tokens(options, screen); });
  RawConnection client(harness.port());
  ASSERT_TRUE(client.send(upload_header(200'000, "X-Token: good\r\n") + pattern(0, 200'000)));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, expected_answer(200'000));
  auto next = client.get("/echo");  // the connection stays open
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(screen.calls.load(), 1) << "not called for a request without a body";
  EXPECT_EQ(harness.fixture.handled.load(), 2);
  EXPECT_EQ(count_files(harness.dir()), 0u);
}

TEST(AnswerBeforeBody, AHookThatThrowsIs500AndClose) {
  Screen screen;
  Harness harness([&screen](ServerOptions& options) { screen_tokens(options, screen); });
  RawConnection client(harness.port());
  ASSERT_TRUE(client.send(upload_header(5000, "X-Token: throw\r\n") + pattern(0, 5000)));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_TRUE(client.wait_closed());
  EXPECT_EQ(harness.fixture.handled.load(), 0);
  EXPECT_EQ(count_files(harness.dir()), 0u);
}

}  // namespace
}  // namespace reel::http
