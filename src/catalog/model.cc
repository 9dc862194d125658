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

std::string slugify(std::string_view text) {
  constexpr size_t max_slug_bytes = 80;
  std::string slug;
  for (unsigned char c : text) {
    if (std::isalnum(c)) {
      slug.push_back(static_cast<char>(std::tolower(c)));
    } else if (!slug.empty() && slug.back() != '-') {
      slug.push_back('-');
    }
  }
  if (slug.size() > max_slug_bytes) slug.resize(max_slug_bytes);
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug;
}

}  // namespace reel::catalog
