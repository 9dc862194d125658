#include "writes/transaction.h"

#include <cassert>

#include "sql/outbox_store.h"
#include "writes/delta_codec.h"

namespace reel::writes {

bool Transaction::valid_object(std::string_view object) {
  const size_t colon = object.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 16) return false;
  for (char c : object.substr(0, colon)) {
    if (c < 'a' || c > 'z') return false;
  }
  const std::string_view id = object.substr(colon + 1);
  if (id.empty() || id.size() > 18) return false;
  for (char c : id) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Status Transaction::lock(std::string_view object) {
  assert(valid_object(object));
  for (const Delta& delta : deltas_) {
    if (delta.object == object) return {};
  }
  Result<int64_t> seq = sql::OutboxStore(db_).next_seq(object);
  if (!seq.ok()) return seq.error();
  deltas_.push_back({std::string(object), *seq, {}});
  return {};
}

void Transaction::emit(std::string_view object, std::vector<redis::Command> commands) {
  for (Delta& delta : deltas_) {
    if (delta.object != object) continue;
    for (redis::Command& command : commands) {
      assert(!command.args().empty() && command.args().size() <= max_command_args);
      delta.commands.push_back(std::move(command));
    }
    return;
  }
  assert(false && "emit() for an object that was not locked");
}

}  // namespace reel::writes
