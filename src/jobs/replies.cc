#include "jobs/replies.h"

#include <fmt/format.h>

namespace reel::jobs::detail {

Status check_exec(const std::vector<redis::Reply>& replies, std::string_view what) {
  if (replies.empty()) return Error{fmt::format("{} failed: no reply", what)};
  const redis::Reply& exec = replies.back();
  if (exec.is_error() || !exec.is_array()) {
    return Error{fmt::format("{} failed: {}", what, exec.is_nil() ? "transaction aborted" : exec.str())};
  }
  for (const redis::Reply& reply : exec.elements()) {
    if (reply.is_error()) return Error{fmt::format("{} failed: {}", what, reply.str())};
  }
  return {};
}

}  // namespace reel::jobs::detail
