// Backup and restore of a node's state: SQL (the record) and Redis (the read model and what only
// Redis holds: sessions, the media job queue, trending, co-views, rate limits), taken so that the
// two agree, for `reel backup DIR` and `reel restore DIR`.
//
// A backup directory holds redis.rdb (Redis' own snapshot, fetched over the network as a replica
// does: redis-cli --rdb), the SQL copy (sql.sqlite: SQLite's online backup API; sql.sql:
// mariadb-dump --single-transaction, one consistent snapshot while writes go on) and
// manifest.json (what, when, versions, the SQL backend, each file's size and SHA-256). It is
// written as DIR.partial and renamed to DIR once complete, so an interrupted backup never looks
// like one.
//
// Why they agree: Redis is copied first, SQL second, both while view counting is held
// (projection/view_hold.h), so (1) every write in the RDB was committed in SQL before it landed
// in Redis, hence is in the SQL copy, and each object's watermark in the RDB (keys::write_seq) is
// at most its sequence number in SQL; the writes committed between the two copies are in SQL's
// outbox (kept at least an hour after they were applied), and restore applies them to the loaded
// Redis in order (writes::rebase_watermarks, the relay's replay of a gap), so Redis ends where SQL
// ends; (2) no view increment is applied while held, and every one applied before is in SQL's
// daily counts, so view counts agree too. Redis-only state comes back as it was in the RDB (keys
// keep their remaining time to live).
//
// Thread-safety: each call blocks its thread; the BlockingClient it is given is used by it alone
// meanwhile. Failure: an Error naming the step, the file or the tool and its output. take() leaves
// only DIR.partial behind. restore() checks the backup (manifest and checksums) and that the
// target holds no data (unless `force`) before it changes anything; a failure after that empties
// the target's Redis and SQL again, so a node is either restored completely or empty.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "projection/view_hold.h"
#include "redis/blocking_client.h"
#include "redis/connection.h"

namespace reel::backup {

// The node backed up or restored: its SQL store and its (primary) Redis.
struct Node {
  std::string sql_url;
  redis::ConnectionOptions redis;
};

// One file of a backup, as the manifest lists it.
struct FileEntry {
  std::string name;
  uint64_t bytes = 0;
  std::string sha256;  // lowercase hex
};

struct Manifest {
  int64_t created_at = 0;   // Unix seconds
  std::string sql_backend;  // "sqlite" | "mariadb"
  std::string sql_file;
  std::string redis_file;
  int schema_version = 0;
  std::string redis_version;
  std::vector<FileEntry> files;
};

using Progress = std::function<void(std::string_view step)>;

struct BackupOptions {
  Node node;
  std::string directory;  // created; must not exist, or be empty
  int64_t now = 0;        // Unix seconds, from the caller's Clock: the manifest's created_at
  projection::ViewHoldOptions hold{"backup"};
  Progress progress;
};

Result<Manifest> take(const BackupOptions& options, redis::BlockingClient& redis);

// Reads DIR/manifest.json and checks it: the format and its version, a backend this build reads,
// a schema no newer than this build's, and every file present with its size and checksum.
Result<Manifest> verify(const std::string& directory);

struct RestoreOptions {
  Node node;
  std::string directory;
  bool force = false;  // replace what the target holds
  Progress progress;
};

struct RestoreStats {
  uint64_t redis_keys = 0;
  uint64_t objects_caught_up = 0;  // objects written between the Redis and the SQL copy
  int64_t rows_replayed = 0;       // their outbox rows applied to Redis
};

Result<RestoreStats> restore(const RestoreOptions& options, redis::BlockingClient& redis);

}  // namespace reel::backup
