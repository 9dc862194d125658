#include "sql/sqlite/connection.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cctype>
#include <unordered_map>

namespace reel::sql::sqlite {
namespace {

constexpr int busy_timeout_ms = 5000;
constexpr size_t quoted_sql_limit = 300;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// Lets the statement cache be searched with a string_view, without building a std::string.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

// Resets a statement when a call is done with it, so it holds no lock and no row.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* statement) : statement_(statement) {}
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;
  ~ResetOnExit() { sqlite3_reset(statement_); }

 private:
  sqlite3_stmt* statement_;
};

std::string_view quoted(std::string_view sql) {
  return sql.substr(0, quoted_sql_limit);
}

// True when nothing but blanks and semicolons follow the first statement.
bool nothing_after(std::string_view tail) {
  for (char c : tail) {
    if (!std::isspace(static_cast<unsigned char>(c)) && c != ';') return false;
  }
  return true;
}

Value column_value(sqlite3_stmt* statement, int column) {
  switch (sqlite3_column_type(statement, column)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(statement, column));
    case SQLITE_FLOAT:
      return sqlite3_column_double(statement, column);
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
      // Blob access returns TEXT bytes unconverted; bytes must be read after the pointer.
      const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement, column));
      return std::string(bytes, static_cast<size_t>(sqlite3_column_bytes(statement, column)));
    }
    default:
      return std::monostate{};
  }
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;
  ~SqliteConnection() override {
    statements_.clear();
    sqlite3_close_v2(db_);
  }

  Dialect dialect() const override { return Dialect::sqlite; }

  Result<int64_t> execute(std::string_view sql, const Params& params) override {
    Result<sqlite3_stmt*> statement = prepare_and_bind(sql, params);
    if (!statement.ok()) return statement.error();
    ResetOnExit reset(*statement);
    int rc;
    while ((rc = sqlite3_step(*statement)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return failure(sql);
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  Status query(std::string_view sql, const Params& params,
               const std::function<bool(const Row&)>& row_fn) override {
    Result<sqlite3_stmt*> statement = prepare_and_bind(sql, params);
    if (!statement.ok()) return statement.error();
    ResetOnExit reset(*statement);
    const int columns = sqlite3_column_count(*statement);
    int rc;
    while ((rc = sqlite3_step(*statement)) == SQLITE_ROW) {
      std::vector<Value> values;
      values.reserve(static_cast<size_t>(columns));
      for (int column = 0; column < columns; ++column) values.push_back(column_value(*statement, column));
      if (!row_fn(Row(std::move(values)))) return {};
    }
    if (rc != SQLITE_DONE) return failure(sql);
    return {};
  }

  Status execute_script(std::string_view sql) override {
    const std::string script(sql);
    char* message = nullptr;
    if (sqlite3_exec(db_, script.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      Error error{fmt::format("SQLite: {} (in \"{}\")", message ? message : "unknown error", quoted(sql))};
      sqlite3_free(message);
      return error;
    }
    return {};
  }

  int64_t last_insert_id() override { return static_cast<int64_t>(sqlite3_last_insert_rowid(db_)); }

  Status begin() override { return unit(execute("BEGIN IMMEDIATE", {})); }
  // Deferred: the first read fixes the snapshot (WAL: writers go on meanwhile).
  Status begin_snapshot() override { return unit(execute("BEGIN DEFERRED", {})); }
  Status commit() override { return unit(execute("COMMIT", {})); }
  Status rollback() override { return unit(execute("ROLLBACK", {})); }

 private:
  static Status unit(const Result<int64_t>& result) {
    if (!result.ok()) return result.error();
    return {};
  }

  Error failure(std::string_view sql) const {
    Error error{fmt::format("SQLite: {} (in \"{}\")", sqlite3_errmsg(db_), quoted(sql))};
    // Busy: another connection held the write lock past the busy timeout; locked: a conflict
    // inside this process's shared cache. Either way the transaction can be run again.
    const int primary = sqlite3_extended_errcode(db_) & 0xff;
    error.conflict = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
    return error;
  }

  // Returns the cached statement for `sql` (preparing it on first use) with `params` bound.
  // Parameters are bound without copying: they must outlive the statement's execution.
  Result<sqlite3_stmt*> prepare_and_bind(std::string_view sql, const Params& params) {
    auto cached = statements_.find(sql);
    if (cached == statements_.end()) {
      sqlite3_stmt* raw = nullptr;
      const char* tail = nullptr;
      if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                             &tail) != SQLITE_OK) {
        return failure(sql);
      }
      StatementPtr statement(raw);
      if (statement == nullptr || !nothing_after(sql.substr(static_cast<size_t>(tail - sql.data())))) {
        return Error{fmt::format("SQLite: expected exactly one statement (in \"{}\")", quoted(sql))};
      }
      cached = statements_.emplace(std::string(sql), std::move(statement)).first;
    }
    sqlite3_stmt* statement = cached->second.get();
    const int expected = sqlite3_bind_parameter_count(statement);
    if (static_cast<size_t>(expected) != params.size()) {
      return Error{fmt::format("SQLite: statement takes {} parameters, {} given (in \"{}\")", expected,
                               params.size(), quoted(sql))};
    }
    for (int i = 0; i < expected; ++i) {
      const Value& param = params[static_cast<size_t>(i)];
      int rc = SQLITE_OK;
      if (const auto* integer = std::get_if<int64_t>(&param)) {
        rc = sqlite3_bind_int64(statement, i + 1, *integer);
      } else if (const auto* number = std::get_if<double>(&param)) {
        rc = sqlite3_bind_double(statement, i + 1, *number);
      } else if (const auto* text = std::get_if<std::string>(&param)) {
        rc = sqlite3_bind_text64(statement, i + 1, text->data(), text->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(statement, i + 1);
      }
      if (rc != SQLITE_OK) return failure(sql);
    }
    return statement;
  }

  sqlite3* db_;
  std::unordered_map<std::string, StatementPtr, TextHash, std::equal_to<>> statements_;
};

}  // namespace

Result<std::unique_ptr<Connection>> open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  // The connection owns the handle even when opening failed, so it is always closed.
  auto connection = std::make_unique<SqliteConnection>(db);
  if (rc != SQLITE_OK) {
    return Error{fmt::format("SQLite: {}", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc))};
  }
  sqlite3_busy_timeout(db, busy_timeout_ms);
  Status configured = connection->execute_script(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
      "PRAGMA cache_size = -65536;");
  if (!configured.ok()) return configured.error();
  return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace reel::sql::sqlite
