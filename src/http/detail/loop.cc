#include "http/detail/loop.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iterator>

#include "common/asio.h"
#include "http/detail/body_file.h"

namespace reel::http::detail {

namespace {

using boost::system::error_code;

// accept() failing (EMFILE, ENFILE, ENOBUFS) is retried after this pause instead of spinning.
constexpr std::chrono::milliseconds accept_error_backoff{50};

}  // namespace

void LogEscape::operator()(std::exception_ptr failure) const {
  if (!failure) return;
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    spdlog::error("http: {} failed: {}", what, e.what());
  } catch (...) {
    spdlog::error("http: {} failed with an unknown exception", what);
  }
}

void TimeCache::refresh() {
  const std::time_t now = std::time(nullptr);
  if (now == second_) return;
  second_ = now;
  format_http_date(now, http_date_);
  std::tm utc{};
  gmtime_r(&now, &utc);
  iso_.clear();
  fmt::format_to(std::back_inserter(iso_), "{:%Y-%m-%dT%H:%M:%SZ}", utc);
}

// --- ServerState -----------------------------------------------------------------------------

ServerState::ServerState(ServerOptions options_in, HandlerFactory factory_in)
    : options(std::move(options_in)), factory(std::move(factory_in)) {
  if (options.threads < 1) options.threads = 1;
  options.upload_temp_dir = temp_dir_or_default(std::move(options.upload_temp_dir));
  metrics.add_source([this](std::string& out) {
    fmt::format_to(std::back_inserter(out),
                   "# HELP reel_http_connections Open client connections.\n"
                   "# TYPE reel_http_connections gauge\n"
                   "reel_http_connections {}\n",
                   connections.load(std::memory_order_relaxed));
  });
}

ServerState::~ServerState() = default;

void ServerState::stop() {
  stopping.store(true);
  for (auto& loop : loops) {
    asio::post(*loop->io, [target = loop.get()] { target->begin_drain(); });
  }
}

void ServerState::fail(Error error) {
  {
    std::lock_guard lock(failure_mutex);
    if (!failure) failure = std::move(error);
  }
  stop();
}

// --- Loop ------------------------------------------------------------------------------------

Loop::~Loop() {
  // Close the loop's own I/O objects and the handler (which may own connections of its own) while
  // the io_context lives; destroying the io_context then destroys the coroutines still suspended,
  // whose sessions unlink themselves from `sessions`.
  finished_ = true;
  acceptor.reset();
  signals_.reset();
  drain_timer_.reset();
  handler = nullptr;
  io.reset();
}

void Loop::start() {
  try {
    handler = server.factory(*io, index);
  } catch (const std::exception& e) {
    server.fail(
        Error{fmt::format("http server: the handler factory of loop {} failed: {}", index, e.what())});
    return;
  }
  if (!handler) {
    server.fail(Error{fmt::format("http server: the handler factory of loop {} returned no handler", index)});
    return;
  }
  asio::co_spawn(*io, accept_loop(), log_escape("accept loop"));
  if (access_log) asio::co_spawn(*io, flush_access_log_periodically(), log_escape("access log"));
  if (index == 0 && server.options.handle_signals) {
    signals_.emplace(*io, SIGINT, SIGTERM);
    signals_->async_wait([this](const error_code& ec, int signal_number) {
      if (ec) return;
      spdlog::info("http: signal {} received, draining", signal_number);
      server.stop();
    });
  }
}

Task<void> Loop::accept_loop() {
  for (;;) {
    error_code ec;
    asio::ip::tcp::socket socket = co_await acceptor->async_accept(redirect(ec));
    if (draining || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer backoff(*io, accept_error_backoff);
      co_await backoff.async_wait(redirect(ec));
      continue;
    }
    const size_t open = server.connections.fetch_add(1, std::memory_order_relaxed);
    Session::start(*this, std::move(socket), /*reject=*/open >= server.options.max_connections);
  }
}

void Loop::begin_drain() {
  if (draining) return;
  draining = true;
  error_code ec;
  if (acceptor) acceptor->close(ec);
  if (signals_) signals_->cancel(ec);
  for (Session& session : sessions) session.on_drain();
  if (sessions.empty()) {
    finish();
    return;
  }
  drain_timer_.emplace(*io, server.options.drain_timeout);
  drain_timer_->async_wait([this](const error_code& timer_error) {
    if (timer_error) return;
    if (!sessions.empty()) spdlog::warn("http: drain timed out; closing connections of loop {}", index);
    for (Session& session : sessions) session.close();
    // Sessions blocked on I/O unwind first (their completions are queued); a handler that never
    // returns is destroyed with the io_context.
    asio::post(*io, [this] { finish(); });
  });
}

void Loop::session_ended() {
  if (draining && sessions.empty()) finish();
}

void Loop::finish() {
  if (finished_) return;
  finished_ = true;
  if (drain_timer_) drain_timer_->cancel();
  io->stop();
}

Task<void> Loop::flush_access_log_periodically() {
  asio::steady_timer timer(*io);
  for (;;) {
    timer.expires_after(access_log_flush_interval);
    error_code ec;
    co_await timer.async_wait(redirect(ec));
    if (ec) co_return;
    access_log->flush();
  }
}

}  // namespace reel::http::detail
