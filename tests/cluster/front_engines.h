// deploy/haproxy/haproxy.cfg started by itself on loopback, for the suites that put one part of
// the topology behind it (cluster_haproxy_test, cluster_write_retry_test).
// Failure: an Error when REEL_SOURCE_DIR is unset or haproxy cannot be spawned; a configuration
// HAProxy refuses shows in the log, as the process exits.
#pragma once

#include <cstdlib>
#include <filesystem>
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

}  // namespace reel::testing
