#include "projection/replica_read.h"

#include <string>

namespace reel::projection {

Result<std::vector<redis::Reply>> checked(Result<std::vector<redis::Reply>> replies) {
  if (!replies) return replies;
  for (const auto& reply : *replies) {
    if (reply.is_error()) return Error{"redis: " + std::string(reply.str())};
  }
  return replies;
}

Task<Result<std::vector<redis::Reply>>> read_with_fallback(redis::Connection& replica,
                                                           redis::Connection* primary,
                                                           std::vector<redis::Command> commands) {
  if (primary == nullptr || primary == &replica)
    co_return checked(co_await replica.execute(std::move(commands)));
  std::vector<redis::Command> again = commands;
  auto replies = checked(co_await replica.execute(std::move(commands)));
  if (replies) co_return replies;
  co_return checked(co_await primary->execute(std::move(again)));
}

}  // namespace reel::projection
