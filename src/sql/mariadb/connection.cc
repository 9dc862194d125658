#include "sql/mariadb/connection.h"

#include <errmsg.h>
#include <fmt/format.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <algorithm>
#include <unordered_map>

namespace reel::sql::mariadb {
namespace {

constexpr unsigned connect_timeout_s = 10;
constexpr size_t quoted_sql_limit = 300;
// Text columns start with buffers this large; a longer value grows its buffer for the rest of
// the query.
constexpr size_t initial_text_buffer = 256;
// Over-long and invalid values are Errors, as on SQLite's CHECK constraints; never truncated.
constexpr std::string_view session_setup =
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";
// Every statement reads what was committed when it started (InnoDB's default, REPEATABLE READ,
// would freeze a transaction's reads at its first plain SELECT). A write locks its objects and
// then reads the state its delta is computed from, sometimes after a first read that named the
// lock (a comment's video): it must see what the writes it waited for committed. It also takes
// fewer gap locks, so fewer deadlocks. begin_snapshot() asks for REPEATABLE READ explicitly.
constexpr std::string_view isolation_setup = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";

// mysql_init() initializes the client library on first use, which is not thread-safe; this
// does it once for all threads.
void initialize_library_once() {
  static const int initialized = mysql_library_init(0, nullptr, nullptr);
  static_cast<void>(initialized);
}

struct StatementCloser {
  void operator()(MYSQL_STMT* statement) const { mysql_stmt_close(statement); }
};

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

// How a result column is fetched into a Value.
enum class ColumnKind { integer, number, text };

ColumnKind column_kind(enum_field_types type) {
  switch (type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
      return ColumnKind::integer;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
      return ColumnKind::number;
    default:
      return ColumnKind::text;  // strings, blobs, DECIMAL (exact, as text), dates, NULL
  }
}

struct Statement {
  std::unique_ptr<MYSQL_STMT, StatementCloser> handle;
  std::vector<ColumnKind> columns;  // empty for a statement that returns no rows
};

std::string_view quoted(std::string_view sql) {
  return sql.substr(0, quoted_sql_limit);
}

// Frees a statement's result set (reading and dropping any rows not fetched) when a call is
// done with it, so the connection is ready for the next statement.
class FreeResultOnExit {
 public:
  explicit FreeResultOnExit(MYSQL_STMT* statement) : statement_(statement) {}
  FreeResultOnExit(const FreeResultOnExit&) = delete;
  FreeResultOnExit& operator=(const FreeResultOnExit&) = delete;
  ~FreeResultOnExit() { mysql_stmt_free_result(statement_); }

 private:
  MYSQL_STMT* statement_;
};

// Output buffers for one query's columns; text buffers grow to the longest value seen.
class ResultBuffers {
 public:
  explicit ResultBuffers(const std::vector<ColumnKind>& columns)
      : columns_(columns),
        binds_(columns.size()),
        integers_(columns.size()),
        numbers_(columns.size()),
        texts_(columns.size()),
        lengths_(columns.size()),
        nulls_(columns.size()),
        errors_(columns.size()) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      MYSQL_BIND& bind = binds_[i];
      bind.length = &lengths_[i];
      bind.is_null = &nulls_[i];
      bind.error = &errors_[i];
      switch (columns_[i]) {
        case ColumnKind::integer:
          bind.buffer_type = MYSQL_TYPE_LONGLONG;
          bind.buffer = &integers_[i];
          break;
        case ColumnKind::number:
          bind.buffer_type = MYSQL_TYPE_DOUBLE;
          bind.buffer = &numbers_[i];
          break;
        case ColumnKind::text:
          bind.buffer_type = MYSQL_TYPE_STRING;
          texts_[i].resize(initial_text_buffer);
          bind.buffer = texts_[i].data();
          bind.buffer_length = texts_[i].size();
          break;
      }
    }
  }

  MYSQL_BIND* binds() { return binds_.data(); }

  // After a fetch reported truncation: fetches each text value that did not fit into a buffer
  // grown to its length. Returns whether any buffer grew (the binds must then be re-bound).
  Result<bool> fetch_truncated(MYSQL_STMT* statement) {
    bool grew = false;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i] != ColumnKind::text || nulls_[i] || lengths_[i] <= texts_[i].size()) continue;
      texts_[i].resize(lengths_[i]);
      binds_[i].buffer = texts_[i].data();
      binds_[i].buffer_length = texts_[i].size();
      if (mysql_stmt_fetch_column(statement, &binds_[i], static_cast<unsigned>(i), 0) != 0) {
        return Error{mysql_stmt_error(statement)};
      }
      grew = true;
    }
    return grew;
  }

  Row row() const {
    std::vector<Value> values;
    values.reserve(columns_.size());
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (nulls_[i]) {
        values.emplace_back(std::monostate{});
        continue;
      }
      switch (columns_[i]) {
        case ColumnKind::integer:
          values.emplace_back(integers_[i]);
          break;
        case ColumnKind::number:
          values.emplace_back(numbers_[i]);
          break;
        case ColumnKind::text:
          values.emplace_back(std::string(texts_[i].data(), lengths_[i]));
          break;
      }
    }
    return Row(std::move(values));
  }

 private:
  const std::vector<ColumnKind>& columns_;
  std::vector<MYSQL_BIND> binds_;
  std::vector<int64_t> integers_;
  std::vector<double> numbers_;
  std::vector<std::string> texts_;
  std::vector<unsigned long> lengths_;
  std::vector<my_bool> nulls_;
  std::vector<my_bool> errors_;
};

