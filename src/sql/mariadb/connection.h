// The MariaDB backend of sql::Connection (libmariadb C API).
//
// Every statement with parameters runs as a server-side prepared statement (mysql_stmt_*) with
// bound parameters and results, cached by its text; only execute_script() and transaction
// control send plain text. The connection speaks utf8mb4, runs with a strict sql_mode (an
// over-long or invalid value is an Error, never silently truncated), and does not reconnect:
// once the server is gone, every call returns an Error and the owner opens a new Connection.
// query() streams rows from the server, so its row_fn must not use the same Connection.
//
// Thread-safety: as sql::Connection (one thread at a time).
// Failure: Errors carry MariaDB's message and the statement's text; never the password.
#pragma once

#include <memory>

#include "common/result.h"
#include "sql/connection.h"
#include "sql/url.h"

namespace reel::sql::mariadb {

// Connects (10 s timeout) and selects address.database. Returns an Error with the server's or
// client library's message when the server cannot be reached or refuses the login.
Result<std::unique_ptr<Connection>> open(const MariadbAddress& address);

}  // namespace reel::sql::mariadb
