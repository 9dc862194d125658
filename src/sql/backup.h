// What `reel backup` and `reel restore` (src/backup/) need of the SQL store that only this
// component may spell: the SQLite online copy, the store's tables, whether it holds data, and
// emptying it again.
//
// Thread-safety: each call uses the Connection it is given (one thread at a time) or connections
// of its own. Failure: an Error with the engine's message; nothing throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql {

// The file of a "sqlite:PATH" URL; nullopt for any other URL.
std::optional<std::string> sqlite_path(std::string_view url);

// Copies the SQLite database at `source` into a new file `destination` with SQLite's online backup
// API in one step: the copy is the database as of one moment (a read transaction held throughout),
// while writers go on (WAL). The copy is a single file (journal mode DELETE). An Error when the
// source cannot be read or the destination written (a destination left behind is incomplete).
Status copy_sqlite(const std::string& source, const std::string& destination);

// The store's tables (base tables, not the engine's own), sorted by name.
Result<std::vector<std::string>> table_names(Connection& db);

// The schema version recorded in the store; 0 when it was never migrated.
Result<int> schema_version(Connection& db);

// True when any table but the schema's own bookkeeping holds a row: a migrated, empty store is
// empty (a fresh node runs `reel migrate` before anything else).
Result<bool> holds_data(Connection& db);

// Drops every table (MariaDB: with foreign key checks off for the session meanwhile), leaving a
// store that migrate() sets up afresh.
Status drop_tables(Connection& db);

}  // namespace reel::sql
