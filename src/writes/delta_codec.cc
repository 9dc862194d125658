#include "writes/delta_codec.h"

#include <charconv>

namespace reel::writes {
namespace {

void put(std::string& out, std::string_view element) {
  out += std::to_string(element.size());
  out += ':';
  out += element;
}

// Reads one "<length>:<bytes>" element at `pos`; false when the text is not one.
bool take(std::string_view encoded, size_t& pos, std::string_view& element) {
  const size_t colon = encoded.find(':', pos);
  if (colon == std::string_view::npos || colon == pos || colon - pos > 10) return false;
  size_t length = 0;
  auto [end, ec] = std::from_chars(encoded.data() + pos, encoded.data() + colon, length);
  if (ec != std::errc{} || end != encoded.data() + colon || length > encoded.size() - colon - 1) return false;
  element = encoded.substr(colon + 1, length);
  pos = colon + 1 + length;
  return true;
}

}  // namespace

std::vector<std::string> flatten(const std::vector<redis::Command>& commands) {
  std::vector<std::string> flat;
  for (const redis::Command& command : commands) {
    flat.push_back(std::to_string(command.args().size()));
    flat.insert(flat.end(), command.args().begin(), command.args().end());
  }
  return flat;
}

std::string encode(const std::vector<redis::Command>& commands) {
  std::string out;
  for (const std::string& element : flatten(commands)) put(out, element);
  return out;
}

Result<std::vector<redis::Command>> decode(std::string_view encoded) {
  std::vector<redis::Command> commands;
  size_t pos = 0;
  const Error corrupt{"a corrupt outbox delta"};
  while (pos < encoded.size()) {
    std::string_view count_text;
    if (!take(encoded, pos, count_text)) return corrupt;
    size_t argc = 0;
    auto [end, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), argc);
    if (ec != std::errc{} || end != count_text.data() + count_text.size() || argc == 0 ||
        argc > max_command_args) {
      return corrupt;
    }
    redis::Command command;
    for (size_t i = 0; i < argc; ++i) {
      std::string_view arg;
      if (!take(encoded, pos, arg)) return corrupt;
      command.arg(arg);
    }
    commands.push_back(std::move(command));
  }
  return commands;
}

}  // namespace reel::writes
