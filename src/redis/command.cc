#include "redis/command.h"

namespace reel::redis {

Command& Command::arg(double v) {
  // Shortest text that reads back as the same double; infinities as "inf"/"-inf", as Redis expects.
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  args_.emplace_back(buf, end);
  return *this;
}

}  // namespace reel::redis
