#include "backup/backup.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sodium.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/text.h"
#include "process/child.h"
#include "projection/keys.h"
#include "redis/reply.h"
#include "redis/server.h"
#include "sql/backup.h"
#include "sql/connection.h"
#include "sql/outbox_store.h"
#include "sql/url.h"
#include "writes/relay.h"

namespace reel::backup {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view format_name = "reel-backup";
constexpr int format_version = 1;
constexpr std::string_view manifest_file = "manifest.json";
constexpr std::string_view redis_file = "redis.rdb";
constexpr std::string_view sqlite_file = "sql.sqlite";
constexpr std::string_view mariadb_file = "sql.sql";
constexpr size_t keys_per_batch = 500;

constexpr std::string_view consistency_note =
    "Redis copied first (redis-cli --rdb), SQL second, both under a hold of view counting: every write in "
    "the RDB is in the SQL copy, and restore applies the outbox rows committed between the two copies to the "
    "loaded Redis (each object's rows above its watermark, in order), so Redis ends where SQL ends; view "
    "counts are equal in both. Redis-only state (sessions, job queue, trending, co-views, rate limits) is "
    "restored from the RDB with its remaining TTLs.";

void report(const Progress& progress, std::string_view step) {
  if (progress) progress(step);
}

Result<std::string> sha256_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("cannot read {}", path.string())};
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<char> buffer(1 << 20);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buffer.data()),
                              static_cast<unsigned long long>(in.gcount()));
  }
  if (in.bad()) return Error{fmt::format("cannot read {}", path.string())};
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  return to_hex(digest);
}

Result<FileEntry> describe(const fs::path& dir, std::string_view name) {
  std::error_code ec;
  const uint64_t bytes = fs::file_size(dir / name, ec);
  if (ec) return Error{fmt::format("cannot read {}: {}", (dir / name).string(), ec.message())};
  auto sum = sha256_of(dir / name);
  if (!sum) return sum.error();
  return FileEntry{std::string(name), bytes, std::move(*sum)};
}

// Runs a tool to its end; its output goes to `log`, quoted in the Error when it fails.
// `input`, when given, is its standard input.
Status run_tool(std::vector<std::string> argv, std::vector<std::string> env, const fs::path& log,
                const fs::path& input = {}) {
  const std::string program = argv.front();
  auto child = process::Child::spawn({.argv = std::move(argv),
                                      .stdin_path = input.string(),
                                      .stdout_path = log.string(),
                                      .stderr_path = log.string(),
                                      .extra_env = std::move(env),
                                      .die_with_parent = true});
  if (!child) return child.error();
  std::optional<int> status;
  while (!(status = child->wait_for(std::chrono::seconds(60)))) {
  }
  std::error_code ec;
  std::string output;
  if (std::ifstream in(log); in) output.assign(std::istreambuf_iterator<char>(in), {});
  fs::remove(log, ec);
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    if (output.size() > 2000) output = "…" + output.substr(output.size() - 2000);
    return Error{fmt::format("{} failed (status {}): {}", program, *status, output)};
  }
  return {};
}

// The connection arguments of the MariaDB client tools for `address`, and the environment that
// carries the password (never argv: other users can read a process's arguments).
std::pair<std::vector<std::string>, std::vector<std::string>> mariadb_client(
    std::string program, const sql::MariadbAddress& address) {
  std::vector<std::string> argv{std::move(program), "--default-character-set=utf8mb4"};
  if (!address.user.empty()) argv.push_back("--user=" + address.user);
  if (!address.socket.empty()) {
    argv.push_back("--socket=" + address.socket);
  } else if (!address.host.empty()) {
    argv.push_back("--host=" + address.host);
    argv.push_back(fmt::format("--port={}", address.port));
    argv.push_back("--protocol=TCP");
  }
  std::vector<std::string> env;
  if (!address.password.empty()) env.push_back("MYSQL_PWD=" + address.password);
  return {argv, env};
}

std::string backend_of(std::string_view url) {
  return sql::sqlite_path(url) ? "sqlite" : "mariadb";
}

Status copy_redis(const Node& node, const fs::path& dir) {
  std::vector<std::string> env;
  if (!node.redis.password.empty()) env.push_back("REDISCLI_AUTH=" + node.redis.password);
  return run_tool({"redis-cli", "-h", node.redis.endpoint.host, "-p",
                   std::to_string(node.redis.endpoint.port), "--rdb", (dir / redis_file).string()},
                  std::move(env), dir / "redis-cli.log");
}

