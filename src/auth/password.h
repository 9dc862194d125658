// Passwords: Argon2id (libsodium's crypto_pwhash_str), hashed and verified off the event loops.
//
// A stored hash is crypto_pwhash_str's self-describing string ("$argon2id$v=19$m=...,t=...,p=1$..."),
// so hashes made with older costs keep verifying; verify() says when one should be replaced
// (needs_rehash: its cost differs from the configured one) and the sign-in path rehashes it then.
// The default cost is about 50 ms per hash on the development machine (docs/benchmarks.md,
// "Password hashing"); tests use minimum_password_cost.
//
// No user enumeration by timing: verify() of an account that does not exist, or has no password
// (deleted, or a channel made by `reel seed`), checks the password against a dummy hash of the same
// cost made at startup, so a sign-in takes as long whether the name exists or not.
//
// Thread-safety: a PasswordHasher is immutable after create(); share one among all event loops.
// The async calls run on the WorkPool the caller passes (one kept for hashing, so a burst of
// sign-ins queues behind itself, not behind SQL or file work); the hasher must outlive them.
// Failure: hash() returns an Error when libsodium cannot (out of memory for memlimit); verify()
// cannot fail (a malformed stored hash does not match). Async calls add the pool's stopped Error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/asio.h"
#include "common/result.h"
#include "common/work_pool.h"

namespace reel::auth {

// Argon2id's cost: passes over memory, and memory in bytes.
struct PasswordCost {
  uint64_t opslimit = 0;
  size_t memlimit = 0;
};

// About 45-50 ms per hash, 48 MiB each (see docs/benchmarks.md).
inline constexpr PasswordCost default_password_cost{2, size_t{48} << 20};
// libsodium's floor (crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN): for tests.
inline constexpr PasswordCost minimum_password_cost{1, 8192};

// Password length in bytes, as typed (any bytes; nothing is trimmed or normalized).
inline constexpr size_t min_password_bytes = 8;
inline constexpr size_t max_password_bytes = 1024;

struct PasswordCheck {
  bool matches = false;
  bool needs_rehash = false;  // matches, but hashed with another cost: store hash() of it again
};

class PasswordHasher {
 public:
  // Computes the dummy hash (one hash's time). Error when libsodium fails to start or hash.
  static Result<PasswordHasher> create(PasswordCost cost);

  const PasswordCost& cost() const { return cost_; }

  Result<std::string> hash(std::string_view password) const;
  // `stored` empty: the account cannot sign in; checked against the dummy hash, never matches.
  PasswordCheck verify(std::string_view stored, std::string_view password) const;

  // The same, on a pool thread.
  Task<Result<std::string>> hash(WorkPool& pool, std::string password) const;
  Task<Result<PasswordCheck>> verify(WorkPool& pool, std::string stored, std::string password) const;

 private:
  PasswordHasher(PasswordCost cost, std::string dummy) : cost_(cost), dummy_(std::move(dummy)) {}

  PasswordCost cost_;
  std::string dummy_;  // the hash of a random password with cost_
};

}  // namespace reel::auth
