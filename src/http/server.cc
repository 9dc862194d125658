// The public Server (server.h): binds one listening socket per event loop, runs the loops (one
// thread each, the first on the caller's), and stops them. The loops and their sessions live in
// detail/loop.h and detail/session.h; this file compiles without Beast.
#include "http/server.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "common/asio.h"
#include "http/detail/access_log.h"
#include "http/detail/loop.h"

namespace reel::http {

namespace {

using tcp = asio::ip::tcp;
using boost::system::error_code;

Result<tcp::endpoint> resolve(const std::string& host, uint16_t port) {
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  asio::io_context io;
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return Error{fmt::format("http server: cannot resolve {}: {}", host, ec ? ec.message() : "no address")};
  }
  return results.begin()->endpoint();
}

// A listening socket with SO_REUSEPORT, so every loop can own one on the same address.
Status listen(tcp::acceptor& acceptor, const tcp::endpoint& endpoint) {
  error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) {
    const int enable = 1;
    if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &enable, sizeof enable) != 0) {
      ec.assign(errno, boost::system::system_category());
    }
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error{fmt::format("http server: cannot listen on {}:{}: {}", endpoint.address().to_string(),
                             endpoint.port(), ec.message())};
  }
  return {};
}

}  // namespace

struct Server::Impl : detail::ServerState {
  using ServerState::ServerState;
};

Server::Server(ServerOptions options, HandlerFactory factory)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(factory))) {
  std::signal(SIGPIPE, SIG_IGN);
}

Server::~Server() = default;

Status Server::bind() {
  Impl& state = *impl_;
  if (state.bound) return {};
  auto endpoint = resolve(state.options.host, state.options.port);
  if (!endpoint) return endpoint.error();
  std::vector<std::unique_ptr<detail::Loop>> loops;
  for (int index = 0; index < state.options.threads; ++index) {
    auto loop = std::make_unique<detail::Loop>(state, index);
    loop->acceptor.emplace(*loop->io);
    Status listening = listen(*loop->acceptor, *endpoint);
    if (!listening) return listening;
    // Port 0: the first acceptor picked a free port; the others share it.
    if (index == 0) endpoint->port(loop->acceptor->local_endpoint().port());
    loops.push_back(std::move(loop));
  }
  if (!state.options.access_log.empty()) {
    auto logger = detail::open_access_log(state.options.access_log);
    if (!logger) return logger.error();
    for (auto& loop : loops) loop->access_log.emplace(*logger);
  }
  state.port = endpoint->port();
  state.loops = std::move(loops);
  state.bound = true;
  return {};
}

uint16_t Server::port() const {
  return impl_->port;
}

Status Server::run() {
  Impl& state = *impl_;
  if (state.ran) return Error{"http server: run() was already called"};
  if (Status bound = bind(); !bound) return bound;
  state.ran = true;
  if (state.stopping.load()) return {};
  for (auto& loop : state.loops) {
    asio::post(*loop->io, [target = loop.get()] { target->start(); });
  }
  auto run_loop = [&state](detail::Loop& loop) {
    try {
      loop.io->run();
    } catch (const std::exception& e) {
      state.fail(Error{fmt::format("http server: loop {} failed: {}", loop.index, e.what())});
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < state.loops.size(); ++i) {
    threads.emplace_back([&run_loop, loop = state.loops[i].get()] { run_loop(*loop); });
  }
  run_loop(*state.loops[0]);
  for (std::thread& thread : threads) thread.join();
  for (auto& loop : state.loops) {
    if (loop->access_log) loop->access_log->flush();
  }
  std::lock_guard lock(state.failure_mutex);
  if (state.failure) return *state.failure;
  return {};
}

void Server::stop() {
  impl_->stop();
}

Metrics& Server::metrics() {
  return impl_->metrics;
}

}  // namespace reel::http
