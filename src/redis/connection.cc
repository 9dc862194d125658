#include "redis/connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <optional>

#include "common/asio.h"
#include "common/host_port.h"
#include "redis/protocol.h"

namespace reel::redis {

using asio::ip::tcp;
using boost::system::error_code;

namespace {

// Bytes asked of the socket per read; big pipelined batches arrive in chunks of this size.
constexpr size_t read_chunk_size = 64 * 1024;
// Initial capacity of the outgoing buffers: a page's ~30 commands fit without growing.
constexpr size_t initial_write_capacity = 16 * 1024;

auto capture_error(error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

// One execute() call: its replies, collected in order, and the timer its caller sleeps on. The timer
// expires at the command deadline and is cancelled to wake the caller once `done` is set.
struct Batch {
  Batch(const asio::any_io_executor& executor, size_t expected_replies)
      : wakeup(executor), expected(expected_replies) {
    replies.reserve(expected);
  }

  asio::steady_timer wakeup;
  size_t expected;
  std::vector<Reply> replies;
  std::optional<Error> error;  // set when the connection was lost with this batch in flight
  bool done = false;
};

// One TCP connection, from connecting to closed. A lost connection is never reused: the next one
// is a new Session, so late completions of the old one's operations cannot touch the new one.
struct Session {
  enum class State { opening, open, closed };

  explicit Session(const asio::any_io_executor& executor)
      : socket(executor),
        resolver(executor),
        connect_deadline(executor),
        writer_wakeup(executor),
        read_buffer(std::make_unique_for_overwrite<char[]>(read_chunk_size)) {
    pending.reserve(initial_write_capacity);
    writing.reserve(initial_write_capacity);
    writer_wakeup.expires_at(asio::steady_timer::time_point::max());
  }

  State state = State::opening;
  tcp::socket socket;
  tcp::resolver resolver;
  asio::steady_timer connect_deadline;
  bool connect_timed_out = false;
  // The writer sleeps on this timer (never expiring) while nothing is pending; cancel() wakes it.
  asio::steady_timer writer_wakeup;
  bool writer_idle = false;
  std::string pending;  // formatted commands not yet handed to the socket
  std::string writing;  // the bytes of the write in progress
  // Batches whose replies have not all arrived, in the order their commands were queued.
  std::deque<std::shared_ptr<Batch>> awaiting;
  ReplyReader reader;
  std::unique_ptr<char[]> read_buffer;
};

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view text) {
  auto parsed = parse_host_port(text);
  if (!parsed) return Error{"invalid redis endpoint: " + parsed.error().message};
  return Endpoint{std::move(parsed->host), parsed->port};
}

struct Connection::Impl {
  Impl(asio::any_io_executor executor_in, ConnectionOptions options_in)
      : executor(std::move(executor_in)),
        options(std::move(options_in)),
        name(fmt::format("{}:{}", options.endpoint.host, options.endpoint.port)),
        backoff_timer(executor),
        first_connect(executor) {}

  bool is_open() const { return session && session->state == Session::State::open; }

  // Connects, serves and reconnects until stop(). `keep_alive` holds this Impl for the loop.
  Task<void> run(std::shared_ptr<Impl> keep_alive);
  Task<Status> open(std::shared_ptr<Session> s);
  Task<Status> handshake(Session& s);
  Task<Result<Reply>> read_one_reply(Session& s);
  Task<void> write_loop(std::shared_ptr<Impl> keep_alive, std::shared_ptr<Session> s);
  Task<void> read_loop(std::shared_ptr<Session> s);
  // Hands every complete reply the reader holds to its batch; an Error means the stream is unusable.
  Status deliver_replies(Session& s);
  // Closes `s` and fails its in-flight batches; no-op when already closed.
  void close(Session& s, const std::string& reason);
  Task<Result<std::vector<Reply>>> submit(std::shared_ptr<Impl> keep_alive, const Command* commands,
                                          size_t count);

