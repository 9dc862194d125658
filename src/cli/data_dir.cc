#include "cli/data_dir.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <system_error>

namespace reel::cli {
namespace {

namespace fs = std::filesystem;

Status write_file(const fs::path& path, const std::string& text) {
  const fs::path partial = path.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << text;
    if (!out) return Error{fmt::format("cannot write {}", partial.string())};
  }
  std::error_code ec;
  fs::rename(partial, path, ec);
  if (ec) return Error{fmt::format("cannot write {}: {}", path.string(), ec.message())};
  return {};
}

constexpr std::string_view restore_mark = "restore.incomplete";

// A tool's batches (rebuild sends 2,000 commands a round trip) may take far longer than a page's.
constexpr std::chrono::milliseconds tool_command_timeout{60000};

// A UDP port on 127.0.0.1 that was free a moment ago.
Result<uint16_t> pick_free_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{fmt::format("cannot pick a UDP port: {}", std::strerror(errno))};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  std::string failure = ok ? "" : std::strerror(errno);
  ::close(fd);
  if (!ok) return Error{"cannot pick a UDP port: " + failure};
  return ntohs(address.sin_port);
}

// 32 random hex digits (the kernel's CSPRNG through std::random_device).
std::string random_secret() {
  std::random_device random;
  std::string secret;
  for (int i = 0; i < 4; ++i) secret += fmt::format("{:08x}", random());
  return secret;
}

bool has_section(const std::string& toml_text, std::string_view section) {
  const std::string header = fmt::format("[{}]", section);
  return toml_text.starts_with(header) || toml_text.find("\n" + header) != std::string::npos;
}

// Data dirs made by older versions get the sections `reel up` needs that they lack: [views] (a
// loopback UDP port for the in-process aggregator and a secret for viewer keys) and [media] (the
// secret media links are signed with).
Status add_missing_sections(const fs::path& file) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t original_size = text.size();
  if (!has_section(text, "views")) {
    auto port = pick_free_udp_port();
    if (!port) return port.error();
    text += fmt::format("\n[views]\nsink = \"udp:127.0.0.1:{}\"\nsecret = \"{}\"\n", *port, random_secret());
  }
  if (!has_section(text, "media")) text += fmt::format("\n[media]\nlink_secret = \"{}\"\n", random_secret());
  if (!has_section(text, "auth")) text += fmt::format("\n[auth]\nsecret = \"{}\"\n", random_secret());
  return text.size() == original_size ? Status{} : write_file(file, text);
}

}  // namespace

redis::ConnectionOptions redis_connection_options(const config::Config& config,
                                                  const redis::Endpoint& endpoint,
                                                  std::chrono::milliseconds min_command_timeout) {
  redis::ConnectionOptions options;
  options.endpoint = endpoint;
  options.password = config.redis.password;
  options.command_timeout =
      std::max(std::chrono::milliseconds(config.redis.command_timeout_ms), min_command_timeout);
  return options;
}

Result<std::optional<redis::ConnectionOptions>> optional_redis_endpoint(const config::Config& config,
                                                                        std::string_view key,
                                                                        const std::string& value) {
  if (value.empty()) return std::optional<redis::ConnectionOptions>{};
  auto endpoint = redis::parse_endpoint(value);
  if (!endpoint) return Error{fmt::format("[redis] {}: {}", key, endpoint.error().message)};
  return std::optional<redis::ConnectionOptions>{redis_connection_options(config, *endpoint)};
}

Result<std::unique_ptr<purge::Purger>> open_purger(const config::Config& config) {
  auto nodes = purge::parse_nodes(config.varnish.purge_nodes);
  if (!nodes) return Error{"[varnish] purge_nodes: " + nodes.error().message};
  if (nodes->empty()) return std::unique_ptr<purge::Purger>();
  purge::PurgerOptions options;
  options.nodes = std::move(*nodes);
  options.repeat = std::chrono::milliseconds(config.varnish.purge_repeat_ms);
  return std::make_unique<purge::Purger>(std::move(options));
}

