#include "sql/pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace reel::sql {

Result<std::unique_ptr<Pool>> Pool::open(const Options& options, size_t threads) {
  std::vector<std::unique_ptr<Connection>> connections;
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
    Result<std::unique_ptr<Connection>> connection = sql::open(options);
    if (!connection.ok()) return connection.error();
    connections.push_back(std::move(*connection));
  }
  return std::unique_ptr<Pool>(new Pool(options, std::move(connections)));
}

void Pool::reopen(size_t thread) {
  Result<std::unique_ptr<Connection>> fresh = sql::open(options_);
  if (!fresh.ok()) {
    spdlog::warn("SQL connection {} is gone and cannot be opened again yet: {}", thread,
                 fresh.error().message);
    return;
  }
  connections_[thread] = std::move(*fresh);
}

}  // namespace reel::sql
