#include "redis/client.h"

namespace reel::redis {
namespace {

std::unique_ptr<Connection> open_if(const asio::any_io_executor& executor,
                                    std::optional<ConnectionOptions>& options) {
  if (!options) return nullptr;
  return std::make_unique<Connection>(executor, std::move(*options));
}

}  // namespace

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : writer_(executor, std::move(options.write)),
      reader_(open_if(executor, options.read)),
      sessions_(open_if(executor, options.sessions)),
      session_reader_(sessions_ ? open_if(executor, options.sessions_read) : nullptr) {}

void Client::start() {
  writer_.start();
  for (Connection* connection : {reader_.get(), sessions_.get(), session_reader_.get()}) {
    if (connection != nullptr) connection->start();
  }
}

void Client::stop() {
  writer_.stop();
  for (Connection* connection : {reader_.get(), sessions_.get(), session_reader_.get()}) {
    if (connection != nullptr) connection->stop();
  }
}

}  // namespace reel::redis
