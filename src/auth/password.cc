#include "auth/password.h"

#include <sodium.h>

#include <array>
#include <functional>

namespace reel::auth {

Result<PasswordHasher> PasswordHasher::create(PasswordCost cost) {
  if (sodium_init() < 0) return Error{"libsodium failed to initialize"};
  std::array<char, 32> random{};
  randombytes_buf(random.data(), random.size());
  PasswordHasher hasher(cost, "");
  Result<std::string> dummy = hasher.hash(std::string_view(random.data(), random.size()));
  if (!dummy) return dummy.error();
  hasher.dummy_ = std::move(*dummy);
  return hasher;
}

Result<std::string> PasswordHasher::hash(std::string_view password) const {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str(out.data(), password.data(), password.size(), cost_.opslimit, cost_.memlimit) != 0) {
    return Error{"hashing a password failed (out of memory?)"};
  }
  return std::string(out.data());
}

PasswordCheck PasswordHasher::verify(std::string_view stored, std::string_view password) const {
  const bool real = !stored.empty() && stored.size() < crypto_pwhash_STRBYTES;
  // crypto_pwhash_str_verify wants a NUL-terminated string.
  const std::string hash(real ? stored : std::string_view(dummy_));
  const bool matches = crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0 && real;
  if (!matches) return {};
  return {true, crypto_pwhash_str_needs_rehash(hash.c_str(), cost_.opslimit, cost_.memlimit) != 0};
}

Task<Result<std::string>> PasswordHasher::hash(WorkPool& pool, std::string password) const {
  std::function<Result<std::string>(size_t)> job = [this, password = std::move(password)](size_t) {
    return hash(std::string_view(password));
  };
  co_return co_await pool.run<std::string>(std::move(job));
}

Task<Result<PasswordCheck>> PasswordHasher::verify(WorkPool& pool, std::string stored,
                                                   std::string password) const {
  std::function<Result<PasswordCheck>(size_t)> job = [this, stored = std::move(stored),
                                                      password = std::move(password)](size_t) {
    return Result<PasswordCheck>(verify(std::string_view(stored), std::string_view(password)));
  };
  co_return co_await pool.run<PasswordCheck>(std::move(job));
}

}  // namespace reel::auth
