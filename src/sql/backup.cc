#include "sql/backup.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace reel::sql {
namespace {

constexpr std::string_view migrations_table = "schema_migrations";

// An sqlite3 handle closed when it goes.
struct SqliteHandle {
  sqlite3* db = nullptr;
  ~SqliteHandle() { sqlite3_close(db); }
  std::string error() const { return db != nullptr ? sqlite3_errmsg(db) : "out of memory"; }
};

Status open_sqlite(SqliteHandle& handle, const std::string& path, int flags) {
  if (sqlite3_open_v2(path.c_str(), &handle.db, flags, nullptr) != SQLITE_OK)
    return Error{fmt::format("cannot open {}: {}", path, handle.error())};
  sqlite3_busy_timeout(handle.db, 5000);
  return {};
}

}  // namespace

std::optional<std::string> sqlite_path(std::string_view url) {
  constexpr std::string_view scheme = "sqlite:";
  if (!url.starts_with(scheme)) return std::nullopt;
  return std::string(url.substr(scheme.size()));
}

Status copy_sqlite(const std::string& source, const std::string& destination) {
  SqliteHandle from, to;
  if (auto s = open_sqlite(from, source, SQLITE_OPEN_READONLY); !s) return s;
  if (auto s = open_sqlite(to, destination, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE); !s) return s;
  sqlite3_backup* copy = sqlite3_backup_init(to.db, "main", from.db, "main");
  if (copy == nullptr) return Error{fmt::format("cannot copy {}: {}", source, to.error())};
  // Busy or locked: a writer checkpointing or the WAL being reset; a later step gets in.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  int rc = SQLITE_OK;
  for (;;) {
    rc = sqlite3_backup_step(copy, -1);
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sqlite3_backup_finish(copy);
  if (rc != SQLITE_DONE) return Error{fmt::format("cannot copy {}: {}", source, sqlite3_errstr(rc))};
  char* message = nullptr;
  if (sqlite3_exec(to.db, "PRAGMA journal_mode = DELETE", nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return Error{fmt::format("cannot finish the copy {}: {}", destination, why)};
  }
  return {};
}

Result<std::vector<std::string>> table_names(Connection& db) {
  const std::string_view sql =
      db.dialect() == Dialect::sqlite
          ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
          : "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND "
            "table_type = 'BASE TABLE' ORDER BY table_name";
  auto rows = db.query_all(sql);
  if (!rows) return rows.error();
  std::vector<std::string> names;
  for (const Row& row : *rows) names.push_back(row.text(0));
  return names;
}

Result<int> schema_version(Connection& db) {
  auto tables = table_names(db);
  if (!tables) return tables.error();
  if (std::find(tables->begin(), tables->end(), migrations_table) == tables->end()) return 0;
  auto rows = db.query_all(fmt::format("SELECT COALESCE(MAX(version), 0) FROM {}", migrations_table));
  if (!rows) return rows.error();
  return static_cast<int>(rows->front().integer(0));
}

Result<bool> holds_data(Connection& db) {
  auto tables = table_names(db);
  if (!tables) return tables.error();
  for (const std::string& table : *tables) {
    if (table == migrations_table) continue;
    auto rows = db.query_all(fmt::format("SELECT 1 FROM {} LIMIT 1", table));
    if (!rows) return rows.error();
    if (!rows->empty()) return true;
  }
  return false;
}

Status drop_tables(Connection& db) {
  auto tables = table_names(db);
  if (!tables) return tables.error();
  const bool mariadb = db.dialect() == Dialect::mariadb;
  std::string script = mariadb ? "SET FOREIGN_KEY_CHECKS = 0;" : "PRAGMA foreign_keys = OFF;";
  for (const std::string& table : *tables) script += fmt::format(" DROP TABLE {};", table);
  script += mariadb ? " SET FOREIGN_KEY_CHECKS = 1;" : " PRAGMA foreign_keys = ON;";
  return db.execute_script(script);
}

}  // namespace reel::sql