class MariadbConnection final : public Connection {
 public:
  explicit MariadbConnection(MYSQL* mysql) : mysql_(mysql) {}
  MariadbConnection(const MariadbConnection&) = delete;
  MariadbConnection& operator=(const MariadbConnection&) = delete;
  ~MariadbConnection() override {
    statements_.clear();
    mysql_close(mysql_);
  }

  Dialect dialect() const override { return Dialect::mariadb; }

  Result<int64_t> execute(std::string_view sql, const Params& params) override {
    Result<Statement*> statement = run(sql, params);
    if (!statement.ok()) return statement.error();
    MYSQL_STMT* handle = (*statement)->handle.get();
    if (!(*statement)->columns.empty()) {
      mysql_stmt_free_result(handle);
      return int64_t{0};
    }
    if (const auto id = mysql_stmt_insert_id(handle); id != 0) last_insert_id_ = static_cast<int64_t>(id);
    return static_cast<int64_t>(mysql_stmt_affected_rows(handle));
  }

  Status query(std::string_view sql, const Params& params,
               const std::function<bool(const Row&)>& row_fn) override {
    Result<Statement*> statement = run(sql, params);
    if (!statement.ok()) return statement.error();
    MYSQL_STMT* handle = (*statement)->handle.get();
    if ((*statement)->columns.empty()) return {};
    FreeResultOnExit free_result(handle);
    ResultBuffers buffers((*statement)->columns);
    if (mysql_stmt_bind_result(handle, buffers.binds()) != 0) return statement_failure(handle, sql);
    while (true) {
      const int rc = mysql_stmt_fetch(handle);
      if (rc == MYSQL_NO_DATA) return {};
      if (rc == 1) return statement_failure(handle, sql);
      if (rc == MYSQL_DATA_TRUNCATED) {
        Result<bool> grew = buffers.fetch_truncated(handle);
        if (!grew.ok()) return failure(grew.error().message, sql);
        if (*grew && mysql_stmt_bind_result(handle, buffers.binds()) != 0)
          return statement_failure(handle, sql);
      }
      if (!row_fn(buffers.row())) return {};
    }
  }

