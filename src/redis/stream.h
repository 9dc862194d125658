// Stream entries as Redis returns them (XRANGE, XREAD, XREADGROUP, XAUTOCLAIM), for every reader
// of a stream: the media job queue (jobs/) and the views stream (views/stream_source.h).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "redis/reply.h"

namespace reel::redis {

// One stream entry: its id and its field/value pairs in order.
struct StreamEntry {
  std::string id{};
  std::vector<std::pair<std::string, std::string>> fields{};
};

// Parses one entry reply, [id, [field, value, ...]]. An Error when the reply has another shape
// (a deleted entry's nil fields included).
Result<StreamEntry> parse_stream_entry(const Reply& reply);

}  // namespace reel::redis
