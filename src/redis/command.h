// Command: the arguments of one Redis command, binary-safe.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reel::redis {

class Command {
 public:
  Command() = default;
  // Command("ZREVRANGE", key, 0, 29): strings, string_views and integers are accepted.
  template <class... Args>
  explicit Command(Args&&... args) {
    args_.reserve(sizeof...(Args));
    (arg(std::forward<Args>(args)), ...);
  }

  Command& arg(std::string_view a) {
    args_.emplace_back(a);
    return *this;
  }
  Command& arg(const std::string& a) {
    args_.emplace_back(a);
    return *this;
  }
  Command& arg(const char* a) {
    args_.emplace_back(a);
    return *this;
  }
  Command& arg(std::string&& a) {
    args_.emplace_back(std::move(a));
    return *this;
  }
  template <class Int>
  requires std::is_integral_v<Int> Command& arg(Int v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    args_.emplace_back(buf, end);
    return *this;
  }
  Command& arg(double v);

  const std::vector<std::string>& args() const { return args_; }

 private:
  std::vector<std::string> args_;
};

}  // namespace reel::redis