  Status execute_script(std::string_view sql) override {
    if (mysql_set_server_option(mysql_, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0) {
      return connection_failure(sql);
    }
    Status status = run_script(sql);
    if (mysql_set_server_option(mysql_, MYSQL_OPTION_MULTI_STATEMENTS_OFF) != 0 && status.ok()) {
      return connection_failure(sql);
    }
    return status;
  }

  int64_t last_insert_id() override { return last_insert_id_; }

  Status begin() override { return run_text("START TRANSACTION"); }
  Status begin_snapshot() override {
    // SET TRANSACTION applies to the next transaction only; the session stays READ COMMITTED.
    if (Status level = run_text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); !level.ok()) return level;
    return run_text("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
  }
  Status commit() override { return run_text("COMMIT"); }
  Status rollback() override { return run_text("ROLLBACK"); }
  bool broken() const override { return broken_; }

  // Runs one statement without parameters as plain text.
  Status run_text(std::string_view sql) {
    if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return connection_failure(sql);
    return {};
  }

 private:
  // `code`: the server's error number, which marks a conflict with a concurrent transaction.
  static Error failure(std::string_view message, std::string_view sql, unsigned code = 0) {
    Error error{fmt::format("MariaDB: {} (in \"{}\")", message, quoted(sql))};
    error.conflict = code == ER_LOCK_DEADLOCK || code == ER_LOCK_WAIT_TIMEOUT;
    return error;
  }
  Error connection_failure(std::string_view sql) const {
    note_lost(mysql_errno(mysql_));
    return failure(mysql_error(mysql_), sql, mysql_errno(mysql_));
  }
  Error statement_failure(MYSQL_STMT* handle, std::string_view sql) const {
    note_lost(mysql_stmt_errno(handle));
    return failure(mysql_stmt_error(handle), sql, mysql_stmt_errno(handle));
  }
  // The client's and server's codes for a session that is gone: the server went away or closed it
  // (a restart, a failover behind HAProxy, KILL), or it cannot be reached.
  void note_lost(unsigned code) const {
    if (code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST || code == CR_CONNECTION_ERROR ||
        code == CR_CONN_HOST_ERROR || code == ER_CONNECTION_KILLED || code == ER_SERVER_SHUTDOWN)
      broken_ = true;
  }

  Status run_script(std::string_view sql) {
    if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return connection_failure(sql);
    while (true) {
      if (MYSQL_RES* result = mysql_store_result(mysql_)) {
        mysql_free_result(result);
      } else if (mysql_field_count(mysql_) != 0) {
        return connection_failure(sql);
      }
      if (const auto id = mysql_insert_id(mysql_); id != 0) last_insert_id_ = static_cast<int64_t>(id);
      const int next = mysql_next_result(mysql_);
      if (next < 0) return {};
      if (next > 0) return connection_failure(sql);
    }
  }

  // Returns the cached statement for `sql`, preparing it on first use.
  Result<Statement*> prepared(std::string_view sql) {
    auto cached = statements_.find(sql);
    if (cached != statements_.end()) return &cached->second;
    Statement statement{std::unique_ptr<MYSQL_STMT, StatementCloser>(mysql_stmt_init(mysql_)), {}};
    MYSQL_STMT* handle = statement.handle.get();
    if (handle == nullptr) return connection_failure(sql);
    if (mysql_stmt_prepare(handle, sql.data(), sql.size()) != 0) return statement_failure(handle, sql);
    if (MYSQL_RES* metadata = mysql_stmt_result_metadata(handle)) {
      const MYSQL_FIELD* fields = mysql_fetch_fields(metadata);
      for (unsigned i = 0; i < mysql_num_fields(metadata); ++i)
        statement.columns.push_back(column_kind(fields[i].type));
      mysql_free_result(metadata);
    } else if (mysql_stmt_errno(handle) != 0) {
      return statement_failure(handle, sql);
    }
    return &statements_.emplace(std::string(sql), std::move(statement)).first->second;
  }

  // Prepares (or reuses) the statement, binds `params` and executes it. A statement with a
  // result set is left with its rows pending on the connection.
  Result<Statement*> run(std::string_view sql, const Params& params) {
    Result<Statement*> statement = prepared(sql);
    if (!statement.ok()) return statement;
    MYSQL_STMT* handle = (*statement)->handle.get();
    const unsigned long expected = mysql_stmt_param_count(handle);
    if (expected != params.size()) {
      return failure(fmt::format("statement takes {} parameters, {} given", expected, params.size()), sql);
    }
    // The client library reads these (and the params) during mysql_stmt_execute().
    std::vector<MYSQL_BIND> binds(params.size());
    std::vector<unsigned long> lengths(params.size());
    if (!params.empty()) {
      for (size_t i = 0; i < params.size(); ++i) {
        MYSQL_BIND& bind = binds[i];
        // The client library only reads input buffers; the casts drop const for its C API.
        if (const auto* integer = std::get_if<int64_t>(&params[i])) {
          bind.buffer_type = MYSQL_TYPE_LONGLONG;
          bind.buffer = const_cast<int64_t*>(integer);
        } else if (const auto* number = std::get_if<double>(&params[i])) {
          bind.buffer_type = MYSQL_TYPE_DOUBLE;
          bind.buffer = const_cast<double*>(number);
        } else if (const auto* text = std::get_if<std::string>(&params[i])) {
          bind.buffer_type = MYSQL_TYPE_STRING;
          bind.buffer = const_cast<char*>(text->data());
          bind.buffer_length = text->size();
          lengths[i] = text->size();
          bind.length = &lengths[i];
        } else {
          bind.buffer_type = MYSQL_TYPE_NULL;
        }
      }
      if (mysql_stmt_bind_param(handle, binds.data()) != 0) return statement_failure(handle, sql);
    }
    if (mysql_stmt_execute(handle) != 0) return statement_failure(handle, sql);
    return statement;
  }

  MYSQL* mysql_;
  mutable bool broken_ = false;  // set by a failure that ended the session (note_lost)
  std::unordered_map<std::string, Statement, TextHash, std::equal_to<>> statements_;
  int64_t last_insert_id_ = 0;
};

const char* or_null(const std::string& text) {
  return text.empty() ? nullptr : text.c_str();
}

}  // namespace

Result<std::unique_ptr<Connection>> open(const MariadbAddress& address) {
  initialize_library_once();
  MYSQL* mysql = mysql_init(nullptr);
  if (mysql == nullptr) return Error{"MariaDB: out of memory"};
  auto connection = std::make_unique<MariadbConnection>(mysql);
  const unsigned timeout = connect_timeout_s;
  const my_bool reconnect = 0;
  const unsigned local_infile = 0;
  mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(mysql, MYSQL_OPT_RECONNECT, &reconnect);
  mysql_optionsv(mysql, MYSQL_OPT_LOCAL_INFILE, &local_infile);
  if (mysql_real_connect(mysql, or_null(address.host), or_null(address.user), or_null(address.password),
                         address.database.c_str(), address.port, or_null(address.socket),
                         CLIENT_FOUND_ROWS) == nullptr) {
    return Error{fmt::format("MariaDB: {}", mysql_error(mysql))};
  }
  for (std::string_view setup : {session_setup, isolation_setup}) {
    Status configured = connection->run_text(setup);
    if (!configured.ok()) return configured.error();
  }
  return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace reel::sql::mariadb
