#include "process/child.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

extern char** environ;

namespace reel::process {
namespace {

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

// The executable `program` names: itself when it holds a '/', else the first executable file of
// that name on PATH (as execvp would find it); "" when there is none.
std::string find_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const size_t colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + program;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) return {};
    dirs.remove_prefix(colon + 1);
  }
}

// Everything the forked child needs, prepared before fork(): between fork() and exec the child of a
// multi-threaded process may only make async-signal-safe calls (no allocation, no locks).
struct Prepared {
  std::string path{};
  std::vector<char*> argv{};
  std::vector<char*> env{};  // empty: inherit environ
  const SpawnOptions* options = nullptr;
  pid_t parent = 0;
};

// The forked child's side: returns only when a step failed, with that errno.
int run_child(const Prepared& p) {
  // An empty signal mask and default dispositions, so signals this process blocks or ignores
  // (SIGPIPE, say) behave normally in the child.
  sigset_t none;
  sigemptyset(&none);
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &defaults, nullptr);
  if (p.options->own_process_group && ::setpgid(0, 0) != 0) return errno;
  if (p.options->die_with_parent) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return errno;
    if (::getppid() != p.parent) return ESRCH;  // the parent died before the prctl took effect
  }
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  constexpr int append_flags = O_WRONLY | O_CREAT | O_APPEND;
  // The files are opened before the chdir, so relative paths are relative to this process's cwd.
  for (const auto& [path, fd] : {std::pair{&p.options->stdout_path, STDOUT_FILENO},
                                 std::pair{&p.options->stderr_path, STDERR_FILENO}}) {
    if (path->empty()) continue;
    const int opened = ::open(path->c_str(), append_flags, 0644);
    if (opened < 0) return errno;
    if (::dup2(opened, fd) < 0) return errno;
    ::close(opened);
  }
  if (!p.options->stdin_path.empty()) {
    const int opened = ::open(p.options->stdin_path.c_str(), O_RDONLY);
    if (opened < 0) return errno;
    if (::dup2(opened, STDIN_FILENO) < 0) return errno;
    ::close(opened);
  }
  if (!p.options->working_dir.empty() && ::chdir(p.options->working_dir.c_str()) != 0) return errno;
  ::execve(p.path.c_str(), p.argv.data(), p.env.empty() ? environ : p.env.data());
  return errno;
}

}  // namespace

Result<Child> Child::spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return Error{"cannot start a process: no program given"};
  const std::string& program = options.argv.front();
  auto failed = [&program](int error) {
    return Error{"cannot start '" + program + "': " + std::strerror(error)};
  };

  Prepared prepared{.path = find_program(program), .options = &options, .parent = ::getpid()};
  if (prepared.path.empty()) return failed(ENOENT);
  prepared.argv.reserve(options.argv.size() + 1);
  for (const auto& a : options.argv) prepared.argv.push_back(const_cast<char*>(a.c_str()));
  prepared.argv.push_back(nullptr);
  if (!options.extra_env.empty()) prepared.env = environment_with(options.extra_env);

  // Close-on-exec: the child writes the errno of a failed step; a successful exec closes it unwritten.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return failed(errno);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(report[0]);
    ::close(report[1]);
    return failed(error);
  }
  if (pid == 0) {
    ::close(report[0]);
    const int error = run_child(prepared);
    [[maybe_unused]] const ssize_t written = ::write(report[1], &error, sizeof error);
    ::_exit(127);
  }
  ::close(report[1]);
  // Closed unread when exec succeeded; an errno when a step before it failed.
  int error = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &error, sizeof error);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof error)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return failed(error);
  }
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
