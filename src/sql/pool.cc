#include "sql/pool.h"

#include <algorithm>

namespace reel::sql {

Result<std::unique_ptr<Pool>> Pool::open(const Options& options, size_t threads) {
  std::vector<std::unique_ptr<Connection>> connections;
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
    Result<std::unique_ptr<Connection>> connection = sql::open(options);
    if (!connection.ok()) return connection.error();
    connections.push_back(std::move(*connection));
  }
  return std::unique_ptr<Pool>(new Pool(std::move(connections)));
}

}  // namespace reel::sql
