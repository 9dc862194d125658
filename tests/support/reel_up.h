// ReelUp: the real `reel up` binary as a child process on a data dir and a free loopback port, for
// the end-to-end suites. start() returns once /readyz answers 200; the destructor stops it
// (SIGTERM: reel drains and stops its redis-server child).
// Thread-safety: none needed (a suite owns its instance).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "process/child.h"
#include "support/fixtures.h"  // read_file

namespace reel::testing {

// The `reel` binary the build made (REEL_BINARY_DIR, set by CTest).
std::string reel_binary();

// The view count /api/v1/videos/{id} reports; -1 when it cannot be read.
int64_t views_of(uint16_t port, int64_t id);

// POST /api/v1/uploads with `clip` (the file's bytes) titled `title`, as the upload page sends it,
// under the admin `token`; the new video's id, 0 when the upload was not acknowledged (201).
int64_t upload_clip(uint16_t port, const std::string& token, const std::string& title,
                    const std::string& clip);

class ReelUp {
 public:
  // Starts `reel up --data-dir DATA --listen 127.0.0.1:PORT`, its output appended to `log`. An
  // Error (with the log) when it exits or is not ready within `ready_within`.
  static Result<std::unique_ptr<ReelUp>> start(const std::filesystem::path& data_dir,
                                               const std::filesystem::path& log,
                                               std::chrono::seconds ready_within = std::chrono::seconds(120));

  // start() on `dir`/data with the log `dir`/up.log, after emptying `dir` (a suite's own folder).
  static Result<std::unique_ptr<ReelUp>> start_fresh(const std::filesystem::path& dir);

  uint16_t port() const { return port_; }
  process::Child& child() { return child_; }

 private:
  ReelUp(process::Child child, uint16_t port) : child_(std::move(child)), port_(port) {}
  process::Child child_;
  uint16_t port_;
};

}  // namespace reel::testing
