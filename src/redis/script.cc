#include "redis/script.h"

#include <fmt/format.h>

#include <boost/uuid/detail/sha1.hpp>

namespace reel::redis {
namespace {

// Boost 1.74's SHA1 (the one Boost.UUID uses for name-based UUIDs): no other Debian package Reel
// links offers SHA1. Its digest is five 32-bit words, most significant byte first.
std::string sha1_hex(const std::string& text) {
  boost::uuids::detail::sha1 hash;
  hash.process_bytes(text.data(), text.size());
  boost::uuids::detail::sha1::digest_type digest;
  hash.get_digest(digest);
  std::string hex;
  hex.reserve(40);
  for (unsigned word : digest) fmt::format_to(std::back_inserter(hex), "{:08x}", word);
  return hex;
}

Command script_command(std::string_view verb, const std::string& script_or_sha,
                       const std::vector<std::string>& keys, const std::vector<std::string>& args) {
  Command command;
  command.arg(verb).arg(script_or_sha).arg(keys.size());
  for (const auto& key : keys) command.arg(key);
  for (const auto& a : args) command.arg(a);
  return command;
}

}  // namespace

Script::Script(std::string source) : source_(std::move(source)), sha1_(sha1_hex(source_)) {}

Command Script::evalsha_command(const std::vector<std::string>& keys,
                                const std::vector<std::string>& args) const {
  return script_command("EVALSHA", sha1_, keys, args);
}

Command Script::eval_command(const std::vector<std::string>& keys,
                             const std::vector<std::string>& args) const {
  return script_command("EVAL", source_, keys, args);
}

bool Script::is_noscript(const Reply& reply) {
  return reply.is_error() && reply.str().starts_with("NOSCRIPT");
}

Task<Result<Reply>> Script::run(Connection& connection, std::vector<std::string> keys,
                                std::vector<std::string> args) const {
  Result<Reply> reply = co_await connection.execute(evalsha_command(keys, args));
  if (!reply || !is_noscript(*reply)) co_return std::move(reply);
  co_return co_await connection.execute(eval_command(keys, args));
}

}  // namespace reel::redis
