#include "views/source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/sock_diag.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>

#include "common/asio.h"
#include "projection/keys.h"
#include "redis/command.h"
#include "redis/stream.h"

namespace reel::views {
namespace {

using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;

constexpr size_t read_size = 64 * 1024;

auto with(error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

std::string errno_text(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// What every source shares with its coroutines; they hold it by shared_ptr, so it outlives the
// Source object while a coroutine is still unwinding.
struct SourceState {
  explicit SourceState(asio::any_io_executor ex) : executor(std::move(ex)) {}

  void deliver(std::string_view lines) {
    if (!stopped && on_lines) on_lines(lines);
  }
  // Feeds `bytes` through `s`, counting lines it had to drop.
  void feed(LineSplitter& s, std::string_view bytes) {
    const uint64_t before = s.oversized();
    s.feed(bytes, [this](std::string_view lines) { deliver(lines); });
    oversized += s.oversized() - before;
  }
  void finish(LineSplitter& s) {
    s.finish([this](std::string_view lines) { deliver(lines); });
  }
  uint16_t port() const { return 0; }
  uint64_t dropped_datagrams() const { return 0; }
  void end(Status status) {
    if (stopped) return;
    stopped = true;
    if (on_end) on_end(std::move(status));
  }

  asio::any_io_executor executor;
  LineHandler on_lines;
  EndHandler on_end;
  bool stopped = false;
  uint64_t oversized = 0;
  LineSplitter splitter;
};

// The one Source implementation: `State` holds the descriptors and says what it is; `run` is
// its reading coroutine.
template <class State, Task<void> (*run)(std::shared_ptr<State>)>
class StateSource final : public Source {
 public:
  explicit StateSource(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~StateSource() override { stop(); }

  void start(LineHandler on_lines, EndHandler on_end) override {
    state_->on_lines = std::move(on_lines);
    state_->on_end = std::move(on_end);
    asio::co_spawn(state_->executor, run(state_), asio::detached);
  }
  void stop() override {
    if (!state_->stopped) {
      state_->stopped = true;
      state_->close();
    }
  }
  std::string describe() const override { return state_->describe(); }
  uint16_t port() const override { return state_->port(); }
  uint64_t oversized_lines() const override { return state_->oversized; }
  uint64_t dropped_datagrams() const override { return state_->dropped_datagrams(); }

 private:
  std::shared_ptr<State> state_;
};

// ---- stdin / any descriptor ----

struct FdState : SourceState {
  FdState(asio::any_io_executor ex, int owned_fd, bool regular)
      : SourceState(ex), stream(ex), fd(owned_fd), is_regular(regular) {
    if (!is_regular) stream.assign(owned_fd);
  }
  void close() {
    error_code ignored;
    if (is_regular) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    } else {
      stream.close(ignored);
    }
  }
  std::string describe() const { return "stdin"; }
  asio::posix::stream_descriptor stream;
  int fd;
  bool is_regular;
};

Task<void> run_fd(std::shared_ptr<FdState> s) {
  std::string buffer(read_size, '\0');
  for (;;) {
    size_t n = 0;
    if (s->is_regular) {
      const ssize_t got = ::read(s->fd, buffer.data(), buffer.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) co_return s->end(Error{errno_text("read stdin")});
      n = static_cast<size_t>(got);
      if (n > 0) co_await asio::post(s->executor, asio::use_awaitable);  // let timers run between blocks
    } else {
      error_code ec;
      n = co_await s->stream.async_read_some(asio::buffer(buffer), with(ec));
      if (s->stopped) co_return;
      if (ec && ec != asio::error::eof) co_return s->end(Error{"read stdin: " + ec.message()});
    }
    if (s->stopped) co_return;
    if (n == 0) {
      s->finish(s->splitter);
      co_return s->end(Status{});
    }
    s->feed(s->splitter, std::string_view(buffer.data(), n));
  }
}

// ---- follow a file ----

struct FollowState : SourceState {
  FollowState(asio::any_io_executor ex, std::string p, FollowOptions o)
      : SourceState(ex), timer(ex), path(std::move(p)), options(o) {}
  void close() {
    timer.cancel();
    close_file();
  }
  void close_file() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  // Opens the file at its start or end; false when it does not exist (yet).
  bool open_file(bool at_end) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    ::fstat(fd, &st);
    dev = st.st_dev;
    ino = st.st_ino;
    offset = at_end ? st.st_size : 0;
    ::lseek(fd, offset, SEEK_SET);
    return true;
  }
  // Reads what has been appended; false on a read error.
  bool read_available(std::string& buffer) {
    for (;;) {
      const ssize_t got = ::read(fd, buffer.data(), buffer.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return false;
      if (got == 0 || stopped) return true;
      offset += got;
      feed(splitter, std::string_view(buffer.data(), static_cast<size_t>(got)));
    }
  }

  std::string describe() const { return "follow " + path; }
  asio::steady_timer timer;
  std::string path;
  FollowOptions options;
  int fd = -1;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t offset = 0;
};

Task<void> run_follow(std::shared_ptr<FollowState> s) {
  std::string buffer(read_size, '\0');
  bool first_open = true;
  for (;;) {
    if (s->fd < 0) {
      s->open_file(first_open && !s->options.from_start);  // a file that appears later is read whole
      first_open = false;
    }
    if (s->fd >= 0) {
      struct stat st {};
      if (::fstat(s->fd, &st) == 0 && st.st_size < s->offset) {  // truncated: read it again from the start
        s->splitter.reset();
        s->offset = 0;
        ::lseek(s->fd, 0, SEEK_SET);
      }
      if (!s->read_available(buffer)) co_return s->end(Error{errno_text("read " + s->path)});
      struct stat now {};
      if (::stat(s->path.c_str(), &now) == 0 && (now.st_dev != s->dev || now.st_ino != s->ino)) {
        // Rotated: the old file was read to its end above; continue with the new one.
        s->finish(s->splitter);
        s->close_file();
        continue;
      }
    }
    if (s->stopped) co_return;
    error_code ec;
    s->timer.expires_after(s->options.poll_interval);
    co_await s->timer.async_wait(with(ec));
    if (s->stopped) co_return;
  }
}

// ---- UDP ----

struct UdpState : SourceState {
  explicit UdpState(asio::any_io_executor ex) : SourceState(ex), socket(ex) {}
  void close() {
    error_code ignored;
    socket.close(ignored);
  }
  std::string describe() const { return "udp port " + std::to_string(port()); }
  uint16_t port() const {
    error_code ec;
    return socket.local_endpoint(ec).port();
  }
  uint64_t dropped_datagrams() const { return dropped.load(std::memory_order_relaxed); }
  // Reads the kernel's drop count of the socket (SO_MEMINFO: the drops so far, whether or not a
  // datagram arrived since).
  void count_drops() {
    uint32_t meminfo[SK_MEMINFO_VARS] = {};
    socklen_t size = sizeof meminfo;
    if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_MEMINFO, meminfo, &size) == 0 &&
        size > SK_MEMINFO_DROPS * sizeof(uint32_t)) {
      dropped.store(meminfo[SK_MEMINFO_DROPS], std::memory_order_relaxed);
    }
  }
  udp::socket socket;
  std::atomic<uint64_t> dropped{0};
};

// Datagrams read per readiness wake-up, so a flood leaves the flush timer its turn.
constexpr int datagrams_per_wake = 256;

// Reads the datagrams waiting (up to datagrams_per_wake), then the drop count. False on a read
// error (errno).
bool read_datagrams(UdpState& s, std::string& buffer) {
  for (int i = 0; i < datagrams_per_wake && !s.stopped; ++i) {
    const ssize_t n = ::recv(s.socket.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    if (n < 0) break;
    s.deliver(std::string_view(buffer.data(), static_cast<size_t>(n)));
  }
  if (!s.stopped) s.count_drops();
  return true;
}

Task<void> run_udp(std::shared_ptr<UdpState> s) {
  std::string buffer(65536, '\0');
  for (;;) {
    error_code ec;
    co_await s->socket.async_wait(udp::socket::wait_read, with(ec));
    if (s->stopped) co_return;
    if (ec) co_return s->end(Error{"udp receive: " + ec.message()});
    if (!read_datagrams(*s, buffer)) co_return s->end(Error{errno_text("udp receive")});
  }
}

// ---- the in-process queue ----

struct QueueState : SourceState {
  QueueState(asio::any_io_executor ex, std::shared_ptr<event_log::LineQueue> q, std::chrono::milliseconds g)
      : SourceState(ex), queue(std::move(q)), gather(g), timer(std::move(ex)) {}
  void take_and_deliver() {
    queue->take(batch);
    if (!batch.empty()) deliver(batch);
  }
  // The writers have stopped by now (see open_queue_source): what is left goes to the handler.
  void close() {
    queue->on_ready({});
    timer.cancel();
    queue->take(batch);
    if (!batch.empty() && on_lines) on_lines(batch);
  }
  std::string describe() const { return "in-process queue"; }
  std::shared_ptr<event_log::LineQueue> queue;
  const std::chrono::milliseconds gather;
  asio::steady_timer timer;  // the wait before a take; used on the executor only
  std::string batch;
};

Task<void> run_queue(std::shared_ptr<QueueState> s) {
  // Woken on a writer's thread: the lines are taken on this source's executor, `gather` later.
  // The queue wakes no one again until they are taken, so a busy server costs one wake-up and one
  // take per `gather` instead of a cross-thread hop per search (docs/benchmarks.md §25).
  s->queue->on_ready([weak = std::weak_ptr<QueueState>(s), executor = s->executor] {
    asio::post(executor, [weak] {
      auto state = weak.lock();
      if (!state || state->stopped) return;
      state->timer.expires_after(state->gather);
      state->timer.async_wait([weak](const error_code& ec) {
        if (ec) return;  // cancelled: the source stopped, and close() took the rest
        if (auto alive = weak.lock()) alive->take_and_deliver();
      });
    });
  });
  co_return;
}

// ---- TCP ----

struct TcpState : SourceState {
  TcpState(asio::any_io_executor ex, size_t max) : SourceState(ex), acceptor(ex), max_clients(max) {}
  void close() {
    error_code ignored;
    acceptor.close(ignored);
    for (auto& client : clients) client->close(ignored);
  }
  std::string describe() const { return "tcp port " + std::to_string(port()); }
  uint16_t port() const {
    error_code ec;
    return acceptor.local_endpoint(ec).port();
  }
  tcp::acceptor acceptor;
  size_t max_clients;
  std::list<std::shared_ptr<tcp::socket>> clients;
};

Task<void> run_tcp_client(std::shared_ptr<TcpState> s, std::list<std::shared_ptr<tcp::socket>>::iterator it) {
  std::shared_ptr<tcp::socket> socket = *it;
  LineSplitter splitter;
  std::string buffer(read_size, '\0');
  for (;;) {
    error_code ec;
    const size_t n = co_await socket->async_read_some(asio::buffer(buffer), with(ec));
    if (s->stopped) co_return;
    if (n > 0) s->feed(splitter, std::string_view(buffer.data(), n));
    if (ec) break;  // end of stream or a reset: this client is done
  }
  s->finish(splitter);
  s->clients.erase(it);
}

Task<void> run_tcp(std::shared_ptr<TcpState> s) {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await s->acceptor.async_accept(with(ec));
    if (s->stopped) co_return;
    if (ec) {
      if (ec == asio::error::no_descriptors || ec == asio::error::connection_aborted) continue;
      co_return s->end(Error{"tcp accept: " + ec.message()});
    }
    if (s->clients.size() >= s->max_clients) continue;  // closed as `socket` goes out of scope
    s->clients.push_front(std::make_shared<tcp::socket>(std::move(socket)));
    asio::co_spawn(s->executor, run_tcp_client(s, s->clients.begin()), asio::detached);
  }
}

// ---- the views stream in Redis ----

struct StreamState : SourceState {
  StreamState(asio::any_io_executor ex, redis::ConnectionOptions connection, StreamSourceOptions o)
      : SourceState(ex), redis(ex, std::move(connection)), timer(ex), options(std::move(o)) {}
  void close() {
    redis.stop();
    timer.cancel();
  }
  std::string describe() const {
    return fmt::format("redis stream {} (partition {})", projection::keys::views_stream(), options.partition);
  }
  // Logs the first failure of a streak; the source keeps trying.
  void failed(std::string_view what, std::string_view message) {
    if (!failing) spdlog::warn("reel views: {} failed, retrying: {}", what, message);
    failing = true;
  }
  // Hands the entries of an XREAD reply over as lines, moving the position past each.
  void deliver_entries(const redis::Reply& entries) {
    batch.clear();
    std::string_view last_id;
    for (const redis::Reply& element : entries.elements()) {
      if (!element.is_array() || element.elements().empty()) continue;
      last_id = element.elements()[0].str();
      auto entry = redis::parse_stream_entry(element);
      if (!entry || entry->fields.empty()) continue;
      const std::string& line = entry->fields.front().second;
      if (line.size() > max_line_bytes) {
        ++oversized;
        continue;
      }
      batch.append(line).push_back('\n');
    }
    if (!batch.empty()) deliver(batch);
    if (!last_id.empty()) position->last_id.assign(last_id);
  }