Status copy_sql(const Node& node, const fs::path& dir) {
  if (auto path = sql::sqlite_path(node.sql_url))
    return sql::copy_sqlite(*path, (dir / sqlite_file).string());
  auto address = sql::parse_mariadb_url(node.sql_url);
  if (!address) return address.error();
  auto [argv, env] = mariadb_client("mariadb-dump", *address);
  for (const char* option : {"--single-transaction", "--quick", "--hex-blob", "--no-tablespaces"})
    argv.emplace_back(option);
  argv.push_back("--result-file=" + (dir / mariadb_file).string());
  argv.push_back(address->database);
  return run_tool(std::move(argv), std::move(env), dir / "mariadb-dump.log");
}

// The value of `field` in INFO text; empty when absent.
nlohmann::json to_json(const Manifest& manifest) {
  nlohmann::json files = nlohmann::json::array();
  for (const FileEntry& file : manifest.files)
    files.push_back({{"name", file.name}, {"bytes", file.bytes}, {"sha256", file.sha256}});
  return {{"format", format_name},
          {"format_version", format_version},
          {"created_at", manifest.created_at},
          {"created_at_utc",
           fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(manifest.created_at)))},
          {"sql",
           {{"backend", manifest.sql_backend},
            {"file", manifest.sql_file},
            {"schema_version", manifest.schema_version},
            {"tool", manifest.sql_backend == "sqlite" ? "SQLite online backup API"
                                                      : "mariadb-dump --single-transaction"}}},
          {"redis",
           {{"file", manifest.redis_file},
            {"redis_version", manifest.redis_version},
            {"tool", "redis-cli --rdb"}}},
          {"consistency", consistency_note},
          {"files", files}};
}

Result<Manifest> from_json(const nlohmann::json& json) {
  if (!json.is_object() || json.value("format", "") != format_name)
    return Error{fmt::format("not a reel backup manifest (no \"format\": \"{}\")", format_name)};
  if (json.value("format_version", 0) != format_version) {
    return Error{fmt::format("backup format version {} is not the one this build reads ({})",
                             json.value("format_version", 0), format_version)};
  }
  Manifest manifest;
  manifest.created_at = json.value("created_at", int64_t{0});
  const nlohmann::json& sql = json.at("sql");
  manifest.sql_backend = sql.at("backend").get<std::string>();
  manifest.sql_file = sql.at("file").get<std::string>();
  manifest.schema_version = sql.at("schema_version").get<int>();
  manifest.redis_file = json.at("redis").at("file").get<std::string>();
  manifest.redis_version = json.at("redis").value("redis_version", "");
  for (const auto& file : json.at("files")) {
    manifest.files.push_back({file.at("name").get<std::string>(), file.at("bytes").get<uint64_t>(),
                              file.at("sha256").get<std::string>()});
  }
  return manifest;
}

Status write_manifest(const fs::path& dir, const Manifest& manifest) {
  std::ofstream out(dir / manifest_file, std::ios::trunc);
  out << to_json(manifest).dump(2) << '\n';
  out.close();
  if (!out) return Error{fmt::format("cannot write {}", (dir / manifest_file).string())};
  return {};
}

// The directory a backup is written into, and renamed from once complete.
Result<fs::path> prepare_directory(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    return Error{fmt::format("{} exists and is not empty: back up into a new directory", dir.string())};
  fs::path partial = dir.string() + ".partial";
  fs::remove_all(partial, ec);
  fs::create_directories(partial, ec);
  if (ec) return Error{fmt::format("cannot create {}: {}", partial.string(), ec.message())};
  return partial;
}

Status take_under_hold(const BackupOptions& options, redis::BlockingClient& redis, const fs::path& dir) {
  projection::ViewHold hold(redis, options.hold);
  report(options.progress, "hold view counting");
  Status copied = hold.begin();
  if (copied) {
    report(options.progress, "copy redis");
    copied = copy_redis(options.node, dir);
  }
  if (copied) {
    report(options.progress, "copy sql");
    copied = copy_sql(options.node, dir);
  }
  Status ended = hold.end();
  if (!copied) return copied;
  return ended;
}

}  // namespace

