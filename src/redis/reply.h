// Reply: one RESP reply, owned, immutable once built. Redis error replies are values
// (is_error()), not failures of the call; check_exec() turns a transaction's into a Status.
// Thread-safety: a value type; check_exec() is a pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace reel::redis {

class Reply {
 public:
  enum class Type { nil, string, status, error, integer, array, double_, boolean };

  Reply() = default;
  static Reply make_nil();
  static Reply make_string(std::string s);
  static Reply make_status(std::string s);
  static Reply make_error(std::string s);
  static Reply make_integer(int64_t v);
  static Reply make_array(std::vector<Reply> elements);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::nil; }
  bool is_error() const { return type_ == Type::error; }
  bool is_array() const { return type_ == Type::array; }
  // The text of a string, status or error reply (empty for others).
  std::string_view str() const { return text_; }
  // The value of an integer reply; a string reply holding an integer is parsed; 0 otherwise.
  int64_t integer() const;
  // The value of a double reply, or a string reply holding a number (e.g. a ZSCORE); 0 otherwise.
  double number() const;
  const std::vector<Reply>& elements() const { return elements_; }

 private:
  // Builds replies in place while parsing (redis/protocol.h), avoiding an intermediate tree.
  friend class ReplyReader;

  Type type_ = Type::nil;
  std::string text_;
  int64_t integer_ = 0;
  std::vector<Reply> elements_;
};

// The replies of a batch that ends with one MULTI ... EXEC (EXEC's reply last): an Error
// "<what> failed: <reason>" when the transaction was aborted or any command in the batch, or in
// the transaction, answered with an error.
Status check_exec(const std::vector<Reply>& replies, std::string_view what);

// The value of field `name` in the text of an INFO reply ("role" -> "master"); empty when absent.
// A view into `info`.
std::string_view info_field(std::string_view info, std::string_view name);

}  // namespace reel::redis
