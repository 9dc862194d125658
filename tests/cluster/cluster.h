// The whole topology of deploy/ on loopback, started with scripts/cluster in a temporary directory
// for one test (label cluster) and stopped with `scripts/cluster down` when the Cluster goes.
// Thread-safety: a Cluster is used by one thread; its getters may be read from several.
// Failure: up() returns an Error with the script's output and where its logs are.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "support/fixtures.h"

namespace reel::testing {

class Cluster {
 public:
  // What a run of scripts/cluster printed (stdout and stderr) and its exit status.
  struct Run {
    int status = -1;
    std::string output;
  };

  // `scripts/cluster up` in a new temporary directory, on a base port whose range is free (tried
  // again on another when the script finds one in use).
  static Result<std::unique_ptr<Cluster>> up();

  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  ~Cluster();  // down, if not done already

  // `scripts/cluster COMMAND --dir DIR`, COMMAND's words split at spaces ("start views-1-2").
  Run run(const std::string& command) const;
  // `scripts/cluster down`, once; the later calls return what the first did.
  Run down();

  const std::filesystem::path& dir() const { return dir_.path(); }
  // Where visitors connect: HAProxy's public frontend.
  uint16_t site_port() const { return site_port_; }
  // A part's port as `status` printed it when the cluster came up ("serve1", "redis2", ...,
  // "haproxy-stats" for HAProxy's stats page); 0 for a part without one.
  uint16_t port(const std::string& part) const;
  // The admin API token `up` made.
  std::string admin_token() const;
  // The pid of every part from its pid file, by name (those alive or not).
  std::map<std::string, pid_t> pids() const;
  // Runs `query` as root on MariaDB node `node` ("mariadb1".."mariadb3") over its socket: the
  // rows, tab-separated, one a line; an Error when the client fails (the node is down).
  Result<std::string> sql(const std::string& node, const std::string& query) const;
  // Runs `query` as the app does: through HAProxy's MariaDB write pool, with the app's account.
  Result<std::string> sql_write_pool(const std::string& query) const;
  // The last lines of every part's log, for a failure message.
  std::string log_tails() const;

 private:
  Cluster() = default;
  void add_port(const std::string& name, const std::string& address);
  // The mariadb client with `connection`'s options; `where` names it in errors.
  Result<std::string> mariadb(const std::string& where, std::vector<std::string> connection,
                              const std::string& query) const;

  TempDir dir_;
  uint16_t site_port_ = 0;
  std::map<std::string, uint16_t> ports_;
  bool stopped_ = false;
  Run down_;
};

// The lines of `status` output whose state column is not "up" (empty: every part is up).
std::vector<std::string> parts_not_up(const std::string& status_output);

}  // namespace reel::testing