Result<Manifest> take(const BackupOptions& options, redis::BlockingClient& redis) {
  if (sodium_init() < 0) return Error{"libsodium cannot start"};
  const fs::path target = fs::absolute(options.directory).lexically_normal();
  auto dir = prepare_directory(target);
  if (!dir) return dir.error();
  Manifest manifest;
  manifest.created_at = options.now;
  manifest.sql_backend = backend_of(options.node.sql_url);
  manifest.sql_file = std::string(manifest.sql_backend == "sqlite" ? sqlite_file : mariadb_file);
  manifest.redis_file = std::string(redis_file);
  auto db = sql::open({options.node.sql_url});
  if (!db) return db.error();
  auto schema = sql::schema_version(**db);
  if (!schema) return schema.error();
  manifest.schema_version = *schema;
  auto info = redis.execute(redis::Command("INFO", "server"));
  if (!info) return info.error();
  manifest.redis_version = std::string(redis::info_field(info->str(), "redis_version"));

  if (auto s = take_under_hold(options, redis, *dir); !s) return s.error();
  report(options.progress, "checksums");
  for (const std::string& name : {manifest.redis_file, manifest.sql_file}) {
    auto entry = describe(*dir, name);
    if (!entry) return entry.error();
    manifest.files.push_back(std::move(*entry));
  }
  if (auto s = write_manifest(*dir, manifest); !s) return s.error();
  std::error_code ec;
  fs::remove(target, ec);  // an empty directory given as the target
  fs::rename(*dir, target, ec);
  if (ec)
    return Error{fmt::format("cannot rename {} to {}: {}", dir->string(), target.string(), ec.message())};
  return manifest;
}

Result<Manifest> verify(const std::string& directory) {
  if (sodium_init() < 0) return Error{"libsodium cannot start"};
  const fs::path dir(directory);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error{fmt::format("{} is not a backup directory", directory)};
  std::ifstream in(dir / manifest_file);
  if (!in) return Error{fmt::format("{} has no {}: not a complete backup", directory, manifest_file)};
  auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded()) return Error{fmt::format("{}/{} is not valid JSON", directory, manifest_file)};
  Result<Manifest> manifest = Error{""};
  try {
    manifest = from_json(json);
  } catch (const nlohmann::json::exception& e) {
    return Error{fmt::format("{}/{}: {}", directory, manifest_file, e.what())};
  }
  if (!manifest) return Error{fmt::format("{}/{}: {}", directory, manifest_file, manifest.error().message)};
  if (manifest->sql_backend != "sqlite" && manifest->sql_backend != "mariadb")
    return Error{fmt::format("{}: unknown SQL backend '{}'", directory, manifest->sql_backend)};
  if (manifest->schema_version > sql::latest_schema_version()) {
    return Error{
        fmt::format("{} holds schema version {}, newer than this build's {}: restore it with a newer reel",
                    directory, manifest->schema_version, sql::latest_schema_version())};
  }
  for (const std::string& needed : {manifest->sql_file, manifest->redis_file}) {
    const bool listed = std::any_of(manifest->files.begin(), manifest->files.end(),
                                    [&](const FileEntry& file) { return file.name == needed; });
    if (!listed || needed.find('/') != std::string::npos)
      return Error{fmt::format("{}/{} does not list {} among its files", directory, manifest_file, needed)};
  }
  for (const FileEntry& file : manifest->files) {
    if (file.name.find('/') != std::string::npos)
      return Error{
          fmt::format("{}/{}: file name '{}' is not a plain name", directory, manifest_file, file.name)};
    auto found = describe(dir, file.name);
    if (!found) return Error{fmt::format("{}: {}", directory, found.error().message)};
    if (found->bytes != file.bytes || found->sha256 != file.sha256) {
      return Error{fmt::format("{}/{} is damaged: {} bytes, SHA-256 {}; the manifest says {} bytes, {}",
                               directory, file.name, found->bytes, found->sha256, file.bytes, file.sha256)};
    }
  }
  return manifest;
}

