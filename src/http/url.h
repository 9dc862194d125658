// URL pieces: percent-decoding (paths and queries) and query-string parameters.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace reel::http {

// Decodes %XX escapes (and '+' as space when `plus_is_space`); nullopt for a malformed escape or
// a decoded NUL byte.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

// The decoded value of the first `name=` parameter of a query string; nullopt when absent or
// malformed. "name" with no '=' gives "".
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// True when the first `name=` parameter is present but does not decode (query_param gives
// nullopt for it as for an absent one): for answering 400 rather than ignoring it.
bool query_param_malformed(std::string_view query, std::string_view name);

}  // namespace reel::http
