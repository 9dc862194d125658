// Result<T>: a value or an Error carrying a message meant for an operator or a user, and a kind
// that says what a caller can do about it, so decisions never read the English message.
// Errors cross every component boundary as values; exceptions are not used on the request path.
// Thread-safety: a plain value type, like std::optional.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace reel {

// What a caller can do about an Error. Set where the error is made; wrappers that add context
// keep it (Error{"context: " + e.message, e.kind}) when the cause is still what decides.
enum class ErrorKind {
  internal,       // anything else: a fault of this system or of what it depends on; retrying may help
  invalid_input,  // what was sent is wrong (not a video, too long, too large): retrying cannot help
  not_found,      // what was named does not exist (or is not the caller's to see): 404
  forbidden,      // it exists, but the caller may not change it (not the comment's author, someone
                  // else's playlist): 403
};

struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::internal;
  // Set (with kind internal) by the SQL backends when the engine gave a statement or the whole
  // transaction up because of a concurrent transaction: a deadlock or a lock wait timeout (MariaDB
  // 1213, 1205), SQLite busy or locked. The transaction must be rolled back; running it again from
  // its start may succeed (writes::WritePath does, a few times). A flag rather than a kind because
  // to everyone else it is an internal error (503): only the code that owns the transaction can
  // re-run it. Wrappers that keep the kind keep it too when the cause is still what decides.
  bool conflict = false;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Precondition: !ok().
  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace reel