  asio::any_io_executor executor;
  ConnectionOptions options;
  std::string name;  // "host:port", for messages
  asio::steady_timer backoff_timer;
  // Callers arriving before the first connect attempt ends sleep on this; it expires at
  // start() + connect_timeout and is cancelled when the attempt ends.
  asio::steady_timer first_connect;
  std::shared_ptr<Session> session;  // the session being opened or open; null between attempts
  bool started = false;
  bool stopped = false;
  bool first_attempt_done = false;
  bool ever_connected = false;
  std::string last_error = "connection not started";
  // Read by stats() and connected() from any thread (e.g. /metrics on another event loop).
  struct Counters {
    std::atomic<uint64_t> round_trips{0}, commands{0}, errors{0}, reconnects{0};
  } stats;
  std::atomic<bool> open_now{false};
};

Task<void> Connection::Impl::run(std::shared_ptr<Impl> keep_alive) {
  std::chrono::milliseconds backoff = options.connect_backoff_min;
  while (!stopped) {
    auto s = std::make_shared<Session>(executor);
    session = s;
    Status opened = co_await open(s);
    if (!first_attempt_done) {
      first_attempt_done = true;
      first_connect.cancel();
    }
    if (stopped) break;
    if (!opened) {
      close(*s, opened.error().message);
      spdlog::debug("redis {}: {}; retrying in {} ms", name, last_error, backoff.count());
      backoff_timer.expires_after(backoff);
      error_code ec;
      co_await backoff_timer.async_wait(capture_error(ec));
      backoff = std::min(backoff * 2, options.connect_backoff_max);
      continue;
    }
    backoff = options.connect_backoff_min;
    if (ever_connected) {
      ++stats.reconnects;
      spdlog::info("redis {}: reconnected", name);
    }
    ever_connected = true;
    asio::co_spawn(executor, write_loop(keep_alive, s), asio::detached);
    co_await read_loop(s);
    if (!stopped) spdlog::warn("redis {}: connection lost: {}", name, last_error);
  }
}

Task<Status> Connection::Impl::open(std::shared_ptr<Session> s) {
  s->connect_deadline.expires_after(options.connect_timeout);
  s->connect_deadline.async_wait([s](error_code ec) {
    if (ec || s->state != Session::State::opening) return;
    s->connect_timed_out = true;
    s->resolver.cancel();
    error_code ignored;
    s->socket.close(ignored);
  });
  Status status = co_await handshake(*s);
  s->connect_deadline.cancel();
  if (s->connect_timed_out) {
    co_return Error{
        fmt::format("connecting to {} timed out after {} ms", name, options.connect_timeout.count())};
  }
  if (status && s->state == Session::State::opening) {
    s->state = Session::State::open;
    open_now = true;
  }
  co_return status;
}

Task<Status> Connection::Impl::handshake(Session& s) {
  error_code ec;
  const Endpoint& endpoint = options.endpoint;
  const auto address = asio::ip::make_address(endpoint.host, ec);
  if (!ec) {
    co_await s.socket.async_connect(tcp::endpoint(address, endpoint.port), capture_error(ec));
  } else {
    ec.clear();
    auto results =
        co_await s.resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), capture_error(ec));
    if (ec) co_return Error{fmt::format("cannot resolve {}: {}", name, ec.message())};
    co_await asio::async_connect(s.socket, results, capture_error(ec));
  }
  if (ec) co_return Error{fmt::format("cannot connect to {}: {}", name, ec.message())};
  s.socket.set_option(tcp::no_delay(true), ec);
  s.socket.set_option(asio::socket_base::keep_alive(true), ec);

  if (!options.password.empty()) {
    std::string auth;
    if (Status formatted = append_command(auth, Command("AUTH", options.password)); !formatted) {
      co_return formatted;
    }
    co_await asio::async_write(s.socket, asio::buffer(auth), capture_error(ec));
    if (ec) co_return Error{fmt::format("cannot send AUTH to {}: {}", name, ec.message())};
    Result<Reply> reply = co_await read_one_reply(s);
    if (!reply) co_return reply.error();
    if (reply->is_error()) co_return Error{fmt::format("{} refused AUTH: {}", name, reply->str())};
  }
  co_return Status{};
}

Task<Result<Reply>> Connection::Impl::read_one_reply(Session& s) {
  while (true) {
    auto next = s.reader.next();
    if (!next) co_return next.error();
    if (std::optional<Reply>& reply = *next) co_return std::move(*reply);
    error_code ec;
    const size_t n = co_await s.socket.async_read_some(asio::buffer(s.read_buffer.get(), read_chunk_size),
                                                       capture_error(ec));
    if (ec) co_return Error{fmt::format("reading from {}: {}", name, ec.message())};
    if (Status fed = s.reader.feed({s.read_buffer.get(), n}); !fed) co_return fed.error();
  }
}

Task<void> Connection::Impl::write_loop(std::shared_ptr<Impl> /*keep_alive*/, std::shared_ptr<Session> s) {
  while (s->state == Session::State::open) {
    error_code ec;
    if (s->pending.empty()) {
      s->writer_idle = true;
      co_await s->writer_wakeup.async_wait(capture_error(ec));
      s->writer_idle = false;
      continue;
    }
    // Everything queued since the last write goes out in this one.
    s->writing.swap(s->pending);
    ++stats.round_trips;
    co_await asio::async_write(s->socket, asio::buffer(s->writing), capture_error(ec));
    if (ec) {
      close(*s, "write failed: " + ec.message());
      co_return;
    }
    s->writing.clear();
  }
}