  redis::Connection redis;
  asio::steady_timer timer;
  StreamSourceOptions options;
  std::shared_ptr<StreamPosition> position = std::make_shared<StreamPosition>();
  bool failing = false;
  std::string batch;
};

// The reply of a command, or an Error for a failed call or an error reply.
Result<redis::Reply> answer(Result<redis::Reply> reply) {
  if (reply && reply->is_error()) return Error{std::string(reply->str())};
  return reply;
}

Task<void> run_stream(std::shared_ptr<StreamState> s) {
  s->redis.start();
  auto wait_to_retry = [s]() -> Task<void> {
    s->timer.expires_after(s->options.retry_after);
    error_code ignored;
    co_await s->timer.async_wait(with(ignored));
  };
  while (s->position->last_id.empty()) {
    // A partition without a cursor claims the stream's start first: the trim keeps every entry
    // from the slowest cursor on, so until this one commits, the others' commits must not trim
    // entries it has not read.
    std::vector<redis::Command> claim_and_read;
    claim_and_read.emplace_back("HSETNX", projection::keys::views_cursors(), s->options.partition, "0-0");
    claim_and_read.emplace_back("HGET", projection::keys::views_cursors(), s->options.partition);
    auto replies = co_await s->redis.execute(std::move(claim_and_read));
    if (s->stopped) co_return;
    Result<redis::Reply> cursor =
        replies ? answer(std::move(replies->back())) : Result<redis::Reply>(replies.error());
    if (cursor && (*replies)[0].is_error()) cursor = Error{std::string((*replies)[0].str())};
    if (cursor) {
      s->position->last_id = cursor->is_nil() ? "0-0" : std::string(cursor->str());
    } else {
      s->failed("reading the stream cursor", cursor.error().message);
      co_await wait_to_retry();
      if (s->stopped) co_return;
    }
  }
  s->failing = false;
  for (;;) {
    redis::Command read("XREAD", "COUNT", s->options.entries_per_read, "BLOCK", s->options.block.count(),
                        "STREAMS", projection::keys::views_stream(), s->position->last_id);
    auto reply = answer(co_await s->redis.execute(std::move(read)));
    if (s->stopped) co_return;
    if (!reply) {
      s->failed("reading the views stream", reply.error().message);
      co_await wait_to_retry();
      if (s->stopped) co_return;
      continue;
    }
    s->failing = false;
    // [[key, [entry, ...]]], or nil when nothing came within the block time.
    if (!reply->is_array() || reply->elements().empty()) continue;
    const redis::Reply& stream = reply->elements()[0];
    if (stream.is_array() && stream.elements().size() == 2 && stream.elements()[1].is_array()) {
      s->deliver_entries(stream.elements()[1]);
    }
  }
}

template <class Protocol>
Result<typename Protocol::endpoint> resolve(asio::any_io_executor executor, const HostPort& address) {
  typename Protocol::resolver resolver(executor);
  error_code ec;
  auto results = resolver.resolve(address.host, std::to_string(address.port), ec);
  if (ec || results.empty()) {
    return Error{"cannot resolve " + address.host + ": " + (ec ? ec.message() : "no address")};
  }
  return results.begin()->endpoint();
}

std::string where(const HostPort& address) {
  return address.host + ":" + std::to_string(address.port);
}

}  // namespace

void LineSplitter::feed(std::string_view bytes, const LineHandler& on_lines) {
  while (!bytes.empty()) {
    const size_t newline = bytes.find('\n');
    if (discarding_) {
      if (newline == std::string_view::npos) return;
      bytes.remove_prefix(newline + 1);
      discarding_ = false;
      continue;
    }
    if (!partial_.empty()) {
      const size_t take = newline == std::string_view::npos ? bytes.size() : newline + 1;
      if (partial_.size() + take > max_line_ + 1) {
        ++oversized_;
        partial_.clear();
        discarding_ = newline == std::string_view::npos;
      } else {
        partial_.append(bytes.substr(0, take));
        if (newline != std::string_view::npos) {
          on_lines(partial_);
          partial_.clear();
        }
      }
      bytes.remove_prefix(take);
      continue;
    }
    const size_t last = bytes.rfind('\n');
    if (last != std::string_view::npos) {
      on_lines(bytes.substr(0, last + 1));
      bytes.remove_prefix(last + 1);
    }
    if (bytes.size() > max_line_) {
      ++oversized_;
      discarding_ = true;
    } else {
      partial_.assign(bytes);
    }
    return;
  }
}

void LineSplitter::finish(const LineHandler& on_lines) {
  if (!partial_.empty()) on_lines(partial_);
  reset();
}

void LineSplitter::reset() {
  partial_.clear();
  discarding_ = false;
}

Result<std::unique_ptr<Source>> open_fd_source(asio::any_io_executor executor, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error{errno_text("stdin")};
  const int owned = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (owned < 0) return Error{errno_text("stdin")};
  auto state = std::make_shared<FdState>(executor, owned, S_ISREG(st.st_mode));
  return std::unique_ptr<Source>(std::make_unique<StateSource<FdState, run_fd>>(std::move(state)));
}

Result<std::unique_ptr<Source>> open_follow_source(asio::any_io_executor executor, std::string path,
                                                   FollowOptions options) {
  if (path.empty()) return Error{"follow: no file named"};
  auto state = std::make_shared<FollowState>(executor, std::move(path), options);
  return std::unique_ptr<Source>(std::make_unique<StateSource<FollowState, run_follow>>(std::move(state)));
}

Result<std::unique_ptr<Source>> open_udp_source(asio::any_io_executor executor, const HostPort& address) {
  auto endpoint = resolve<udp>(executor, address);
  if (!endpoint) return endpoint.error();
  auto state = std::make_shared<UdpState>(executor);
  error_code ec;
  state->socket.open(endpoint->protocol(), ec);
  if (!ec) {
    error_code ignored;  // a smaller receive buffer than asked for is fine
    state->socket.set_option(udp::socket::receive_buffer_size(4 << 20), ignored);
    state->socket.bind(*endpoint, ec);
  }
  if (ec) return Error{"udp " + where(address) + ": " + ec.message()};
  return std::unique_ptr<Source>(std::make_unique<StateSource<UdpState, run_udp>>(std::move(state)));
}

std::unique_ptr<Source> open_queue_source(asio::any_io_executor executor,
                                          std::shared_ptr<event_log::LineQueue> queue,
                                          std::chrono::milliseconds gather) {
  auto state = std::make_shared<QueueState>(executor, std::move(queue), gather);
  return std::make_unique<StateSource<QueueState, run_queue>>(std::move(state));
}

Result<std::unique_ptr<Source>> open_tcp_source(asio::any_io_executor executor, const HostPort& address,
                                                size_t max_clients) {
  auto endpoint = resolve<tcp>(executor, address);
  if (!endpoint) return endpoint.error();
  auto state = std::make_shared<TcpState>(executor, max_clients);
  error_code ec;
  state->acceptor.open(endpoint->protocol(), ec);
  if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(*endpoint, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"tcp " + where(address) + ": " + ec.message()};
  return std::unique_ptr<Source>(std::make_unique<StateSource<TcpState, run_tcp>>(std::move(state)));
}

StreamInput open_stream_source(asio::any_io_executor executor, redis::ConnectionOptions connection,
                               StreamSourceOptions options) {
  // A blocked XREAD must not count as a timed-out command.
  connection.command_timeout += options.block;
  auto state = std::make_shared<StreamState>(executor, std::move(connection), std::move(options));
  std::shared_ptr<const StreamPosition> position = state->position;
  return {std::make_unique<StateSource<StreamState, run_stream>>(std::move(state)), std::move(position)};
}

}  // namespace reel::views
