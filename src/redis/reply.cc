#include "redis/reply.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <string>

namespace reel::redis {

Reply Reply::make_nil() {
  return Reply();
}

Reply Reply::make_string(std::string s) {
  Reply r;
  r.type_ = Type::string;
  r.text_ = std::move(s);
  return r;
}

Reply Reply::make_status(std::string s) {
  Reply r;
  r.type_ = Type::status;
  r.text_ = std::move(s);
  return r;
}

Reply Reply::make_error(std::string s) {
  Reply r;
  r.type_ = Type::error;
  r.text_ = std::move(s);
  return r;
}

Reply Reply::make_integer(int64_t v) {
  Reply r;
  r.type_ = Type::integer;
  r.integer_ = v;
  return r;
}

Reply Reply::make_array(std::vector<Reply> elements) {
  Reply r;
  r.type_ = Type::array;
  r.elements_ = std::move(elements);
  return r;
}

int64_t Reply::integer() const {
  switch (type_) {
    case Type::integer:
    case Type::boolean:
      return integer_;
    case Type::string:
    case Type::status: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
      return ec == std::errc() && end == text_.data() + text_.size() ? v : 0;
    }
    default:
      return 0;
  }
}

double Reply::number() const {
  switch (type_) {
    case Type::integer:
      return static_cast<double>(integer_);
    case Type::string:
    case Type::status:
    case Type::double_: {
      // Redis writes scores as "3.5", "inf" or "-inf"; from_chars reads all of them.
      double v = 0;
      auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
      return ec == std::errc() && end == text_.data() + text_.size() ? v : 0;
    }
    default:
      return 0;
  }
}

Status check_exec(const std::vector<Reply>& replies, std::string_view what) {
  auto failed = [what](std::string_view reason) {
    return Error{std::string(what) + " failed: " + std::string(reason)};
  };
  if (replies.empty()) return failed("no reply");
  for (const Reply& reply : replies) {
    if (reply.is_error()) return failed(reply.str());
  }
  const Reply& exec = replies.back();
  if (!exec.is_array()) return failed(exec.is_nil() ? "transaction aborted" : exec.str());
  for (const Reply& reply : exec.elements()) {
    if (reply.is_error()) return failed(reply.str());
  }
  return {};
}

std::string_view info_field(std::string_view info, std::string_view name) {
  // Every field of INFO's text starts a line ("# Server\r\n" comes first), so matching after a
  // line break never takes the end of a longer name for it.
  const std::string field = fmt::format("\r\n{}:", name);
  const size_t at = info.find(field);
  if (at == std::string_view::npos) return {};
  const size_t begin = at + field.size();
  return info.substr(begin, info.find("\r\n", begin) - begin);
}

}  // namespace reel::redis