Task<void> Connection::Impl::read_loop(std::shared_ptr<Session> s) {
  while (s->state == Session::State::open) {
    error_code ec;
    const size_t n = co_await s->socket.async_read_some(asio::buffer(s->read_buffer.get(), read_chunk_size),
                                                        capture_error(ec));
    if (ec) {
      close(*s, ec == asio::error::eof ? "connection closed by the server" : "read failed: " + ec.message());
      co_return;
    }
    Status delivered = s->reader.feed({s->read_buffer.get(), n});
    if (delivered) delivered = deliver_replies(*s);
    if (!delivered) {
      close(*s, delivered.error().message);
      co_return;
    }
  }
}

Status Connection::Impl::deliver_replies(Session& s) {
  while (true) {
    auto next = s.reader.next();
    if (!next) return next.error();
    std::optional<Reply>& reply = *next;
    if (!reply) return {};
    if (s.awaiting.empty()) return Error{"redis protocol error: a reply nobody asked for"};
    Batch& batch = *s.awaiting.front();
    batch.replies.push_back(std::move(*reply));
    if (batch.replies.size() == batch.expected) {
      batch.done = true;
      batch.wakeup.cancel();
      s.awaiting.pop_front();
    }
  }
}

void Connection::Impl::close(Session& s, const std::string& reason) {
  if (s.state == Session::State::closed) return;
  if (s.state == Session::State::open) open_now = false;
  s.state = Session::State::closed;
  error_code ignored;
  s.resolver.cancel();
  s.socket.close(ignored);
  s.connect_deadline.cancel();
  s.writer_wakeup.cancel();
  for (const auto& batch : s.awaiting) {
    batch->error = Error{fmt::format("redis {}: connection lost: {}", name, reason)};
    batch->done = true;
    batch->wakeup.cancel();
  }
  s.awaiting.clear();
  s.pending.clear();
  if (session.get() == &s) session.reset();
  last_error = reason;
}

Task<Result<std::vector<Reply>>> Connection::Impl::submit(std::shared_ptr<Impl> /*keep_alive*/,
                                                          const Command* commands, size_t count) {
  if (count == 0) co_return std::vector<Reply>();
  if (started && !stopped && !first_attempt_done) {
    error_code ec;
    co_await first_connect.async_wait(capture_error(ec));
  }
  if (!is_open()) {
    ++stats.errors;
    co_return Error{fmt::format("redis unavailable: {}", last_error)};
  }

  const std::shared_ptr<Session> s = session;
  const size_t queued_before = s->pending.size();
  for (size_t i = 0; i < count; ++i) {
    if (Status appended = append_command(s->pending, commands[i]); !appended) {
      s->pending.resize(queued_before);  // a batch goes out whole or not at all
      ++stats.errors;
      co_return appended.error();
    }
  }
  auto batch = std::make_shared<Batch>(executor, count);
  s->awaiting.push_back(batch);
  stats.commands += count;
  if (s->writer_idle) s->writer_wakeup.cancel();

  batch->wakeup.expires_after(options.command_timeout);
  error_code ec;
  co_await batch->wakeup.async_wait(capture_error(ec));
  if (!batch->done) {
    // Later replies would be matched to the wrong callers, so the connection cannot be kept.
    const std::string reason = fmt::format("command timed out after {} ms", options.command_timeout.count());
    close(*s, reason);
    ++stats.errors;
    co_return Error{fmt::format("redis {}: {}", name, reason)};
  }
  if (batch->error) {
    ++stats.errors;
    co_return std::move(*batch->error);
  }
  co_return std::move(batch->replies);
}

Connection::Connection(asio::any_io_executor executor, ConnectionOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

Connection::~Connection() {
  stop();
}

void Connection::start() {
  Impl& impl = *impl_;
  if (impl.started || impl.stopped) return;
  impl.started = true;
  impl.last_error = "still connecting to " + impl.name;
  impl.first_connect.expires_after(impl.options.connect_timeout);
  asio::co_spawn(impl.executor, impl.run(impl_), asio::detached);
}

void Connection::stop() {
  Impl& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  if (const std::shared_ptr<Session> s = impl.session) impl.close(*s, "connection stopped");
  impl.last_error = "connection stopped";
  impl.backoff_timer.cancel();
  impl.first_connect.cancel();
}

Task<Result<std::vector<Reply>>> Connection::execute(std::vector<Command> commands) {
  std::shared_ptr<Impl> impl = impl_;
  co_return co_await impl->submit(impl, commands.data(), commands.size());
}

Task<Result<Reply>> Connection::execute(Command command) {
  std::shared_ptr<Impl> impl = impl_;
  Result<std::vector<Reply>> replies = co_await impl->submit(impl, &command, 1);
  if (!replies) co_return replies.error();
  co_return std::move(replies->front());
}

bool Connection::connected() const {
  return impl_->open_now.load(std::memory_order_relaxed);
}

ConnectionStats Connection::stats() const {
  const auto& s = impl_->stats;
  return {s.round_trips.load(std::memory_order_relaxed), s.commands.load(std::memory_order_relaxed),
          s.errors.load(std::memory_order_relaxed), s.reconnects.load(std::memory_order_relaxed)};
}

}  // namespace reel::redis
