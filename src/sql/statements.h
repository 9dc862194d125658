// What the stores (catalog_store, collection_store) share when they run statements: text that
// differs by dialect, and a row count reduced to success or its Error. Internal to src/sql/.
// Thread-safety: pure values and functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql {

// A statement whose text differs by dialect, in the order (sqlite, mariadb).
struct DialectSql {
  std::string_view sqlite;
  std::string_view mariadb;
  std::string_view in(Dialect dialect) const { return dialect == Dialect::sqlite ? sqlite : mariadb; }
};

// The outcome of an execute() whose row count does not matter.
inline Status unit(const Result<int64_t>& result) {
  if (!result.ok()) return result.error();
  return {};
}

}  // namespace reel::sql
