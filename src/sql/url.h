// SQL URLs: parsing the MariaDB form of Options::url and hiding passwords in any URL shown to an
// operator.
//
// Thread-safety: pure functions. Failure: parse_mariadb_url returns an Error naming the URL
// without its password; redact_url can't fail.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace reel::sql {

// A MariaDB server and database, from "mariadb://USER[:PASSWORD]@HOST[:PORT]/DATABASE" or
// "mariadb://[USER@]/DATABASE?socket=PATH". USER and PASSWORD are percent-decoded, so a password
// holding '@', ':' or '/' is written as %40, %3A, %2F.
struct MariadbAddress {
  std::string user;      // empty: the client library's default
  std::string password;  // empty: none
  std::string host;      // empty: localhost over the Unix socket
  uint16_t port = 3306;
  std::string database;
  std::string socket;  // Unix socket path; empty: TCP to host (or the default socket)
};

Result<MariadbAddress> parse_mariadb_url(std::string_view url);

// The URL with the password of its user-info part (between "//USER:" and '@') replaced by "***".
std::string redact_url(std::string_view url);

}  // namespace reel::sql
