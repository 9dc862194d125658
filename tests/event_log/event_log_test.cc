#include "event_log/event_log.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "support/fixtures.h"

namespace reel::event_log {
namespace {

// A bound datagram socket the test reads from; each read waits up to 5 s for a datagram.
class Receiver {
 public:
  explicit Receiver(int fd) : fd_(fd) {}
  ~Receiver() { ::close(fd_); }
  std::string receive() const {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, 5000) != 1) return "<nothing received>";
    char buffer[2048];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n < 0 ? "<recv failed>" : std::string(buffer, static_cast<size_t>(n));
  }

 private:
  int fd_;
};

TEST(EventLog, UdpSendsOneDatagramPerLine) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  Receiver receiver(fd);

  auto log = EventLog::open({"udp:127.0.0.1:" + std::to_string(ntohs(address.sin_port))});
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_TRUE((*log)->write("first line"));
  EXPECT_TRUE((*log)->write("second line"));
  EXPECT_EQ(receiver.receive(), "first line");
  EXPECT_EQ(receiver.receive(), "second line");
  EXPECT_EQ((*log)->stats().sent, 2u);
  EXPECT_EQ((*log)->stats().dropped, 0u);
}

TEST(EventLog, SyslogSocketGetsDatagrams) {
  testing::TempDir dir;
  std::string path = (dir.path() / "log.sock").string();
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::copy(path.begin(), path.end(), address.sun_path);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  Receiver receiver(fd);

  auto log = EventLog::open({"syslog:" + path});
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_TRUE((*log)->write("<134>1 - - reel - view - t=1 v=2 k=3"));
  EXPECT_EQ(receiver.receive(), "<134>1 - - reel - view - t=1 v=2 k=3");
}

TEST(EventLog, SyslogWithoutAListenerIsAClearError) {
  testing::TempDir dir;
  auto log = EventLog::open({"syslog:" + (dir.path() / "missing.sock").string()});
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().message.find("is syslog-ng running?"), std::string::npos) << log.error().message;
}

TEST(EventLog, FileAppendsLinesAndWritesTheQueueOnClose) {
  testing::TempDir dir;
  auto path = dir.path() / "views.log";
  {
    auto log = EventLog::open({"file:" + path.string()});
    ASSERT_TRUE(log.ok()) << log.error().message;
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE((*log)->write("line " + std::to_string(i)));
  }
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) EXPECT_EQ(line, "line " + std::to_string(lines++));
  EXPECT_EQ(lines, 1000);
}

TEST(EventLog, FileDropsWhatDoesNotFitTheQueue) {
  testing::TempDir dir;
  auto log = EventLog::open({"file:" + (dir.path() / "views.log").string(), 8});
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_FALSE((*log)->write("a line longer than eight bytes"));
  EXPECT_EQ((*log)->stats().dropped, 1u);
}

TEST(EventLog, BadTargetsAreClearErrors) {
  for (std::string target :
       {"", "tcp:127.0.0.1:1", "udp:nohost", "udp:127.0.0.1:99999", "file:/nonexistent/dir/x"}) {
    auto log = EventLog::open({target});
    EXPECT_FALSE(log.ok()) << target;
    if (!log.ok()) {
      EXPECT_NE(log.error().message.find("event log"), std::string::npos) << log.error().message;
    }
  }
  auto none = EventLog::open({"none"});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE((*none)->write("x"));
  EXPECT_EQ((*none)->stats().dropped, 1u);
}

// The in-process queue: lines in order, one wake-up per batch, nothing lost up to the bound and
// what passes it refused and counted as dropped.
TEST(QueueLog, QueuesUpToItsBoundAndCountsTheRest) {
  auto queue = std::make_shared<LineQueue>(20);
  int wakes = 0;
  queue->on_ready([&wakes] { ++wakes; });
  auto log = EventLog::to_queue(queue);
  EXPECT_TRUE(log->write("first"));
  EXPECT_TRUE(log->write("second"));
  EXPECT_EQ(wakes, 1) << "one wake-up until the consumer takes the lines";
  EXPECT_FALSE(log->write("too long for what is left")) << "past the bound";
  std::string taken;
  queue->take(taken);
  EXPECT_EQ(taken, "first\nsecond\n");
  EXPECT_TRUE(log->write("third"));
  EXPECT_EQ(wakes, 2);
  EXPECT_EQ(log->stats().sent, 3u);
  EXPECT_EQ(log->stats().dropped, 1u);
  // A consumer that starts late is told at once about lines already waiting.
  int late = 0;
  queue->on_ready([&late] { ++late; });
  EXPECT_EQ(late, 1);
  queue->take(taken);
  EXPECT_EQ(taken, "third\n");
}

}  // namespace
}  // namespace reel::event_log
