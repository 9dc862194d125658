// UserStore: accounts in SQL (the `users` table: the only code besides CatalogStore that knows its
// columns). Plain typed reads and writes; what is valid and who may do what is auth/'s business,
// and the Redis projection is emitted by the writes that call this (auth/accounts.h).
//
// Thread-safety: as the Connection it wraps (one thread at a time).
// Failure: every call returns an Error with the engine's message; a missing user is not an error
// (nullopt, or false); a name or email already taken is an outcome of insert(), not an error.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "catalog/user.h"
#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql {

// Why insert() did not insert.
enum class UserConflict { none, name, email };

struct UserInsert {
  int64_t id = 0;                              // the new row's id when conflict == none
  UserConflict conflict = UserConflict::none;  // name wins when both are taken
};

class UserStore {
 public:
  explicit UserStore(Connection& connection) : db_(connection) {}

  // Inserts `user` (its id is ignored; deleted_at must be unset). A name or email held by any row,
  // deleted accounts included (their names stay taken: they were channel URLs), is a conflict.
  // Checked before inserting and again when the INSERT fails, so two concurrent inserts of one
  // name yield one row and one conflict (MariaDB; SQLite serializes writers anyway).
  Result<UserInsert> insert(const catalog::User& user);

  Result<std::optional<catalog::User>> find(int64_t id);
  Result<std::optional<catalog::User>> find_by_name(std::string_view name);

  // Each returns false when no row has that id.
  Result<bool> set_password_hash(int64_t id, std::string_view hash, int64_t changed_at);
  Result<bool> set_display_name(int64_t id, std::string_view display_name);
  Result<bool> set_role(int64_t id, catalog::Role role);
  // The account is gone: deleted_at set; email, password hash and display name cleared (the
  // person's data goes; the row stays so the name stays taken and references stay valid).
  Result<bool> mark_deleted(int64_t id, int64_t deleted_at);
  // Every account not deleted, in id order, read in batches (`reel rebuild accounts`).
  Status for_each_live(const std::function<void(const catalog::User&)>& user_fn);

 private:
  Result<std::optional<catalog::User>> find_where(std::string_view condition, Value key);
  Result<UserConflict> conflict_of(const catalog::User& user);

  Connection& db_;
};

}  // namespace reel::sql