namespace {

// Loads the RDB into a scratch redis-server of its own and copies every key, with its remaining
// time to live, into the target (DUMP / RESTORE, pipelined): works for any target Redis, the
// data dir's or a production primary, without touching its files.
Result<uint64_t> load_redis(const fs::path& rdb, redis::BlockingClient& target) {
  std::error_code ec;
  char scratch_template[] = "/tmp/reel-restore-XXXXXX";
  if (::mkdtemp(scratch_template) == nullptr) return Error{"cannot make a scratch directory under /tmp"};
  const fs::path scratch(scratch_template);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{scratch};
  fs::copy_file(rdb, scratch / "dump.rdb", ec);
  if (ec) return Error{fmt::format("cannot copy {}: {}", rdb.string(), ec.message())};
  redis::RedisServerOptions server_options;
  server_options.dir = scratch.string();
  server_options.append_only = false;
  server_options.start_timeout = std::chrono::minutes(30);  // loading a large RDB
  auto server = redis::RedisServer::start(server_options);
  if (!server) return Error{"cannot load the RDB into a scratch redis-server: " + server.error().message};
  redis::ConnectionOptions scratch_options;
  scratch_options.endpoint = server->endpoint();
  scratch_options.command_timeout = std::chrono::minutes(1);
  auto source = redis::BlockingClient::connect(scratch_options);
  if (!source) return source.error();

  uint64_t copied = 0;
  std::string cursor = "0";
  do {
    auto scanned = source->execute(redis::Command("SCAN", cursor, "COUNT", keys_per_batch));
    if (!scanned) return scanned.error();
    if (scanned->elements().size() != 2) return Error{"SCAN answered an unexpected shape"};
    cursor = std::string(scanned->elements()[0].str());
    const auto& names = scanned->elements()[1].elements();
    if (names.empty()) continue;
    std::vector<redis::Command> reads;
    for (const auto& name : names) {
      reads.push_back(redis::Command("PTTL", name.str()));
      reads.push_back(redis::Command("DUMP", name.str()));
    }
    auto values = source->execute(std::move(reads));
    if (!values) return values.error();
    std::vector<redis::Command> writes;
    for (size_t i = 0; i < names.size(); ++i) {
      const int64_t ttl = (*values)[2 * i].integer();
      const redis::Reply& payload = (*values)[2 * i + 1];
      if (ttl == -2 || payload.is_nil()) continue;  // expired meanwhile
      writes.push_back(
          redis::Command("RESTORE", names[i].str(), ttl < 0 ? 0 : ttl, payload.str(), "REPLACE"));
    }
    auto restored = target.execute(std::move(writes));
    if (!restored) return restored.error();
    for (const redis::Reply& reply : *restored) {
      if (reply.is_error()) return Error{fmt::format("RESTORE into the target Redis: {}", reply.str())};
      ++copied;
    }
  } while (cursor != "0");
  if (auto stopped = server->stop(); !stopped) return stopped.error();
  return copied;
}

Status load_sql(const Manifest& manifest, const fs::path& dir, const std::string& url) {
  if (auto path = sql::sqlite_path(url)) {
    std::error_code ec;
    for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(*path + suffix, ec);
    const std::string partial = *path + ".restoring";
    fs::copy_file(dir / manifest.sql_file, partial, fs::copy_options::overwrite_existing, ec);
    if (ec) return Error{fmt::format("cannot copy the SQL backup to {}: {}", partial, ec.message())};
    fs::rename(partial, *path, ec);
    if (ec) return Error{fmt::format("cannot rename {} to {}: {}", partial, *path, ec.message())};
    return {};
  }
  auto address = sql::parse_mariadb_url(url);
  if (!address) return address.error();
  auto [argv, env] = mariadb_client("mariadb", *address);
  argv.push_back("--database=" + address->database);
  // Read from standard input, the client stops at the first error with a non-zero status.
  return run_tool(std::move(argv), std::move(env),
                  fs::temp_directory_path() / fmt::format("reel-restore-{}.log", ::getpid()),
                  dir / manifest.sql_file);
}

// Brings the loaded Redis in step with the loaded SQL: each object whose sequence number in SQL
// is past its watermark in Redis gets its outbox rows above the watermark applied, in order (an
// object whose watermark were ahead, which the backup's order rules out, is set back to SQL's).
Result<std::pair<uint64_t, int64_t>> catch_up(sql::Connection& db, redis::BlockingClient& redis) {
  std::vector<std::pair<std::string, int64_t>> seqs;
  Status listed = sql::OutboxStore(db).for_each_seq([&](std::string_view object, int64_t seq) {
    seqs.emplace_back(std::string(object), seq);
    return true;
  });
  if (!listed) return listed.error();
  std::vector<std::pair<std::string, int64_t>> behind;
  for (size_t begin = 0; begin < seqs.size(); begin += keys_per_batch) {
    const size_t end = std::min(seqs.size(), begin + keys_per_batch);
    std::vector<redis::Command> reads;
    for (size_t i = begin; i < end; ++i) {
      const projection::keys::HashField watermark = projection::keys::write_seq(seqs[i].first);
      reads.push_back(redis::Command("HGET", watermark.key, watermark.field));
    }
    auto replies = redis.execute(std::move(reads));
    if (!replies) return replies.error();
    for (size_t i = begin; i < end; ++i) {
      const redis::Reply& reply = (*replies)[i - begin];
      const int64_t watermark = reply.is_nil() ? 0 : reply.integer();
      if (watermark != seqs[i].second)
        behind.emplace_back(seqs[i].first, std::min(watermark, seqs[i].second));
    }
  }
  auto replayed = writes::rebase_watermarks(db, redis, behind);
  if (!replayed) return replayed.error();
  return std::pair<uint64_t, int64_t>{behind.size(), *replayed};
}

// What the target holds; empty when it holds nothing.
Result<std::string> target_contents(const std::string& url, redis::BlockingClient& redis) {
  std::vector<std::string> held;
  auto keys = redis.execute(redis::Command("DBSIZE"));
  if (!keys) return keys.error();
  if (keys->integer() > 0) held.push_back(fmt::format("{} keys in Redis", keys->integer()));
  auto path = sql::sqlite_path(url);
  std::error_code ec;
  if (!path || fs::exists(*path, ec)) {
    auto db = sql::open({url});
    if (!db) return db.error();
    auto data = sql::holds_data(**db);
    if (!data) return data.error();
    if (*data) held.push_back("rows in SQL");
  }
  return fmt::format("{}", fmt::join(held, " and "));
}

// Empties the target again: nothing of a failed restore may look like a site.
Status empty_target(const std::string& url, redis::BlockingClient& redis) {
  auto flushed = redis.execute(redis::Command("FLUSHALL"));
  if (!flushed) return flushed.error();
  if (auto path = sql::sqlite_path(url)) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal", ".restoring"}) fs::remove(*path + suffix, ec);
    return {};
  }
  auto db = sql::open({url});
  if (!db) return db.error();
  return sql::drop_tables(**db);
}

