#include "sql/mariadb_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "sql/connection.h"

namespace reel::sql::testing {
namespace {

using std::chrono::steady_clock;

constexpr auto install_deadline = std::chrono::seconds(120);
constexpr auto ready_deadline = std::chrono::seconds(60);
constexpr auto exit_deadline = std::chrono::seconds(60);
constexpr auto poll_interval = std::chrono::milliseconds(20);
constexpr size_t log_tail_bytes = 3000;

// Starts `argv` with stdin from /dev/null and stdout/stderr appended to `log_path`. The child
// gets SIGTERM if this process dies first (PR_SET_PDEATHSIG), so a crashed test leaves no
// server behind; that needs fork+exec rather than posix_spawn.
Result<pid_t> spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return Error{fmt::format("cannot fork for {}: {}", argv[0], std::strerror(errno))};
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    const int input = ::open("/dev/null", O_RDONLY);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (input < 0 || log < 0 || dup2(input, STDIN_FILENO) < 0 || dup2(log, STDOUT_FILENO) < 0 ||
        dup2(log, STDERR_FILENO) < 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) {
      _exit(126);
    }
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Waits until `pid` exits or the deadline passes; returns its wait status, or nullopt.
std::optional<int> wait_for_exit(pid_t pid, steady_clock::duration timeout) {
  const auto until = steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    if (steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(poll_interval);
  }
}

}  // namespace

Result<std::unique_ptr<MariadbServer>> MariadbServer::start() {
  std::unique_ptr<MariadbServer> server(new MariadbServer());
  server->port_ = reel::testing::free_port();
  const std::string config = server->path("my.cnf");
  const std::string log = server->path("server.log");
  // Its own tmpdir: servers of suites running side by side collide in a shared /tmp (the
  // bootstrap lost its temporary tables to another's cleanup under load).
  std::error_code made;
  std::filesystem::create_directories(server->path("tmp"), made);
  if (made) return Error{fmt::format("cannot create {}: {}", server->path("tmp"), made.message())};
  {
    std::ofstream out(config);
    out << "[mysqld]\n"
        << "user = root\n"
        << "datadir = " << server->path("data") << "\n"
        << "socket = " << server->path("mariadbd.sock") << "\n"
        << "tmpdir = " << server->path("tmp") << "\n"
        << "pid-file = " << server->path("mariadbd.pid") << "\n"
        << "port = " << server->port_ << "\n"
        << "bind-address = 127.0.0.1\n"
        << "skip-name-resolve\n"
        << "innodb_buffer_pool_size = 32M\n"
        << "innodb_log_file_size = 32M\n"
        << "innodb_flush_log_at_trx_commit = 2\n"
        << "performance_schema = OFF\n";
    if (!out) return Error{fmt::format("cannot write {}", config)};
  }

  Result<pid_t> install = spawn(
      {"mariadb-install-db", "--defaults-file=" + config, "--user=root", "--datadir=" + server->path("data"),
       "--auth-root-authentication-method=socket", "--skip-test-db"},
      log);
  if (!install.ok()) return install.error();
  std::optional<int> installed = wait_for_exit(*install, install_deadline);
  if (!installed) {
    kill(*install, SIGKILL);
    waitpid(*install, nullptr, 0);
    return Error{"mariadb-install-db did not finish in time:\n" + server->log_tail()};
  }
  if (!WIFEXITED(*installed) || WEXITSTATUS(*installed) != 0) {
    return Error{"mariadb-install-db failed:\n" + server->log_tail()};
  }

  Result<pid_t> mariadbd = spawn({"mariadbd", "--defaults-file=" + config}, log);
  if (!mariadbd.ok()) return mariadbd.error();
  server->pid_ = *mariadbd;

  // Ready when root can connect over the socket; a server that exits early fails at once.
  const auto until = steady_clock::now() + ready_deadline;
  std::unique_ptr<Connection> admin;
  while (admin == nullptr) {
    Result<std::unique_ptr<Connection>> connected = open(Options{server->root_url("mysql")});
    if (connected.ok()) {
      admin = std::move(*connected);
      break;
    }
    if (wait_for_exit(server->pid_, std::chrono::seconds(0))) {
      server->pid_ = -1;
      return Error{"mariadbd exited during startup:\n" + server->log_tail()};
    }
    if (steady_clock::now() >= until) {
      return Error{fmt::format("mariadbd did not accept connections in time ({}):\n{}",
                               connected.error().message, server->log_tail())};
    }
    std::this_thread::sleep_for(poll_interval);
  }
  Status user_created =
      admin->execute_script(fmt::format("CREATE USER '{0}'@'127.0.0.1' IDENTIFIED BY '{1}';"
                                        "GRANT ALL PRIVILEGES ON *.* TO '{0}'@'127.0.0.1';",
                                        tcp_user, tcp_password));
  if (!user_created.ok()) return user_created.error();
  return server;
}

MariadbServer::~MariadbServer() {
  static_cast<void>(stop());
}

Status MariadbServer::stop() {
  if (pid_ < 0) return {};
  const pid_t pid = pid_;
  pid_ = -1;
  kill(pid, SIGTERM);
  std::optional<int> status = wait_for_exit(pid, exit_deadline);
  if (!status) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return Error{"mariadbd did not exit within the deadline after SIGTERM; killed it"};
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return Error{fmt::format("mariadbd exited with wait status {}:\n{}", *status, log_tail())};
  }
  return {};
}

std::string MariadbServer::root_url(const std::string& database) const {
  return fmt::format("mariadb://root@/{}?socket={}", database, path("mariadbd.sock"));
}

std::string MariadbServer::tcp_url(const std::string& database) const {
  return fmt::format("mariadb://{}:{}@127.0.0.1:{}/{}", tcp_user, tcp_password, port_, database);
}

std::string MariadbServer::log_tail() const {
  std::ifstream in(path("server.log"));
  std::stringstream text;
  text << in.rdbuf();
  const std::string log = text.str();
  return log.size() > log_tail_bytes ? log.substr(log.size() - log_tail_bytes) : log;
}

}  // namespace reel::sql::testing
