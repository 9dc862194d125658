// Child: a process this one started (posix_spawn), stopped and reaped by its owner.
// Thread-safety: not thread-safe. The destructor terminates a still-running child
// (SIGTERM, then SIGKILL after the grace period) and reaps it, so no child outlives its owner
// through this class.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "common/result.h"

namespace reel::process {

struct SpawnOptions {
  std::vector<std::string> argv;        // argv[0] is looked up on PATH
  std::string working_dir;              // empty: inherit
  std::string stdout_path;              // empty: inherit; else appended to
  std::string stderr_path;              // empty: inherit; else appended to
  std::vector<std::string> extra_env;   // "KEY=VALUE" added to the inherited environment
};

class Child {
 public:
  // Returns an Error naming the program when it cannot be started.
  static Result<Child> spawn(const SpawnOptions& options);

  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  ~Child();

  pid_t pid() const { return pid_; }
  // True while the process has not been reaped (non-blocking check).
  bool running();
  // Sends SIGTERM, waits up to `grace` for exit, then SIGKILL; returns the exit status
  // (as from waitpid). Safe to call more than once.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Waits up to `timeout` for the process to exit by itself; nullopt if it is still running.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

 private:
  explicit Child(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace reel::process
