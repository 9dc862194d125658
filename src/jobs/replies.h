// Helpers the jobs component shares between its files (not part of its interface): strict
// integer parsing of reply text. (A MULTI ... EXEC batch's replies: redis::check_exec.)
// Thread-safety: pure functions.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "redis/reply.h"

namespace reel::jobs::detail {

// The whole of `text` as an integer; nullopt for empty text, a sign where none fits, or trailing
// characters.
template <class Int>
std::optional<Int> parse_int(std::string_view text) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace reel::jobs::detail
