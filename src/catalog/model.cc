#include "catalog/model.h"

namespace reel::catalog {

std::string_view to_string(VideoStatus status) {
  switch (status) {
    case VideoStatus::processing: return "processing";
    case VideoStatus::ready: return "ready";
    case VideoStatus::failed: return "failed";
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

}  // namespace reel::catalog
