// Numbers from a Redis server's INFO, for tests that watch what the server did (commands run,
// bytes logged).
// Thread-safety: as the BlockingClient given (one thread at a time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "redis/blocking_client.h"

namespace reel::testing {

// The number after `field` (e.g. "aof_current_size:" or "cmdstat_eval:calls=") in an INFO text;
// nullopt when the text does not list it.
inline std::optional<int64_t> number_after(std::string_view text, std::string_view field) {
  const size_t at = text.find(field);
  if (at == std::string_view::npos) return std::nullopt;
  return std::stoll(std::string(text.substr(at + field.size(), 20)));
}

// The INFO `section` text of the server at `client`; an Error when the server did not answer.
inline Result<std::string> info_text(redis::BlockingClient& client, std::string_view section) {
  auto info = client.execute(redis::Command("INFO", section));
  if (!info) return info.error();
  return std::string(info->str());
}

// The number after `field` in INFO `section`; nullopt when the section does not list it; an Error
// when the server did not answer.
inline Result<std::optional<int64_t>> info_number(redis::BlockingClient& client, std::string_view section,
                                                  std::string_view field) {
  auto text = info_text(client, section);
  if (!text) return text.error();
  return number_after(*text, field);
}

}  // namespace reel::testing
