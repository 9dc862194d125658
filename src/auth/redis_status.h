// The Status of one Redis call made by auth/: an Error "<what> failed: <reason>" when the call
// failed (keeping its kind) or Redis answered with an error; ok otherwise.
// Thread-safety: a pure function.
#pragma once

#include <string_view>

#include "common/result.h"
#include "redis/reply.h"

namespace reel::auth {

Status redis_status(const Result<redis::Reply>& reply, std::string_view what);
Status redis_status(const Result<std::vector<redis::Reply>>& replies, std::string_view what);

}  // namespace reel::auth
