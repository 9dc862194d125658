// Line sources: the splitter, stdin (pipe and regular file), a followed file through appends,
// truncation and rotation, UDP and TCP on loopback.
#include "views/source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/asio.h"  // before any other Asio header
#include "support/event_loop.h"
#include "support/fixtures.h"

namespace reel::views {
namespace {

using namespace std::chrono_literals;
using reel::testing::run_until;

// Runs the handlers that are ready, without waiting for any.
void run_ready(asio::io_context& io) {
  io.restart();
  io.poll();
}

// Collects the lines a source delivers.
struct Lines {
  std::vector<std::string> got;
  std::optional<Status> ended;
  LineHandler handler() {
    return [this](std::string_view block) {
      while (!block.empty()) {
        const size_t nl = block.find('\n');
        got.emplace_back(block.substr(0, nl));
        if (nl == std::string_view::npos) break;
        block.remove_prefix(nl + 1);
      }
    };
  }
  EndHandler on_end() {
    return [this](Status s) { ended = std::move(s); };
  }
};

TEST(LineSplitter, JoinsPartialLinesAndDropsOversizedOnes) {
  LineSplitter s(10);
  Lines lines;
  s.feed("ab", lines.handler());
  s.feed("c\nde", lines.handler());
  s.feed("f\ng\n", lines.handler());
  EXPECT_EQ(lines.got, (std::vector<std::string>{"abc", "def", "g"}));
  lines.got.clear();
  s.feed("0123456789ABCDEF", lines.handler());  // over 10 while partial
  s.feed("more\nok\n", lines.handler());
  s.feed("01234567", lines.handler());
  s.feed("89XYZ", lines.handler());  // over 10 across feeds
  s.feed("\nlast", lines.handler());
  s.finish(lines.handler());
  EXPECT_EQ(lines.got, (std::vector<std::string>{"ok", "last"}));
  EXPECT_EQ(s.oversized(), 2u);
}

TEST(FdSource, ReadsAPipeToItsEnd) {
  asio::io_context io;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto source = open_fd_source(io.get_executor(), fds[0]);
  ::close(fds[0]);
  ASSERT_TRUE(source) << source.error().message;
  Lines lines;
  (*source)->start(lines.handler(), lines.on_end());
  const std::string text = "one\ntwo\nthree";
  ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ASSERT_TRUE(run_until(io, [&] { return lines.got.size() == 2; }));
  ::close(fds[1]);
  ASSERT_TRUE(run_until(io, [&] { return lines.ended.has_value(); }));
  EXPECT_TRUE(lines.ended->ok());
  EXPECT_EQ(lines.got, (std::vector<std::string>{"one", "two", "three"}));
}

TEST(FdSource, ReadsARegularFileToItsEnd) {
  reel::testing::TempDir dir;
  const auto path = dir.path() / "in.log";
  std::ofstream(path) << "a\nb\n";
  asio::io_context io;
  const int fd = ::open(path.c_str(), O_RDONLY);
  auto source = open_fd_source(io.get_executor(), fd);
  ::close(fd);
  ASSERT_TRUE(source);
  Lines lines;
  (*source)->start(lines.handler(), lines.on_end());
  ASSERT_TRUE(run_until(io, [&] { return lines.ended.has_value(); }));
  EXPECT_EQ(lines.got, (std::vector<std::string>{"a", "b"}));
}

TEST(FollowSource, FollowsAppendsTruncationAndRotation) {
  reel::testing::TempDir dir;
  const auto path = dir.path() / "access.log";
  std::ofstream(path) << "old\n";  // there before the start: skipped (tail -n0)
  asio::io_context io;
  auto source = open_follow_source(io.get_executor(), path.string(), FollowOptions{5ms, false});
  ASSERT_TRUE(source);
  Lines lines;
  (*source)->start(lines.handler(), lines.on_end());
  run_ready(io);  // it opens the file at its end, then waits for its poll timer

  std::ofstream(path, std::ios::app) << "1\n2";
  ASSERT_TRUE(run_until(io, [&] { return lines.got.size() == 1; }));
  std::ofstream(path, std::ios::app) << "\n3\n";
  ASSERT_TRUE(run_until(io, [&] { return lines.got.size() == 3; }));

  std::ofstream(path, std::ios::trunc) << "t\n";  // truncated (copytruncate): read from the start
  ASSERT_TRUE(run_until(io, [&] { return lines.got.size() == 4; }));

  std::ofstream(path, std::ios::app) << "before rotation\n";
  std::filesystem::rename(path, dir.path() / "access.log.1");
  std::ofstream(dir.path() / "access.log.1", std::ios::app) << "late write to the old file\n";
  std::ofstream(path) << "new file\n";
  ASSERT_TRUE(run_until(io, [&] { return lines.got.size() == 7; }));
  EXPECT_EQ(lines.got, (std::vector<std::string>{"1", "2", "3", "t", "before rotation",
                                                 "late write to the old file", "new file"}));
  (*source)->stop();
  EXPECT_FALSE(lines.ended.has_value());
}

TEST(FollowSource, WaitsForAFileThatDoesNotExistYet) {
  reel::testing::TempDir dir;
  const auto path = dir.path() / "later.log";
  asio::io_context io;
  auto source = open_follow_source(io.get_executor(), path.string(), FollowOptions{5ms, false});
  ASSERT_TRUE(source);
  Lines lines;
  (*source)->start(lines.handler(), lines.on_end());
  run_ready(io);
  std::ofstream(path) << "first\n";  // a file that appears later is read from its start
  ASSERT_TRUE(run_until(io, [&] { return lines.got.size() == 1; }));
  EXPECT_EQ(lines.got[0], "first");
}

TEST(UdpSource, EachDatagramMayHoldSeveralLines) {
  asio::io_context io;
  auto source = open_udp_source(io.get_executor(), HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(source) << source.error().message;
  Lines lines;
  (*source)->start(lines.handler(), lines.on_end());
  asio::ip::udp::socket sender(io, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
  const asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"), (*source)->port());
  sender.send_to(asio::buffer(std::string("a\nb")), to);
  sender.send_to(asio::buffer(std::string("c\n")), to);
  ASSERT_TRUE(run_until(io, [&] { return lines.got.size() == 3; }));
  EXPECT_EQ(lines.got, (std::vector<std::string>{"a", "b", "c"}));
}

// The kernel drops datagrams a full receive buffer cannot take; the source reports how many
// (SO_MEMINFO), so every datagram sent is either read or counted.
TEST(UdpSource, CountsTheDatagramsTheKernelDropped) {
  asio::io_context io;
  auto source = open_udp_source(io.get_executor(), HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(source) << source.error().message;
  asio::ip::udp::socket sender(io, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
  const asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"), (*source)->port());
  // Sent before anything reads: far more than the receive buffer holds.
  constexpr size_t sent = 20000;
  const std::string line(200, 'x');
  for (size_t i = 0; i < sent; ++i) sender.send_to(asio::buffer(line + "\n"), to);
  Lines lines;
  (*source)->start(lines.handler(), lines.on_end());
  ASSERT_TRUE(run_until(io, [&] { return lines.got.size() + (*source)->dropped_datagrams() == sent; }))
      << lines.got.size() << " read, " << (*source)->dropped_datagrams() << " dropped";
  EXPECT_GT((*source)->dropped_datagrams(), 0u);
}

// The in-process hop of `reel up`: lines written on other threads arrive in order, none lost, and
// what is still queued when the source stops is handed over.
TEST(QueueSource, DeliversLinesFromOtherThreadsAndTheRestOnStop) {
  asio::io_context io;
  auto busy = asio::make_work_guard(io);  // a real aggregator's loop has its timers
  auto queue = std::make_shared<event_log::LineQueue>();
  auto source = open_queue_source(io.get_executor(), queue);
  Lines lines;
  ASSERT_TRUE(queue->push("before start"));
  source->start(lines.handler(), lines.on_end());
  constexpr int per_thread = 20000;
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&queue, t] {
      for (int i = 0; i < per_thread; ++i) queue->push(std::to_string(t) + ":" + std::to_string(i));
    });
  }
  const bool all = run_until(
      io, [&] { return lines.got.size() == 1 + 2 * per_thread; }, 60s);
  for (auto& writer : writers) writer.join();
  ASSERT_TRUE(all) << lines.got.size();
  EXPECT_EQ(lines.got.front(), "before start");
  std::vector<int> next(2, 0);
  for (size_t i = 1; i < lines.got.size(); ++i) {
    const int t = lines.got[i][0] - '0';
    ASSERT_EQ(lines.got[i], std::to_string(t) + ":" + std::to_string(next[t])) << "in order per writer";
    ++next[t];
  }
  ASSERT_TRUE(queue->push("last"));
  source->stop();
  EXPECT_EQ(lines.got.back(), "last");
}

// Lines are taken `gather` after the first one woke the source, together: a line queued while
// the first waits wakes nobody and arrives in the same handing-over.
TEST(QueueSource, GathersTheLinesQueuedMeanwhileIntoOneHandingOver) {
  asio::io_context io;
  auto busy = asio::make_work_guard(io);
  auto queue = std::make_shared<event_log::LineQueue>();
  auto source = open_queue_source(io.get_executor(), queue, 50ms);
  std::vector<std::string> handed;
  source->start([&handed](std::string_view block) { handed.emplace_back(block); }, [](Status) {});
  ASSERT_TRUE(queue->push("first"));
  io.poll();  // runs the wake-up: the take waits for the gathering delay
  ASSERT_TRUE(queue->push("second"));
  ASSERT_TRUE(run_until(
      io, [&] { return !handed.empty(); }, 60s));
  io.poll();
  EXPECT_EQ(handed, std::vector<std::string>{"first\nsecond\n"});
  source->stop();
}

TEST(UdpSource, APortInUseIsAnError) {
  asio::io_context io;
  auto first = open_udp_source(io.get_executor(), HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(first);
  auto second = open_udp_source(io.get_executor(), HostPort{"127.0.0.1", (*first)->port()});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("udp 127.0.0.1:"), std::string::npos) << second.error().message;
}

TEST(TcpSource, ReadsLinesFromSeveralClientsAndLimitsThem) {
  asio::io_context io;
  auto source = open_tcp_source(io.get_executor(), HostPort{"127.0.0.1", 0}, 2);
  ASSERT_TRUE(source) << source.error().message;
  Lines lines;
  (*source)->start(lines.handler(), lines.on_end());
  const asio::ip::tcp::endpoint to(asio::ip::make_address("127.0.0.1"), (*source)->port());
  asio::ip::tcp::socket a(io), b(io), c(io);
  a.connect(to);
  b.connect(to);
  asio::write(a, asio::buffer(std::string("a1\na")));
  asio::write(b, asio::buffer(std::string("b1\n")));
  ASSERT_TRUE(run_until(io, [&] { return lines.got.size() == 2; }));
  c.connect(to);  // a third client is over the limit: closed at once
  ASSERT_TRUE(run_until(io, [&] {
    char byte;
    boost::system::error_code ec;
    c.non_blocking(true);
    c.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof;
  }));
  asio::write(a, asio::buffer(std::string("2\n")));
  a.close();  // a partial last line at the end of a connection still counts
  asio::write(b, asio::buffer(std::string("b2")));
  b.close();
  ASSERT_TRUE(run_until(io, [&] { return lines.got.size() == 4; }));
  std::sort(lines.got.begin(), lines.got.end());
  EXPECT_EQ(lines.got, (std::vector<std::string>{"a1", "a2", "b1", "b2"}));
  (*source)->stop();
}

}  // namespace
}  // namespace reel::views