Result<DataDir> DataDir::open(const std::string& path, Purpose purpose) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Error{fmt::format("cannot create data dir {}: {}", path, ec.message())};
  if (purpose != Purpose::restore && fs::exists(fs::path(path) / restore_mark, ec)) {
    return Error{
        fmt::format("a `reel restore` into {} did not finish ({} is there): run it again with --force", path,
                    restore_mark)};
  }
  DataDir dir;
  dir.path_ = fs::absolute(path).lexically_normal().string();
  if (!dir.path_.empty() && dir.path_.back() == '/') dir.path_.pop_back();
  for (auto sub : {"redis", "media", "log"}) {
    fs::create_directories(fs::path(dir.path_) / sub, ec);
    if (ec) return Error{fmt::format("cannot create {}/{}: {}", dir.path_, sub, ec.message())};
  }
  const fs::path file = fs::path(dir.path_) / "reel.toml";
  if (!fs::exists(file)) {
    auto port = redis::pick_free_port("127.0.0.1");
    if (!port) return port.error();
    auto defaults = config::load("");
    if (!defaults) return defaults.error();
    config::Config fresh = *defaults;
    fresh.redis.write = fmt::format("127.0.0.1:{}", *port);
    fresh.sql.url = "sqlite:" + dir.path_ + "/reel.db";
    fresh.paths.media = dir.path_ + "/media";
    fresh.server.access_log = dir.path_ + "/log/access.log";
    // `reel up` runs the view aggregator in-process, listening on this port.
    auto views_port = pick_free_udp_port();
    if (!views_port) return views_port.error();
    fresh.views.sink = fmt::format("udp:127.0.0.1:{}", *views_port);
    fresh.views.secret = random_secret();
    fresh.media.link_secret = random_secret();
    fresh.auth.secret = random_secret();
    if (auto s = write_file(file, config::to_toml(fresh)); !s) return s.error();
  }
  if (auto s = add_missing_sections(file); !s) return s.error();
  auto loaded = config::load(file.string());
  if (!loaded) return loaded.error();
  dir.config_ = std::move(*loaded);
  return dir;
}

Status DataDir::mark_restoring(bool restoring) const {
  const fs::path mark = fs::path(path_) / restore_mark;
  if (restoring) return write_file(mark, "a `reel restore` into this folder has not finished\n");
  std::error_code ec;
  fs::remove(mark, ec);
  if (ec) return Error{fmt::format("cannot remove {}: {}", mark.string(), ec.message())};
  return {};
}

Result<redis::RedisServerOptions> DataDir::redis_options() const {
  auto endpoint = redis::parse_endpoint(config_.redis.write);
  if (!endpoint) return endpoint.error();
  redis::RedisServerOptions options;
  options.dir = redis_dir();
  options.bind = endpoint->host;
  options.port = endpoint->port;
  options.append_only = true;
  // Loading a large dataset (a 1,000,000-video catalog is ~3 GB) takes minutes; a redis-server
  // that dies is noticed at once anyway.
  options.start_timeout = std::chrono::minutes(30);
  // Rebuilds RENAME over large lists; free the old values in the background.
  options.extra_config_lines = {"lazyfree-lazy-server-del yes", "lazyfree-lazy-user-del yes"};
  return options;
}

Result<redis::RedisServer> DataDir::start_redis() const {
  auto options = redis_options();
  if (!options) return options.error();
  auto server = redis::RedisServer::start(*options);
  if (!server) return cannot_start_redis(server.error());
  return server;
}

Result<std::unique_ptr<redis::RedisSupervisor>> DataDir::supervise_redis() const {
  auto options = redis_options();
  if (!options) return options.error();
  auto supervisor = redis::RedisSupervisor::start(*options);
  if (!supervisor) return cannot_start_redis(supervisor.error());
  return supervisor;
}

Error DataDir::cannot_start_redis(const Error& why) const {
  return Error{
      fmt::format("cannot start redis-server for {} on {}: {}", path_, config_.redis.write, why.message)};
}

Result<RedisLease> connect_redis(const config::Config& config, const DataDir* data_dir) {
  auto endpoint = redis::parse_endpoint(config.redis.write);
  if (!endpoint) return endpoint.error();
  RedisLease lease;
  auto client =
      redis::BlockingClient::connect(redis_connection_options(config, *endpoint, tool_command_timeout));
  if (!client && data_dir) {
    auto server = data_dir->start_redis();
    if (!server) return server.error();
    lease.server.emplace(std::move(*server));
    client =
        redis::BlockingClient::connect(redis_connection_options(config, *endpoint, tool_command_timeout));
  }
  if (!client)
    return Error{fmt::format("cannot reach redis at {}: {}", config.redis.write, client.error().message)};
  lease.client = std::make_unique<redis::BlockingClient>(std::move(*client));
  return lease;
}

}  // namespace reel::cli
