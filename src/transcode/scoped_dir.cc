#include "transcode/scoped_dir.h"

#include <stdlib.h>

#include <string>
#include <system_error>

namespace reel::transcode {

ScopedDir ScopedDir::temporary(std::string_view prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / prefix).string() + "XXXXXX";
  return ScopedDir(mkdtemp(pattern.data()) != nullptr ? std::filesystem::path(pattern)
                                                      : std::filesystem::path());
}

ScopedDir::~ScopedDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

}  // namespace reel::transcode
