#include "redis/client.h"

namespace reel::redis {

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : writer_(executor, std::move(options.write)) {
  if (options.read) reader_ = std::make_unique<Connection>(std::move(executor), std::move(*options.read));
}

void Client::start() {
  writer_.start();
  if (reader_) reader_->start();
}

void Client::stop() {
  writer_.stop();
  if (reader_) reader_->stop();
}

}  // namespace reel::redis
