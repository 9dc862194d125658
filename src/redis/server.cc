#include "redis/server.h"

#include <fmt/format.h>
#include <sys/wait.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/asio.h"
#include "redis/blocking_client.h"

namespace reel::redis {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// redis-server gets this long to exit after SIGTERM before it is killed; with AOF it writes
// its buffer first, which is quick, but a slow disk can take seconds.
constexpr auto stop_grace = 30s;
// The readiness probe: short timeouts, retried every pause until start_timeout.
constexpr auto probe_connect_timeout = 250ms;
constexpr auto probe_command_timeout = 1000ms;
constexpr auto probe_pause = 10ms;
constexpr size_t log_tail_bytes = 2000;

// A redis.conf string argument: double-quoted, with backslashes and quotes escaped.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string file_tail(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start =
      std::max<std::streamoff>(0, size - static_cast<std::streamoff>(log_tail_bytes));
  in.seekg(start);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string logs_of(const fs::path& dir) {
  return file_tail(dir / "redis-server.out") + file_tail(dir / "redis.log");
}

std::string config_text(const RedisServerOptions& options, const fs::path& dir, uint16_t port) {
  std::string text = fmt::format(
      "# Written by reel; rewritten on every start.\n"
      "daemonize no\n"
      "bind {}\n"
      "port {}\n"
      "dir {}\n"
      "logfile {}\n"
      "pidfile {}\n"
      "appendonly {}\n"
      "appendfsync everysec\n"
      "save \"\"\n",
      options.bind, port, quoted(dir.string()), quoted((dir / "redis.log").string()),
      quoted((dir / "redis.pid").string()), options.append_only ? "yes" : "no");
  for (const auto& line : options.extra_config_lines) text += line + "\n";
  return text;
}

// The connected server's INFO server text; empty when it cannot be read.
std::string server_info(BlockingClient& client) {
  Result<Reply> info = client.execute(Command("INFO", "server"));
  if (!info || info->is_error()) return {};
  return std::string(info->str());
}

// The process id INFO text reports; -1 when it has none.
pid_t info_pid(std::string_view info) {
  const std::string_view text = info_field(info, "process_id");
  pid_t pid = -1;
  std::from_chars(text.data(), text.data() + text.size(), pid);
  return pid;
}

// A redis-server still running on `config_path` belongs to this directory: a process that started
// it crashed (SIGKILL leaves the child of its own process group behind). It is shut down — with
// AOF it writes its buffer first, so nothing acknowledged is lost — and waited for, so a new one
// can start in its place. Anything else on the port is left alone (start() then reports it).
Status shut_down_orphan(const ConnectionOptions& probe, const fs::path& config_path) {
  Result<BlockingClient> client = BlockingClient::connect(probe);
  if (!client) return {};
  const std::string info = server_info(*client);
  if (info_field(info, "config_file") != config_path.string()) return {};
  const pid_t orphan = info_pid(info);
  fmt::print(stderr, "redis-server (pid {}) of {} was left running; shutting it down to start afresh\n",
             orphan, config_path.parent_path().string());
  (void)client->execute(Command("SHUTDOWN"));  // answers by closing the connection
  const auto deadline = std::chrono::steady_clock::now() + stop_grace;
  while (BlockingClient::connect(probe)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error{fmt::format("redis-server (pid {}) left running on {} did not shut down", orphan,
                               config_path.string())};
    }
    std::this_thread::sleep_for(probe_pause);
  }
  return {};
}

}  // namespace

Result<uint16_t> pick_free_port(const std::string& host) {
  asio::io_context io;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return Error{fmt::format("cannot pick a port: '{}' is not an IP address", host)};
  asio::ip::tcp::acceptor acceptor(io);
  const asio::ip::tcp::endpoint any_port(address, 0);
  acceptor.open(any_port.protocol(), ec);
  if (!ec) acceptor.bind(any_port, ec);
  const uint16_t port = ec ? 0 : acceptor.local_endpoint(ec).port();
  if (ec) return Error{fmt::format("cannot pick a free port on {}: {}", host, ec.message())};
  return port;
}

Result<RedisServer> RedisServer::start(RedisServerOptions options) {
  if (options.dir.empty()) return Error{"redis-server needs a directory"};
  std::error_code fs_error;
  fs::create_directories(options.dir, fs_error);
  const fs::path dir = fs::absolute(options.dir, fs_error);
  if (fs_error) return Error{fmt::format("cannot create {}: {}", options.dir, fs_error.message())};

  uint16_t port = options.port;
  if (port == 0) {
    Result<uint16_t> free_port = pick_free_port(options.bind);
    if (!free_port) return free_port.error();
    port = *free_port;
  }

  const fs::path config_path = dir / "redis.conf";
  {
    std::ofstream config(config_path, std::ios::trunc);
    config << config_text(options, dir, port);
    if (!config.flush()) return Error{fmt::format("cannot write {}", config_path.string())};
  }

  ConnectionOptions probe;
  probe.endpoint = Endpoint{options.bind, port};
  probe.connect_timeout = probe_connect_timeout;
  probe.command_timeout = probe_command_timeout;
  if (Status cleared = shut_down_orphan(probe, config_path); !cleared) return cleared.error();

  const std::string output_path = (dir / "redis-server.out").string();
  Result<process::Child> child = process::Child::spawn({.argv = {options.executable, config_path.string()},
                                                        .working_dir = dir.string(),
                                                        .stdout_path = output_path,
                                                        .stderr_path = output_path,
                                                        .own_process_group = true});
  if (!child) return child.error();

  const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  while (true) {
    if (!child->running()) {
      return Error{
          fmt::format("redis-server exited during start-up (port {}); its log:\n{}", port, logs_of(dir))};
    }
    Result<BlockingClient> client = BlockingClient::connect(probe);
    if (client) {
      // The server answering must be this child, not another one already on the port (left
      // running by a process that crashed, say), or stop() would leave the wrong one behind.
      const pid_t answering = info_pid(server_info(*client));
      if (answering == child->pid()) break;
      child->stop();
      return Error{
          fmt::format("port {} is already served by another redis-server (pid {}); stop it or pick "
                      "another port",
                      port, answering)};
    }
    if (options.cancel != nullptr && options.cancel->load()) {
      child->stop();
      return Error{fmt::format("redis-server start on port {} cancelled", port)};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      child->stop();
      return Error{fmt::format("redis-server did not answer PING on port {} within {} ms ({}); its log:\n{}",
                               port, options.start_timeout.count(), client.error().message, logs_of(dir))};
    }
    std::this_thread::sleep_for(probe_pause);
  }
  return RedisServer(std::move(child).value(), probe.endpoint);
}

RedisServer::~RedisServer() {
  if (Status stopped = stop(); !stopped) fmt::print(stderr, "{}\n", stopped.error().message);
}

Status RedisServer::stop() {
  if (child_.pid() <= 0) return {};  // moved from
  const int status = child_.stop(stop_grace);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFSIGNALED(status)) {
    return Error{fmt::format("redis-server (pid {}) was ended by signal {}", child_.pid(), WTERMSIG(status))};
  }
  return Error{fmt::format("redis-server (pid {}) exited with status {}", child_.pid(), WEXITSTATUS(status))};
}

}  // namespace reel::redis
