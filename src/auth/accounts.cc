#include "auth/accounts.h"

#include <fmt/format.h>

#include <vector>

#include "auth/validation.h"
#include "catalog/model.h"
#include "projection/account_keys.h"
#include "projection/projector.h"
#include "sql/user_store.h"

namespace reel::auth {
namespace {

namespace account_keys = projection::account_keys;

std::string object_of(int64_t user_id) {
  return fmt::format("user:{}", user_id);
}

redis::Command channel_of(const catalog::User& user) {
  return projection::channel_command(
      catalog::Channel{user.id, user.name, user.display_name, user.created_at});
}

// Ends every session of the user: a delta of the user's sessions object, which the write path
// applies on the sessions node when the site has one, after the user's own delta (lock order).
Status revoke_sessions(writes::Transaction& tx, int64_t user_id) {
  const std::string object = account_keys::sessions_object(user_id);
  if (Status locked = tx.lock(object); !locked) return locked.error();
  std::vector<redis::Command> commands{account_keys::revoke_sessions_delta(user_id)};
  tx.emit(object, std::move(commands));
  return {};
}

// Locks the user and reads it; nullopt when there is no such user or it was deleted.
Result<std::optional<catalog::User>> lock_live_user(writes::Transaction& tx, int64_t user_id) {
  if (user_id <= 0) return std::optional<catalog::User>{};
  if (Status locked = tx.lock(object_of(user_id)); !locked) return locked.error();
  Result<std::optional<catalog::User>> user = sql::UserStore(tx.db()).find(user_id);
  if (!user) return user.error();
  if (*user && (*user)->deleted_at) return std::optional<catalog::User>{};
  return user;
}

// Applies `change` to the locked live user's row, then emits its hash (and, with `channel`, its
// channel's hash) as the row now reads.
Result<bool> update_user(writes::Transaction& tx, int64_t user_id, bool channel,
                         const std::function<Result<bool>(sql::UserStore&)>& change) {
  Result<std::optional<catalog::User>> user = lock_live_user(tx, user_id);
  if (!user) return user.error();
  if (!*user) return false;
  sql::UserStore store(tx.db());
  if (Result<bool> changed = change(store); !changed) return changed.error();
  Result<std::optional<catalog::User>> updated = store.find(user_id);
  if (!updated) return updated.error();
  std::vector<redis::Command> commands{account_keys::user_command(**updated)};
  if (channel) commands.push_back(channel_of(**updated));
  tx.emit(object_of(user_id), std::move(commands));
  return true;
}

Task<Result<SignInCheck>> check_user(
    sql::Pool& sql, WorkPool& hashing, const PasswordHasher& hasher,
    std::function<Result<std::optional<catalog::User>>(sql::Connection&)> find, std::string password) {
  Result<std::optional<catalog::User>> user = co_await sql.run<std::optional<catalog::User>>(std::move(find));
  if (!user) co_return user.error();
  const bool live = *user && !(*user)->deleted_at;
  std::string stored = live ? (*user)->password_hash : std::string();
  Result<PasswordCheck> check = co_await hasher.verify(hashing, std::move(stored), std::move(password));
  if (!check) co_return check.error();
  if (!check->matches) co_return SignInCheck{};
  co_return SignInCheck{std::move(*user), check->needs_rehash};
}

}  // namespace

Result<NewAccount> prepare_registration(std::string_view username, std::string_view email,
                                        std::string_view password) {
  Result<std::string> name = normalize_username(username);
  if (!name) return name.error();
  Result<std::string> address = normalize_email(email);
  if (!address) return address.error();
  if (Status valid = check_password(password); !valid) return valid.error();
  return NewAccount{*name, std::move(*address), *name, catalog::Role::user};
}

Result<Registered> register_account(writes::Transaction& tx, const NewAccount& account,
                                    std::string_view password_hash, int64_t now) {
  catalog::User user;
  user.name = account.name;
  user.display_name = account.display_name;
  user.email = account.email;
  user.password_hash = std::string(password_hash);
  user.role = account.role;
  user.created_at = now;
  Result<sql::UserInsert> inserted = sql::UserStore(tx.db()).insert(user);
  if (!inserted) return inserted.error();
  if (inserted->conflict != sql::UserConflict::none) return Registered{};
  user.id = inserted->id;
  if (Status locked = tx.lock(object_of(user.id)); !locked) return locked.error();
  std::vector<redis::Command> commands{account_keys::user_command(user), channel_of(user)};
  tx.emit(object_of(user.id), std::move(commands));
  return Registered{std::move(user)};
}

Result<bool> change_password(writes::Transaction& tx, int64_t user_id, std::string_view password_hash,
                             int64_t now) {
  Result<std::optional<catalog::User>> user = lock_live_user(tx, user_id);
  if (!user) return user.error();
  if (!*user) return false;
  Result<bool> changed = sql::UserStore(tx.db()).set_password_hash(user_id, password_hash, now);
  if (!changed) return changed.error();
  if (Status revoked = revoke_sessions(tx, user_id); !revoked) return revoked.error();
  return true;
}

Result<bool> store_rehash(writes::Transaction& tx, int64_t user_id, std::string_view password_hash) {
  Result<std::optional<catalog::User>> user = lock_live_user(tx, user_id);
  if (!user) return user.error();
  if (!*user) return false;
  return sql::UserStore(tx.db()).set_password_hash(user_id, password_hash, (*user)->password_changed_at);
}

Result<bool> set_display_name(writes::Transaction& tx, int64_t user_id, std::string_view display_name) {
  return update_user(tx, user_id, true,
                     [&](sql::UserStore& store) { return store.set_display_name(user_id, display_name); });
}

Result<bool> set_role(writes::Transaction& tx, int64_t user_id, catalog::Role role) {
  return update_user(tx, user_id, false,
                     [&](sql::UserStore& store) { return store.set_role(user_id, role); });
}

Result<bool> delete_account(writes::Transaction& tx, int64_t user_id, int64_t now,
                            std::span<const AccountRemovalStep> steps) {
  Result<std::optional<catalog::User>> user = lock_live_user(tx, user_id);
  if (!user) return user.error();
  if (!*user) return false;
  for (const AccountRemovalStep& step : steps) {
    if (Status removed = step(tx, **user); !removed) return removed.error();
  }
  Result<bool> marked = sql::UserStore(tx.db()).mark_deleted(user_id, now);
  if (!marked) return marked.error();
  tx.emit(object_of(user_id), account_keys::user_removal_commands(**user));
  if (Status revoked = revoke_sessions(tx, user_id); !revoked) return revoked.error();
  return true;
}

Task<Result<SignInCheck>> check_sign_in(sql::Pool& sql, WorkPool& hashing, const PasswordHasher& hasher,
                                        std::string_view username, std::string password) {
  // A name that cannot exist is looked up anyway (as ""): it must cost what a real one costs.
  Result<std::string> name = normalize_username(username);
  std::function<Result<std::optional<catalog::User>>(sql::Connection&)> find =
      [name = name ? *name : std::string()](sql::Connection& db) {
        return sql::UserStore(db).find_by_name(name);
      };
  co_return co_await check_user(sql, hashing, hasher, std::move(find), std::move(password));
}

Task<Result<SignInCheck>> check_password_of(sql::Pool& sql, WorkPool& hashing, const PasswordHasher& hasher,
                                            int64_t user_id, std::string password) {
  std::function<Result<std::optional<catalog::User>>(sql::Connection&)> find =
      [user_id](sql::Connection& db) { return sql::UserStore(db).find(user_id); };
  co_return co_await check_user(sql, hashing, hasher, std::move(find), std::move(password));
}

}  // namespace reel::auth
