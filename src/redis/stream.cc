#include "redis/stream.h"

#include <fmt/format.h>

namespace reel::redis {

Result<StreamEntry> parse_stream_entry(const Reply& reply) {
  if (!reply.is_array() || reply.elements().size() != 2) {
    return Error{"stream entry: expected [id, fields] from Redis, got another reply"};
  }
  const Reply& id = reply.elements()[0];
  const Reply& fields = reply.elements()[1];
  if (id.type() != Reply::Type::string || id.str().empty())
    return Error{"stream entry: the entry id is missing"};
  StreamEntry entry{.id = std::string(id.str())};
  if (!fields.is_array()) return Error{fmt::format("stream entry {}: it has no fields (deleted?)", entry.id)};
  if (fields.elements().size() % 2 != 0) {
    return Error{fmt::format("stream entry {}: an odd number of field names and values", entry.id)};
  }
  entry.fields.reserve(fields.elements().size() / 2);
  for (size_t i = 0; i < fields.elements().size(); i += 2) {
    const Reply& name = fields.elements()[i];
    const Reply& value = fields.elements()[i + 1];
    if (name.type() != Reply::Type::string || value.type() != Reply::Type::string) {
      return Error{fmt::format("stream entry {}: field {} is not a string", entry.id, i / 2 + 1)};
    }
    entry.fields.emplace_back(name.str(), value.str());
  }
  return entry;
}

}  // namespace reel::redis
