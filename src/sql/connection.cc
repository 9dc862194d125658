#include "sql/connection.h"

#include <fmt/format.h>

#include <charconv>

#include "sql/mariadb/connection.h"
#include "sql/sqlite/connection.h"
#include "sql/url.h"

namespace reel::sql {

int64_t Row::integer(size_t i) const {
  const Value& value = values_[i];
  if (const auto* integer = std::get_if<int64_t>(&value)) return *integer;
  if (const auto* number = std::get_if<double>(&value)) return static_cast<int64_t>(*number);
  if (const auto* text = std::get_if<std::string>(&value)) {
    int64_t parsed = 0;
    std::from_chars(text->data(), text->data() + text->size(), parsed);
    return parsed;
  }
  return 0;
}

double Row::number(size_t i) const {
  const Value& value = values_[i];
  if (const auto* integer = std::get_if<int64_t>(&value)) return static_cast<double>(*integer);
  if (const auto* number = std::get_if<double>(&value)) return *number;
  if (const auto* text = std::get_if<std::string>(&value)) {
    double parsed = 0;
    std::from_chars(text->data(), text->data() + text->size(), parsed);
    return parsed;
  }
  return 0;
}

std::string Row::text(size_t i) const {
  const Value& value = values_[i];
  if (const auto* integer = std::get_if<int64_t>(&value)) return std::to_string(*integer);
  if (const auto* number = std::get_if<double>(&value)) return fmt::format("{}", *number);
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  return {};
}

Result<std::vector<Row>> Connection::query_all(std::string_view sql, const Params& params) {
  std::vector<Row> rows;
  Status status = query(sql, params, [&](const Row& row) {
    rows.push_back(row);
    return true;
  });
  if (!status.ok()) return status.error();
  return rows;
}

Result<std::unique_ptr<Connection>> open(const Options& options) {
  constexpr std::string_view sqlite_scheme = "sqlite:";
  constexpr std::string_view mariadb_scheme = "mariadb:";
  const std::string_view url = options.url;
  auto opened = [&](Result<std::unique_ptr<Connection>> connection) -> Result<std::unique_ptr<Connection>> {
    if (!connection.ok()) {
      return Error{fmt::format("cannot open {}: {}", redact_url(url), connection.error().message)};
    }
    return connection;
  };

  if (url.starts_with(sqlite_scheme)) {
    std::string path(url.substr(sqlite_scheme.size()));
    if (path.empty()) return opened(Error{"no database file after sqlite:"});
    return opened(sqlite::open(path));
  }
  if (url.starts_with(mariadb_scheme)) {
    Result<MariadbAddress> address = parse_mariadb_url(url);
    if (!address.ok()) return address.error();
    return opened(mariadb::open(*address));
  }
  return Error{
      fmt::format("unsupported SQL URL '{}': expected sqlite:PATH or "
                  "mariadb://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
                  redact_url(url))};
}

}  // namespace reel::sql
