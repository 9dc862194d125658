#include "projection/account_keys.h"

#include <fmt/format.h>

#include "projection/codec.h"
#include "projection/keys.h"

namespace reel::projection::account_keys {
namespace {

// KEYS[1] = the user's session set, ARGV[1] = session_prefix(). UNLINK: a session is small, but
// the set may name many.
constexpr std::string_view revoke_sessions_lua = R"lua(
for _, hash in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('UNLINK', ARGV[1] .. hash)
end
return redis.call('UNLINK', KEYS[1])
)lua";

}  // namespace

std::string user(int64_t id) {
  return fmt::format("{}{}", user_prefix(), id);
}
std::string_view user_prefix() {
  return "u:";
}
std::string user_sessions(int64_t id) {
  return fmt::format("{}{}", user_sessions_prefix(), id);
}
std::string_view user_sessions_prefix() {
  return "usess:";
}
std::string session(std::string_view id_hash) {
  return fmt::format("{}{}", session_prefix(), id_hash);
}
std::string_view session_prefix() {
  return "sess:";
}
std::string rate_window(std::string_view scope, std::string_view subject, int64_t window) {
  return fmt::format("rl:{}:{}:{}", scope, subject, window);
}
std::string sign_in_failures(std::string_view account, std::string_view client) {
  return fmt::format("signin:fail:{}:{}", account, client);
}
std::string sign_in_known(std::string_view account) {
  return fmt::format("signin:known:{}", account);
}

std::string user_pattern() {
  return std::string(user_prefix()) + "*";
}

redis::Command user_command(const catalog::User& user) {
  return redis::Command("HSET", account_keys::user(user.id), user_name_field, user.name,
                        user_display_name_field, user.display_name, user_role_field,
                        catalog::role_name(user.role), user_created_at_field, user.created_at);
}

std::string sessions_object(int64_t user_id) {
  return fmt::format("{}:{}", sessions_object_class, user_id);
}

redis::Command revoke_sessions_command(int64_t user_id) {
  return redis::Command("EVAL", revoke_sessions_lua, 1, user_sessions(user_id), session_prefix());
}

redis::Command revoke_sessions_delta(int64_t user_id) {
  return redis::Command(codec::delete_members_op, user_sessions(user_id), session_prefix());
}

std::vector<redis::Command> user_removal_commands(const catalog::User& user) {
  std::vector<redis::Command> commands;
  commands.emplace_back("DEL", account_keys::user(user.id), keys::channel(user.name));
  return commands;
}

}  // namespace reel::projection::account_keys
