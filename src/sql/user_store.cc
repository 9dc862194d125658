#include "sql/user_store.h"

#include <fmt/format.h>

namespace reel::sql {
namespace {

constexpr std::string_view user_columns =
    "id, name, display_name, email, password_hash, role, created_at, password_changed_at, deleted_at";

catalog::User user_from(const Row& row) {
  catalog::User user;
  user.id = row.integer(0);
  user.name = row.text(1);
  user.display_name = row.text(2);
  user.email = row.text(3);
  user.password_hash = row.text(4);
  user.role = catalog::parse_role(row.text(5)).value_or(catalog::Role::user);
  user.created_at = row.integer(6);
  user.password_changed_at = row.integer(7);
  if (!row.is_null(8)) user.deleted_at = row.integer(8);
  return user;
}

// NULL for "": the UNIQUE email column allows any number of NULLs, not of "".
Value text_or_null(std::string_view text) {
  if (text.empty()) return std::monostate{};
  return std::string(text);
}

Result<bool> changed(Result<int64_t> rows) {
  if (!rows) return rows.error();
  return *rows > 0;
}

}  // namespace

Status UserStore::for_each_live(const std::function<void(const catalog::User&)>& user_fn) {
  const std::string sql = fmt::format(
      "SELECT {} FROM users WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT 5000", user_columns);
  int64_t after = 0;
  for (;;) {
    std::vector<catalog::User> batch;
    Status read = db_.query(sql, {after}, [&](const Row& row) {
      batch.push_back(user_from(row));
      return true;
    });
    if (!read.ok()) return read;
    for (const catalog::User& user : batch) user_fn(user);
    if (batch.size() < 5000) return {};
    after = batch.back().id;
  }
}

Result<UserConflict> UserStore::conflict_of(const catalog::User& user) {
  auto rows = db_.query_all("SELECT name FROM users WHERE name = ? OR email = ?",
                            {user.name, text_or_null(user.email)});
  if (!rows) return rows.error();
  if (rows->empty()) return UserConflict::none;
  for (const Row& row : *rows) {
    if (row.text(0) == user.name) return UserConflict::name;
  }
  return UserConflict::email;
}

Result<UserInsert> UserStore::insert(const catalog::User& user) {
  Result<UserConflict> before = conflict_of(user);
  if (!before) return before.error();
  if (*before != UserConflict::none) return UserInsert{0, *before};
  auto inserted = db_.execute(
      "INSERT INTO users (name, display_name, email, password_hash, role, created_at, password_changed_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      {user.name, user.display_name, text_or_null(user.email), text_or_null(user.password_hash),
       std::string(catalog::role_name(user.role)), user.created_at, user.password_changed_at});
  if (!inserted) {
    // Another connection may have inserted the name or email since the check.
    Result<UserConflict> after = conflict_of(user);
    if (after && *after != UserConflict::none) return UserInsert{0, *after};
    return inserted.error();
  }
  return UserInsert{db_.last_insert_id(), UserConflict::none};
}

Result<std::optional<catalog::User>> UserStore::find_where(std::string_view condition, Value key) {
  auto rows = db_.query_all(fmt::format("SELECT {} FROM users WHERE {} = ?", user_columns, condition), {key});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<catalog::User>{};
  return std::optional<catalog::User>{user_from(rows->front())};
}

Result<std::optional<catalog::User>> UserStore::find(int64_t id) {
  return find_where("id", id);
}

Result<std::optional<catalog::User>> UserStore::find_by_name(std::string_view name) {
  return find_where("name", std::string(name));
}

Result<bool> UserStore::set_password_hash(int64_t id, std::string_view hash, int64_t changed_at) {
  return changed(db_.execute("UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
                             {std::string(hash), changed_at, id}));
}

Result<bool> UserStore::set_display_name(int64_t id, std::string_view display_name) {
  return changed(
      db_.execute("UPDATE users SET display_name = ? WHERE id = ?", {std::string(display_name), id}));
}

Result<bool> UserStore::set_role(int64_t id, catalog::Role role) {
  return changed(
      db_.execute("UPDATE users SET role = ? WHERE id = ?", {std::string(catalog::role_name(role)), id}));
}

Result<bool> UserStore::mark_deleted(int64_t id, int64_t deleted_at) {
  return changed(db_.execute(
      "UPDATE users SET deleted_at = ?, email = NULL, password_hash = NULL, display_name = '' WHERE id = ?",
      {deleted_at, id}));
}

}  // namespace reel::sql
