#include "auth/redis_status.h"

#include <string>

namespace reel::auth {
namespace {

Error failed(std::string_view what, std::string_view reason, ErrorKind kind = ErrorKind::internal) {
  return Error{std::string(what) + " failed: " + std::string(reason), kind};
}

}  // namespace

Status redis_status(const Result<redis::Reply>& reply, std::string_view what) {
  if (!reply) return failed(what, reply.error().message, reply.error().kind);
  if (reply->is_error()) return failed(what, reply->str());
  return {};
}

Status redis_status(const Result<std::vector<redis::Reply>>& replies, std::string_view what) {
  if (!replies) return failed(what, replies.error().message, replies.error().kind);
  for (const redis::Reply& reply : *replies) {
    if (reply.is_error()) return failed(what, reply.str());
  }
  return {};
}

}  // namespace reel::auth
