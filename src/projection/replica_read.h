// Reads of the read models (RedisReadModel, RedisCommunityReadModel) on a Redis replica, with the
// primary as the fallback: one policy for every page, so a replica's fault (down, frozen, cut off,
// still loading) costs a page at most a command timeout, never an error page, wherever it reads.
// Thread-safety: as the connections given (one event loop). Failure: see each function.
#pragma once

#include <vector>

#include "common/asio.h"
#include "common/result.h"
#include "redis/connection.h"

namespace reel::projection {

// `replies` as they are; an Error when the batch failed or any of its replies is a Redis error (a
// failure of the read).
Result<std::vector<redis::Reply>> checked(Result<std::vector<redis::Reply>> replies);

// The replies of `commands` from `replica`, checked(); when that fails (a transport error or an
// error reply), once more from `primary`. An Error, and no second try, when `primary` is null or
// `replica` itself, or when both fail. Both connections must outlive the returned task.
Task<Result<std::vector<redis::Reply>>> read_with_fallback(redis::Connection& replica,
                                                           redis::Connection* primary,
                                                           std::vector<redis::Command> commands);

}  // namespace reel::projection
