#include "process/child.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

extern char** environ;

namespace reel::process {
namespace {

// Owns a posix_spawn_file_actions_t for the duration of one spawn.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

// Owns a posix_spawnattr_t that gives the child an empty signal mask and default dispositions, so
// signals this process blocks or ignores (SIGPIPE, say) behave normally in the child.
class SpawnAttributes {
 public:
  explicit SpawnAttributes(bool own_process_group) {
    posix_spawnattr_init(&attributes_);
    sigset_t signals;
    sigemptyset(&signals);
    posix_spawnattr_setsigmask(&attributes_, &signals);
    sigfillset(&signals);
    posix_spawnattr_setsigdefault(&attributes_, &signals);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (own_process_group) {
      posix_spawnattr_setpgroup(&attributes_, 0);
      flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attributes_, flags);
  }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attributes_); }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  posix_spawnattr_t* get() { return &attributes_; }

 private:
  posix_spawnattr_t attributes_;
};

std::string_view env_key(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

// The inherited environment with `extra` added; an extra entry replaces an inherited one with the
// same key. The returned strings point into `extra` and environ.
std::vector<char*> environment_with(const std::vector<std::string>& extra) {
  std::vector<char*> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    bool overridden = false;
    for (const auto& e : extra) overridden = overridden || env_key(e) == env_key(*entry);
    if (!overridden) env.push_back(*entry);
  }
  for (const auto& e : extra) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  return env;
}

}  // namespace

Result<Child> Child::spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return Error{"cannot start a process: no program given"};
  const std::string& program = options.argv.front();

  FileActions actions;
  constexpr int append_flags = O_WRONLY | O_CREAT | O_APPEND;
  // The files are opened before the chdir, so relative paths are relative to this process's cwd.
  if (!options.stdout_path.empty()) {
    posix_spawn_file_actions_addopen(actions.get(), STDOUT_FILENO, options.stdout_path.c_str(), append_flags,
                                     0644);
  }
  if (!options.stderr_path.empty()) {
    posix_spawn_file_actions_addopen(actions.get(), STDERR_FILENO, options.stderr_path.c_str(), append_flags,
                                     0644);
  }
  if (!options.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(actions.get(), options.working_dir.c_str());
  }
  SpawnAttributes attributes(options.own_process_group);

  std::vector<char*> argv;
  argv.reserve(options.argv.size() + 1);
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> env =
      options.extra_env.empty() ? std::vector<char*>{} : environment_with(options.extra_env);

  pid_t pid = -1;
  // glibc reports a failed exec (or a failed open/chdir) as the return value and reaps that child.
  int rc = posix_spawnp(&pid, program.c_str(), actions.get(), attributes.get(), argv.data(),
                        env.empty() ? environ : env.data());
  if (rc != 0) return Error{"cannot start '" + program + "': " + std::strerror(rc)};
  return Child(pid);
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::exchange(other.status_, std::nullopt)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) stop();
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

Child::~Child() {
  if (pid_ > 0) stop();
}

bool Child::running() {
  return pid_ > 0 && !reap(WNOHANG);
}

std::optional<int> Child::reap(int flags) {
  if (status_ || pid_ <= 0) return status_;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, flags);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = status;
  } else if (r < 0) {
    status_ = -1;  // ECHILD: reaped elsewhere (e.g. SIGCHLD ignored); the status is unknown.
  }
  return status_;
}

std::optional<int> Child::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    if (auto status = reap(WNOHANG)) return status;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

int Child::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return status_.value_or(-1);
  if (auto status = reap(WNOHANG)) return *status;
  kill(pid_, SIGTERM);
  if (auto status = wait_for(grace)) return *status;
  kill(pid_, SIGKILL);
  return *reap(0);
}

}  // namespace reel::process
