// The outbox's encoding of a delta's commands, and the flat argument list the apply script reads.
//
// flatten(commands) = [argc₁, args₁…, argc₂, args₂…]: what the apply script takes after its own
// arguments. encode() stores that list in one string — each element as "<length>:<bytes>" —
// so any byte can appear in an argument; decode() is its strict inverse.
//
// Thread-safety: pure functions.
// Failure: decode() returns an Error for text encode() did not produce (a corrupt outbox row).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "redis/command.h"

namespace reel::writes {

// Lua's unpack() in Redis takes at most about 8,000 values: a command of a delta may have at most
// this many arguments (split a long ZADD into several).
inline constexpr size_t max_command_args = 4000;

std::vector<std::string> flatten(const std::vector<redis::Command>& commands);
std::string encode(const std::vector<redis::Command>& commands);
Result<std::vector<redis::Command>> decode(std::string_view encoded);

}  // namespace reel::writes
