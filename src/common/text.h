// Small text helpers shared by components that handle user text.
// Thread-safety: pure functions.
#pragma once

#include <string_view>

namespace reel {

// `text` without leading and trailing ASCII whitespace (space, tab, CR, LF, FF, VT).
std::string_view trim(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` that does not split a UTF-8 character.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

}  // namespace reel
