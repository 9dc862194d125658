#include "cluster/cluster.h"

#include <fmt/format.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "process/child.h"

namespace reel::testing {
namespace {

namespace fs = std::filesystem;

// `up` seeds, migrates and starts two dozen servers; `down` waits for each to exit.
constexpr auto script_deadline = std::chrono::minutes(5);
// The script's exit status when a port of the range is in use.
constexpr int ports_in_use = 3;

std::string source_dir() {
  const char* source = std::getenv("REEL_SOURCE_DIR");
  return source == nullptr ? std::string(".") : std::string(source);
}

Cluster::Run run_script(const fs::path& dir, std::vector<std::string> args) {
  static std::atomic<int> runs = 0;
  const fs::path output = dir / fmt::format("script-{}.out", ++runs);
  std::vector<std::string> argv{source_dir() + "/scripts/cluster"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--dir", (dir / "cluster").string()});
  auto child = process::Child::spawn(
      {.argv = std::move(argv), .stdout_path = output.string(), .stderr_path = output.string()});
  if (!child) return {-1, child.error().message};
  auto status = child->wait_for(script_deadline);
  if (!status) {
    child->stop();
    return {-1, read_file(output) + "\n(scripts/cluster did not finish in time)"};
  }
  return {WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, read_file(output)};
}

}  // namespace

std::vector<std::string> parts_not_up(const std::string& status_output) {
  std::vector<std::string> lines;
  std::istringstream in(status_output);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string name, address, pid, state;
    fields >> name >> address >> pid >> state;
    if (state != "up") lines.push_back(line);
  }
  return lines;
}

Result<std::unique_ptr<Cluster>> Cluster::up() {
  std::unique_ptr<Cluster> cluster(new Cluster());
  // varnishd compiles its VCL as its own unprivileged user, who must reach the directory.
  fs::permissions(cluster->dir(), fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
  // Base ports below Linux's ephemeral range (32768 and up), so no client socket takes one of the
  // 33 ports between the check and the servers' binds.
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> slot(0, 290);
  Run started;
  for (int attempt = 0; attempt < 10; ++attempt) {
    cluster->site_port_ = static_cast<uint16_t>(20000 + 40 * slot(random));
    started = run_script(cluster->dir(), {"up", "--base-port", std::to_string(cluster->site_port_)});
    if (started.status != ports_in_use) break;
  }
  if (started.status != 0) {
    return Error{fmt::format("scripts/cluster up failed ({}):\n{}\n{}", started.status, started.output,
                             cluster->log_tails())};
  }
  Run status = cluster->run("status");
  std::istringstream in(status.output);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string name, address, pid, state, role, role_address;
    fields >> name >> address >> pid >> state >> role >> role_address;
    cluster->add_port(name, address);
    if (role == "stats") cluster->add_port(name + "-stats", role_address);
  }
  return cluster;
}

std::string Cluster::log_tails() const {
  std::string tails;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(dir() / "cluster" / "log", ignored)) {
    const std::string text = read_file(entry.path());
    size_t from = text.size();
    for (int lines = 0; lines < 12 && from > 0; ++lines) from = text.rfind('\n', from - 1);
    tails += fmt::format("--- {}\n{}\n", entry.path().filename().string(),
                         text.substr(from == std::string::npos ? 0 : from));
  }
  return tails;
}

void Cluster::add_port(const std::string& name, const std::string& address) {
  if (const size_t colon = address.rfind(':');
      address.starts_with("127.0.0.1:") && colon != std::string::npos)
    ports_[name] = static_cast<uint16_t>(std::stoi(address.substr(colon + 1)));
}

Cluster::~Cluster() {
  down();
}

Cluster::Run Cluster::run(const std::string& command) const {
  std::vector<std::string> words;
  std::istringstream in(command);
  for (std::string word; in >> word;) words.push_back(word);
  return run_script(dir(), std::move(words));
}

Cluster::Run Cluster::down() {
  if (!stopped_) {
    down_ = run("down");
    stopped_ = true;
  }
  return down_;
}

uint16_t Cluster::port(const std::string& part) const {
  auto it = ports_.find(part);
  return it == ports_.end() ? 0 : it->second;
}

std::string Cluster::admin_token() const {
  std::string token = read_file(dir() / "cluster" / "admin-token");
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  return token;
}

std::map<std::string, pid_t> Cluster::pids() const {
  std::map<std::string, pid_t> pids;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(dir() / "cluster" / "run", ignored)) {
    if (entry.path().extension() != ".pid") continue;
    const std::string text = read_file(entry.path());
    if (!text.empty()) pids[entry.path().stem().string()] = static_cast<pid_t>(std::atoi(text.c_str()));
  }
  return pids;
}

Result<std::string> Cluster::mariadb(const std::string& where, std::vector<std::string> connection,
                                     const std::string& query) const {
  static std::atomic<int> queries = 0;
  const fs::path output = dir() / fmt::format("sql-{}.out", ++queries);
  std::vector<std::string> argv{"mariadb", "-N", "-B", "--connect-timeout=5"};
  argv.insert(argv.end(), connection.begin(), connection.end());
  argv.insert(argv.end(), {"-e", query});
  auto child = process::Child::spawn(
      {.argv = std::move(argv), .stdout_path = output.string(), .stderr_path = output.string()});
  if (!child) return child.error();
  auto status = child->wait_for(std::chrono::seconds(60));
  if (!status) {
    child->stop();
    return Error{fmt::format("mariadb on {} did not answer in time", where)};
  }
  std::string rows = read_file(output);
  fs::remove(output);
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    return Error{fmt::format("mariadb on {}: {}", where, rows)};
  return rows;
}

Result<std::string> Cluster::sql(const std::string& node, const std::string& query) const {
  return mariadb(node, {"--socket=" + (dir() / "cluster" / node / "mariadbd.sock").string()}, query);
}

Result<std::string> Cluster::sql_write_pool(const std::string& query) const {
  // The app's own [sql] url, from the reel.toml `up` wrote.
  static const std::regex url(R"re(url = "mariadb://([^:]+):([^@]+)@([^:]+):(\d+)/)re");
  const std::string config = read_file(dir() / "cluster" / "reel.toml");
  std::smatch found;
  if (!std::regex_search(config, found, url)) return Error{"no mariadb url in reel.toml"};
  return mariadb("the write pool",
                 {"--user=" + found[1].str(), "--password=" + found[2].str(), "--host=" + found[3].str(),
                  "--port=" + found[4].str()},
                 query);
}

}  // namespace reel::testing
