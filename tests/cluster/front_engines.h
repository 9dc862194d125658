// The front engines of deploy/ started one by one on loopback, for the suites that put one part of
// the topology behind them (cluster_haproxy_test, cluster_varnish_test, cluster_write_retry_test).
// Failure: an Error when REEL_SOURCE_DIR is unset or the engine cannot be spawned; a configuration
// it refuses shows in its log, as the process exits.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "process/child.h"
#include "support/fixtures.h"

namespace reel::testing {

inline std::string loopback(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

// HAProxy with every address the file reads from the environment: those in `addresses` (name
// without REEL_, e.g. {"APP1", "127.0.0.1:8081"}) as given; the others a free port where HAProxy
// listens, and one where nothing listens for the servers it checks. Output goes to `log`.
inline Result<process::Child> spawn_haproxy(const std::filesystem::path& log,
                                            const std::map<std::string, std::string>& addresses) {
  const char* source = std::getenv("REEL_SOURCE_DIR");
  if (source == nullptr) return Error{"REEL_SOURCE_DIR is not set"};
  const std::string unused = loopback(free_port());  // nothing listens there
  std::map<std::string, std::string> environment;
  for (const char* listens :
       {"PUBLIC", "APP_LISTEN", "REDIS_WRITE", "REDIS_READ", "SQL_WRITE", "SQL_READ", "STATS"}) {
    environment[listens] = loopback(free_port());
  }
  for (const char* server : {"VARNISH1", "VARNISH2", "APP1", "APP2", "REDIS1", "REDIS2", "REDIS3",
                             "STATIC_ORIGIN", "MEDIA_ORIGIN", "MARIADB1", "MARIADB2", "MARIADB3"}) {
    environment[server] = unused;
  }
  for (const auto& [name, address] : addresses) environment[name] = address;
  process::SpawnOptions options{
      .argv = {"haproxy", "-db", "-f", std::string(source) + "/deploy/haproxy/haproxy.cfg"},
      .stdout_path = log.string(),
      .stderr_path = log.string(),
      .die_with_parent = true};
  for (const auto& [name, address] : environment) options.extra_env.push_back("REEL_" + name + "=" + address);
  return process::Child::spawn(options);
}

// varnishd with the repository's deploy/varnish/reel.vcl and `backends_vcl` as the backends.vcl
// it includes (backends, `acl purgers`, a vcl_init adding them to the `app` director), listening on
// 127.0.0.1:`port`, its files and log (varnish.log) in `dir`. varnishd compiles the VCL as its own
// unprivileged user, so `dir` is made readable to others.
inline Result<process::Child> spawn_varnish(const std::filesystem::path& dir, const std::string& backends_vcl,
                                            uint16_t port) {
  namespace fs = std::filesystem;
  const char* source = std::getenv("REEL_SOURCE_DIR");
  if (source == nullptr) return Error{"REEL_SOURCE_DIR is not set"};
  std::error_code ec;
  fs::permissions(dir, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add, ec);
  const fs::path vcl = dir / "vcl";
  fs::create_directories(vcl, ec);
  fs::copy_file(fs::path(source) / "deploy/varnish/reel.vcl", vcl / "reel.vcl",
                fs::copy_options::overwrite_existing, ec);
  if (ec) return Error{"copying reel.vcl: " + ec.message()};
  std::ofstream(vcl / "backends.vcl") << backends_vcl;
  const std::string log = (dir / "varnish.log").string();
  return process::Child::spawn(
      {.argv = {"varnishd", "-F", "-n", (dir / "varnish").string(), "-a", loopback(port), "-f",
                (vcl / "reel.vcl").string(), "-p", "vcl_path=" + vcl.string(), "-s", "malloc,64m"},
       .stdout_path = log,
       .stderr_path = log,
       .die_with_parent = true});
}

}  // namespace reel::testing
