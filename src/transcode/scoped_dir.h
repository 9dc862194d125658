// ScopedDir: a directory that is removed, with everything in it, when its owner lets go of it.
// Probe's scratch space and a job's partial outputs use it, so no error path leaves files behind.
// Thread-safety: a plain owner; not shared.
#pragma once

#include <filesystem>
#include <string_view>
#include <utility>

namespace reel::transcode {

class ScopedDir {
 public:
  explicit ScopedDir(std::filesystem::path path) : path_(std::move(path)) {}
  // A new private directory "{prefix}XXXXXX" under the system temp dir; path() is empty when it
  // cannot be made.
  static ScopedDir temporary(std::string_view prefix);
  ScopedDir(const ScopedDir&) = delete;
  ScopedDir& operator=(const ScopedDir&) = delete;
  ~ScopedDir();

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace reel::transcode