Result<RestoreStats> load(const RestoreOptions& options, const Manifest& manifest,
                          redis::BlockingClient& redis) {
  const fs::path dir(options.directory);
  RestoreStats stats;
  report(options.progress, "load redis");
  auto keys = load_redis(dir / manifest.redis_file, redis);
  if (!keys) return keys.error();
  stats.redis_keys = *keys;
  // The backup's own hold on view counting is in its RDB; the restored site holds nothing.
  auto released = redis.execute(redis::Command("DEL", projection::keys::views_hold()));
  if (!released) return released.error();
  report(options.progress, "load sql");
  if (auto s = load_sql(manifest, dir, options.node.sql_url); !s) return s.error();
  auto db = sql::open({options.node.sql_url});
  if (!db) return db.error();
  if (auto migrated = sql::migrate(**db); !migrated) return migrated.error();
  report(options.progress, "catch up redis");
  auto caught_up = catch_up(**db, redis);
  if (!caught_up) return caught_up.error();
  stats.objects_caught_up = caught_up->first;
  stats.rows_replayed = caught_up->second;
  return stats;
}

}  // namespace

Result<RestoreStats> restore(const RestoreOptions& options, redis::BlockingClient& redis) {
  report(options.progress, "check backup");
  auto manifest = verify(options.directory);
  if (!manifest) return manifest.error();
  const std::string backend = backend_of(options.node.sql_url);
  if (manifest->sql_backend != backend) {
    return Error{fmt::format("{} is a backup of a {} store; the target's store is {} ({})", options.directory,
                             manifest->sql_backend, backend, sql::redact_url(options.node.sql_url))};
  }
  auto contents = target_contents(options.node.sql_url, redis);
  if (!contents) return contents.error();
  if (!contents->empty() && !options.force) {
    return Error{fmt::format(
        "the target holds data ({}): restore onto a fresh node, or pass --force to replace it", *contents)};
  }
  if (!contents->empty()) {
    report(options.progress, "empty target");
    if (auto s = empty_target(options.node.sql_url, redis); !s) return s.error();
  }
  auto loaded = load(options, *manifest, redis);
  if (loaded) return loaded;
  if (auto emptied = empty_target(options.node.sql_url, redis); !emptied) {
    return Error{fmt::format("{}; emptying the half-restored target failed too: {}", loaded.error().message,
                             emptied.error().message)};
  }
  return Error{loaded.error().message + " (the target was emptied again)"};
}

}  // namespace reel::backup
