#include "redis/blocking_client.h"

#include <exception>
#include <optional>

#include "common/asio.h"
#include "common/log_failure.h"

namespace reel::redis {
namespace {

template <class T>
Task<void> store_result(Task<T> task, std::optional<T>& out) {
  out.emplace(co_await std::move(task));
}

// Runs `io` until `task` has finished. The connection's own coroutines (reader, reconnects) make
// progress meanwhile and pause in between calls.
template <class T>
T run_to_completion(asio::io_context& io, Task<T> task) {
  std::optional<T> result;
  bool finished = false;
  asio::co_spawn(io, store_result(std::move(task), result),
                 [&finished](std::exception_ptr) { finished = true; });
  io.restart();
  while (!finished && io.run_one() > 0) {
  }
  if (!result) return Error{"redis client: the call did not complete"};
  return std::move(*result);
}

}  // namespace

BlockingClient::BlockingClient(std::unique_ptr<asio::io_context> io, std::unique_ptr<Connection> connection,
                               ConnectionOptions options)
    : io_(std::move(io)), connection_(std::move(connection)), options_(std::move(options)) {}

BlockingClient& BlockingClient::operator=(BlockingClient&& other) noexcept {
  if (this != &other) {
    connection_.reset();  // before the event loop it lives on
    io_ = std::move(other.io_);
    connection_ = std::move(other.connection_);
    options_ = std::move(other.options_);
  }
  return *this;
}

BlockingClient::~BlockingClient() = default;

Result<BlockingClient> BlockingClient::connect(ConnectionOptions options) {
  auto io = std::make_unique<asio::io_context>(1);
  auto connection = std::make_unique<Connection>(io->get_executor(), options);
  connection->start();
  Result<Reply> pong = run_to_completion(*io, connection->execute(Command("PING")));
  if (!pong) return pong.error();
  if (pong->is_error()) return Error{"redis answered PING with an error: " + std::string(pong->str())};
  return BlockingClient(std::move(io), std::move(connection), std::move(options));
}

void BlockingClient::await_connection() {
  const auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
  io_->restart();
  while (!connection_->connected() && std::chrono::steady_clock::now() < deadline) {
    if (io_->run_one_until(deadline) == 0 && io_->stopped()) break;  // nothing left to run
  }
}

Result<std::vector<Reply>> BlockingClient::execute(std::vector<Command> commands) {
  await_connection();
  return run_to_completion(*io_, connection_->execute(std::move(commands)));
}

Result<Reply> BlockingClient::execute(Command command) {
  await_connection();
  return run_to_completion(*io_, connection_->execute(std::move(command)));
}

Result<bool> execute_unless_exists(BlockingClient& client, const std::string& key,
                                   std::vector<Command> transaction, std::string_view what) {
  auto unwatch = [&] { log_failure(client.execute(Command("UNWATCH")), std::string(what) + ": UNWATCH"); };
  std::vector<Command> check;
  check.emplace_back("WATCH", key);
  check.emplace_back("EXISTS", key);
  auto checked = client.execute(std::move(check));
  if (!checked) return Error{std::string(what) + " failed: " + checked.error().message};
  if (checked->size() != 2 || (*checked)[0].is_error() || (*checked)[1].is_error()) {
    unwatch();
    return Error{std::string(what) + " failed: WATCH or EXISTS answered with an error"};
  }
  if ((*checked)[1].integer() != 0) {
    unwatch();
    return false;
  }
  auto replies = client.execute(std::move(transaction));
  if (!replies) return Error{std::string(what) + " failed: " + replies.error().message};
  if (!replies->empty() && replies->back().is_nil()) return false;  // the key was written under WATCH
  if (auto applied = check_exec(*replies, what); !applied) return applied.error();
  return true;
}

}  // namespace reel::redis
