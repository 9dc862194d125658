// ScriptedPeer: a fake Redis server for unit tests. It listens on 127.0.0.1 (a free port) on the
// test's io_context; serve() accepts the next connection and plays a script on it: for each step it
// reads exactly the expected bytes, records a failure if they differ, and writes the scripted reply.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "redis/connection.h"

namespace reel::redis::testing {

class ScriptedPeer {
 public:
  struct Step {
    std::string expect;   // bytes the client must send next
    std::string reply{};  // bytes written back (may be empty)
  };
  // What the peer does with the connection once the script is played.
  enum class Then { keep_open, close, await_client_close };

  explicit ScriptedPeer(asio::io_context& io) : acceptor_(io) { listen(0); }

  Endpoint endpoint() const { return Endpoint{"127.0.0.1", port_}; }

  // Accepts the next connection and plays `script` on it in the background.
  void serve(std::vector<Step> script, Then then = Then::keep_open) {
    asio::co_spawn(acceptor_.get_executor(), play(std::move(script), then), asio::detached);
  }

  // Stops listening and closes every accepted connection: the client sees the server go away.
  void go_down() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (const auto& socket : sockets_) socket->close(ignored);
  }
  // Listens again on the same port.
  void come_back() { listen(port_); }

  int scripts_finished() const { return scripts_finished_; }
  bool saw_client_close() const { return saw_client_close_; }
  const std::vector<std::string>& failures() const { return failures_; }

 private:
  void listen(uint16_t port) {
    const asio::ip::tcp::endpoint at(asio::ip::make_address("127.0.0.1"), port);
    acceptor_.open(at.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
  }

  Task<void> play(std::vector<Step> script, Then then) {
    boost::system::error_code ec;
    auto capture = asio::redirect_error(asio::use_awaitable, ec);
    auto socket = std::make_shared<asio::ip::tcp::socket>(co_await acceptor_.async_accept(capture));
    if (ec) {
      failures_.push_back("accept: " + ec.message());
      co_return;
    }
    sockets_.push_back(socket);
    for (const Step& step : script) {
      std::string received(step.expect.size(), '\0');
      co_await asio::async_read(*socket, asio::buffer(received), capture);
      if (!ec && received != step.expect) {
        failures_.push_back("expected '" + step.expect + "', got '" + received + "'");
        co_return;
      }
      if (!ec && !step.reply.empty()) co_await asio::async_write(*socket, asio::buffer(step.reply), capture);
      if (ec) {
        failures_.push_back("read or write: " + ec.message());
        co_return;
      }
    }
    if (then == Then::close) socket->close(ec);
    if (then == Then::await_client_close) {
      char byte;
      co_await socket->async_read_some(asio::buffer(&byte, 1), capture);
      saw_client_close_ = ec == asio::error::eof;
    }
    ++scripts_finished_;
  }

  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets_;
  std::vector<std::string> failures_;
  int scripts_finished_ = 0;
  bool saw_client_close_ = false;
};

}  // namespace reel::redis::testing
