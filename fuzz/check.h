// What the fuzz targets share: FUZZ_CHECK, an invariant whose failure libFuzzer reports as a crash
// (with the input that broke it), and a scratch directory for targets whose parser reads files.
// Thread-safety: a fuzz target runs one input at a time on one thread.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace reel::fuzz {

[[noreturn]] inline void fail(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, condition);
  std::abort();
}

#define FUZZ_CHECK(condition) ((condition) ? (void)0 : ::reel::fuzz::fail(#condition, __FILE__, __LINE__))

// A directory of this process's own, removed at exit: in /dev/shm when there is one (the targets
// write a file per input, and fdatasync on tmpfs costs nothing), else in $TMPDIR or /tmp.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string base = "/tmp";
    if (std::filesystem::is_directory("/dev/shm")) {
      base = "/dev/shm";
    } else if (const char* tmp = std::getenv("TMPDIR")) {
      base = tmp;
    }
    std::string pattern = base + "/reel-fuzz-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) fail("mkdtemp of the scratch directory", __FILE__, __LINE__);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratch_dir(), ignored);
    });
    return std::filesystem::path(pattern);
  }();
  return dir;
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace reel::fuzz
