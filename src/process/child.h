// Child: a process this one started (fork and exec, argv vectors, never a shell), stopped and
// reaped by its owner.
// Thread-safety: not thread-safe. The destructor terminates a still-running child
// (SIGTERM, then SIGKILL after the grace period) and reaps it, so no child outlives its owner
// through this class.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace reel::process {

// Every member has a default initializer, so designated initializers may name only what they set.
struct SpawnOptions {
  std::vector<std::string> argv{};       // argv[0] is looked up on PATH
  std::string working_dir{};             // empty: inherit
  std::string stdin_path{};              // empty: inherit; else read from
  std::string stdout_path{};             // empty: inherit; else appended to
  std::string stderr_path{};             // empty: inherit; else appended to
  std::vector<std::string> extra_env{};  // "KEY=VALUE" added to the inherited environment
  // Starts the child in a process group of its own, so a Ctrl-C on the terminal reaches only this
  // process, which then stops the child in order (a server must outlive the drain of its users).
  bool own_process_group = false;
  // The child gets SIGKILL when its parent goes, however it goes (SIGKILL included), so no tool
  // outlives the process that ran it (PR_SET_PDEATHSIG). Linux's "parent" here is the spawning
  // *thread*: spawn from a thread that lives as long as the child is wanted (the worker's slot
  // threads run every tool of their jobs and end only after them).
  bool die_with_parent = false;
};

class Child {
 public:
  // Returns an Error naming the program when it cannot be started (not found, not executable,
  // an output file or the working directory cannot be opened).
  static Result<Child> spawn(const SpawnOptions& options);

  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  ~Child();

  pid_t pid() const { return pid_; }
  // True while the process has not been reaped (non-blocking check).
  bool running();
  // Sends SIGTERM, waits up to `grace` for exit, then SIGKILL; returns the exit status
  // (as from waitpid; -1 when unknown, e.g. for a moved-from Child). Safe to call more than once.
  // Blocks the calling thread for up to `grace`.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Waits up to `timeout` for the process to exit by itself; nullopt if it is still running.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

 private:
  explicit Child(pid_t pid) : pid_(pid) {}
  // waitpid(pid_, flags) unless already reaped; records and returns the status once it exited.
  std::optional<int> reap(int flags);

  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace reel::process
