#include "catalog/model.h"

#include <cctype>

namespace reel::catalog {

std::string_view to_string(VideoStatus status) {
  switch (status) {
    case VideoStatus::processing:
      return "processing";
    case VideoStatus::ready:
      return "ready";
    case VideoStatus::failed:
      return "failed";
  }
  return "processing";
}

bool parse_status(std::string_view text, VideoStatus* out) {
  for (auto s : {VideoStatus::processing, VideoStatus::ready, VideoStatus::failed}) {
    if (to_string(s) == text) {
      *out = s;
      return true;
    }
  }
  return false;
}

bool valid_name(std::string_view name) {
  constexpr size_t max_name_bytes = 64;
  if (name.empty() || name.size() > max_name_bytes || name == "." || name == "..") return false;
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c >= 0x80)) return false;
  }
  return true;
}

}  // namespace reel::catalog
