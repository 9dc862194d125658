#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "auth/accounts.h"
#include "auth/password.h"
#include "backup/backup.h"
#include "cli/cli.h"
#include "cli/data_dir.h"
#include "cli/progress.h"
#include "cli/serve.h"
#include "cli/views.h"
#include "common/clock.h"
#include "common/host_port.h"
#include "common/log_failure.h"
#include "projection/keys.h"
#include "projection/rebuild.h"
#include "seed/catalog_seed.h"
#include "sql/catalog_store.h"
#include "sql/token_store.h"
#include "worker/worker.h"
#include "writes/write_path.h"

namespace reel::cli {
namespace {

// Where a command finds its settings: a data dir (embedded mode) or a config file.
struct Target {
  std::string data_dir;
  std::string config_file;
};

void add_target_options(CLI::App& command, Target& target) {
  auto* dir =
      command.add_option("--data-dir", target.data_dir, "Embedded-mode data directory (created if missing)");
  auto* file = command.add_option("--config", target.config_file, "TOML config file (production)");
  dir->excludes(file);
}

struct Settings {
  std::optional<DataDir> data_dir;
  config::Config config;
};

Result<Settings> resolve(const Target& target) {
  Settings settings;
  if (!target.data_dir.empty()) {
    auto dir = DataDir::open(target.data_dir);
    if (!dir) return dir.error();
    settings.config = dir->config();
    settings.data_dir.emplace(std::move(*dir));
    return settings;
  }
  auto config = config::load(target.config_file);
  if (!config) return config.error();
  settings.config = std::move(*config);
  return settings;
}

Result<std::unique_ptr<sql::Connection>> open_store(const config::Config& config) {
  auto connection = sql::open({config.sql.url});
  if (!connection) return connection.error();
  if (auto version = sql::migrate(**connection); !version) return version.error();
  return connection;
}

// What seed and rebuild work on: the settings, the migrated SQL store, and Redis (started from the
// data dir for the duration of the command when it was not running).
struct Stores {
  Settings settings;
  std::unique_ptr<sql::Connection> sql;
  RedisLease redis;
};

Result<Stores> open_stores(const Target& target) {
  auto settings = resolve(target);
  if (!settings) return settings.error();
  auto connection = open_store(settings->config);
  if (!connection) return connection.error();
  auto lease = connect_redis(settings->config, settings->data_dir ? &*settings->data_dir : nullptr);
  if (!lease) return lease.error();
  return Stores{std::move(*settings), std::move(*connection), std::move(*lease)};
}

// `primary`: the write path's store when `store` reads a replica; null otherwise.
Result<projection::RebuildStats> run_rebuild(sql::CatalogStore& store, redis::BlockingClient& redis,
                                             std::vector<std::string> projections,
                                             sql::Connection* primary = nullptr) {
  Progress progress;
  projection::RebuildOptions options;
  options.projections = std::move(projections);
  options.primary = primary;
  options.now = SystemClock().unix_seconds();
  options.progress = [&](std::string_view stage, uint64_t done, uint64_t total) {
    progress.update(stage, done, total);
  };
  auto stats = projection::rebuild(store, redis, options);
  progress.finish();
  return stats;
}

int fail(const Error& error) {
  fmt::print(stderr, "reel: {}\n", error.message);
  return 1;
}

int cmd_migrate(const Target& target) {
  auto settings = resolve(target);
  if (!settings) return fail(settings.error());
  auto connection = sql::open({settings->config.sql.url});
  if (!connection) return fail(connection.error());
  auto version = sql::migrate(**connection);
  if (!version) return fail(version.error());
  fmt::print("schema at version {}\n", *version);
  return 0;
}

// The password of `reel admin create-user`, never from argv (other users can read a process's
// arguments): typed twice without echo on a terminal, else the first line of stdin.
Result<std::string> read_password() {
  std::string password;
  if (isatty(STDIN_FILENO) == 0) {
    if (!std::getline(std::cin, password)) return Error{"no password on standard input"};
    if (password.ends_with('\r')) password.pop_back();
    return password;
  }
  termios echoing{};
  if (tcgetattr(STDIN_FILENO, &echoing) != 0) return Error{"cannot read the terminal's settings"};
  termios silent = echoing;
  silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
  std::string repeated;
  fmt::print(stderr, "Password: ");
  std::getline(std::cin, password);
  fmt::print(stderr, "\nRepeat it: ");
  std::getline(std::cin, repeated);
  fmt::print(stderr, "\n");
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &echoing);
  if (password != repeated) return Error{"the passwords differ"};
  return password;
}

struct CreateUserArgs {
  Target target;
  std::string name;
  std::string email;
  std::string role = "user";
};

// Registers an account with the given role (the first admin), as registration does: the same
// rules, the password hashed with the default cost, the user's projection written to Redis.
int cmd_admin_create_user(const CreateUserArgs& args) {
  auto password = read_password();
  if (!password) return fail(password.error());
  auto account = auth::prepare_registration(args.name, args.email, *password);
  if (!account) return fail(account.error());
  account->role = catalog::parse_role(args.role).value_or(catalog::Role::user);
  auto hasher = auth::PasswordHasher::create(auth::default_password_cost);
  if (!hasher) return fail(hasher.error());
  auto hash = hasher->hash(*password);
  if (!hash) return fail(hash.error());
  auto stores = open_stores(args.target);
  if (!stores) return fail(stores.error());
  const int64_t now = SystemClock().unix_seconds();
  auto written = writes::write_blocking<auth::Registered>(
      *stores->sql, *stores->redis.client,
      [&](writes::Transaction& tx) { return auth::register_account(tx, *account, *hash, now); }, now);
  if (!written) return fail(written.error());
  const auth::Registered& registered = written->value;
  if (!registered.user) return fail(Error{std::string(auth::taken_message)});
  // Not landed: committed, and the relay of any `reel worker` (or `reel up`) applies it.
  fmt::print("user {} ({}) created with role {}{}\n", registered.user->name, registered.user->id,
             catalog::role_name(registered.user->role), written->landed ? "" : " (Redis catches up shortly)");
  return 0;
}

struct TokenAction {
  std::string label = "reel admin token";
  bool list = false;
  int64_t revoke = 0;  // the id to revoke; 0: none
};

// Prints a new admin API token (only its hash is stored); or, with --list, every token (id, role,
// created, its last four characters, label: never the token); or, with --revoke ID, deletes one.
int cmd_admin_token(const Target& target, const TokenAction& action) {
  auto settings = resolve(target);
  if (!settings) return fail(settings.error());
  auto connection = open_store(settings->config);
  if (!connection) return fail(connection.error());
  sql::TokenStore tokens(**connection);
  if (action.list) {
    auto listed = tokens.list();
    if (!listed) return fail(listed.error());
    fmt::print("{:>6}  {:<5}  {:<20}  {:<10}  {}\n", "ID", "ROLE", "CREATED (UTC)", "TOKEN", "LABEL");
    for (const auto& token : *listed) {
      fmt::print("{:>6}  {:<5}  {:<20}  {:<10}  {}\n", token.id,
                 token.role == sql::TokenRole::admin ? "admin" : "user",
                 fmt::format("{:%Y-%m-%d %H:%M:%S}", fmt::gmtime(static_cast<std::time_t>(token.created_at))),
                 token.hint.empty() ? "reel_…" : "reel_…" + token.hint, token.label);
    }
    return 0;
  }
  if (action.revoke != 0) {
    auto revoked = tokens.revoke(action.revoke);
    if (!revoked) return fail(revoked.error());
    if (!*revoked)
      return fail(Error{fmt::format("there is no token {} (see reel admin token --list)", action.revoke)});
    fmt::print("token {} is revoked; servers refuse it within a second\n", action.revoke);
    return 0;
  }
  auto token = tokens.create(sql::TokenRole::admin, action.label, 0, SystemClock().unix_seconds());
  if (!token) return fail(token.error());
  fmt::print("{}\n", *token);
  return 0;
}

int cmd_rebuild(const Target& target, const std::vector<std::string>& projections) {
  auto stores = open_stores(target);
  if (!stores) return fail(stores.error());
  // With [sql] read_url the snapshot is read from the replica, off the primary; the writes it has
  // not replayed yet are taken from the primary after the swap.
  std::unique_ptr<sql::Connection> replica;
  if (const std::string& read_url = stores->settings.config.sql.read_url; !read_url.empty()) {
    auto opened = sql::open({read_url});
    if (!opened) return fail(Error{"[sql] read_url: " + opened.error().message});
    replica = std::move(*opened);
  }
  sql::CatalogStore store(replica ? *replica : *stores->sql);
  auto stats = run_rebuild(store, *stores->redis.client, projections, replica ? stores->sql.get() : nullptr);
  if (!stats) return fail(stats.error());
  fmt::print(
      "rebuilt {} videos into {} lists ({} stale keys removed, {} redis commands; {} objects written "
      "meanwhile brought in step, {} outbox rows applied again)\n",
      stats->videos, stats->lists, stats->stale_keys_removed, stats->redis_commands, stats->objects_rebased,
      stats->rows_replayed);
  return 0;
}

int cmd_seed(const Target& target, int64_t videos, uint64_t seed_value) {
  if (videos < 1) return fail(Error{"--videos must be at least 1"});
  auto stores = open_stores(target);
  if (!stores) return fail(stores.error());
  auto clips = seed::ensure_demo_media(stores->settings.config.paths.media);
  if (!clips) return fail(clips.error());
  sql::CatalogStore store(*stores->sql);
  {
    Progress progress;
    seed::SyntheticOptions options;
    options.videos = videos;
    options.seed = seed_value;
    options.now = SystemClock().unix_seconds();
    options.progress = [&](int64_t done, int64_t total) {
      progress.update("seed", static_cast<uint64_t>(done), static_cast<uint64_t>(total));
    };
    if (auto s = seed::insert_synthetic(store, *clips, options); !s) return fail(s.error());
  }
  auto stats = run_rebuild(store, *stores->redis.client, {});
  if (!stats) return fail(stats.error());
  fmt::print("seeded {} videos; the catalog now lists {}\n", videos, stats->videos);
  return 0;
}

Result<int> lock_data_dir(const DataDir& dir);

// The node a backup is taken of, or restored onto: the configured SQL store and Redis primary.
Result<backup::Node> backup_node(const config::Config& config) {
  auto endpoint = redis::parse_endpoint(config.redis.write);
  if (!endpoint) return Error{"[redis] write: " + endpoint.error().message};
  return backup::Node{config.sql.url, redis_connection_options(config, *endpoint)};
}

backup::Progress print_steps() {
  return [](std::string_view step) { fmt::print(stderr, "{}...\n", step); };
}

int cmd_backup(const Target& target, const std::string& directory) {
  auto stores = open_stores(target);
  if (!stores) return fail(stores.error());
  auto node = backup_node(stores->settings.config);
  if (!node) return fail(node.error());
  backup::BackupOptions options{.node = std::move(*node),
                                .directory = directory,
                                .now = SystemClock().unix_seconds(),
                                .progress = print_steps()};
  auto manifest = backup::take(options, *stores->redis.client);
  if (!manifest) return fail(manifest.error());
  uint64_t bytes = 0;
  for (const backup::FileEntry& file : manifest->files) bytes += file.bytes;
  fmt::print("backed up {} (SQL on {}, schema {}) and Redis {} into {}: {} bytes\n", manifest->sql_file,
             manifest->sql_backend, manifest->schema_version, manifest->redis_version, directory, bytes);
  return 0;
}

// Restores onto the target; with a data dir, only while no `reel up` runs on it, and under the
// data dir's restore mark, so a restore that dies midway leaves a data dir no command uses.
int cmd_restore(const Target& target, const std::string& directory, bool force) {
  if (auto checked = backup::verify(directory); !checked) return fail(checked.error());
  std::optional<DataDir> dir;
  int lock = -1;
  config::Config config;
  if (!target.data_dir.empty()) {
    auto opened = DataDir::open(target.data_dir, DataDir::Purpose::restore);
    if (!opened) return fail(opened.error());
    auto locked = lock_data_dir(*opened);
    if (!locked) return fail(locked.error());
    lock = *locked;
    if (auto marked = opened->mark_restoring(true); !marked) return fail(marked.error());
    config = opened->config();
    dir.emplace(std::move(*opened));
  } else {
    auto loaded = config::load(target.config_file);
    if (!loaded) return fail(loaded.error());
    config = std::move(*loaded);
  }
  auto node = backup_node(config);
  if (!node) return fail(node.error());
  auto lease = connect_redis(config, dir ? &*dir : nullptr);
  if (!lease) return fail(lease.error());
  backup::RestoreOptions options{
      .node = std::move(*node), .directory = directory, .force = force, .progress = print_steps()};
  auto restored = backup::restore(options, *lease->client);
  if (!restored) return fail(restored.error());
  if (dir) {
    if (auto unmarked = dir->mark_restoring(false); !unmarked) return fail(unmarked.error());
    ::close(lock);
  }
  fmt::print(
      "restored {} Redis keys and SQL from {}; {} objects written during the backup brought in step ({} "
      "outbox rows applied)\n",
      restored->redis_keys, directory, restored->objects_caught_up, restored->rows_replayed);
  return 0;
}

std::atomic<bool> stop_requested{false};
extern "C" void request_stop(int) {
  stop_requested = true;
}

worker::Worker* running_worker = nullptr;  // for the signal handler; Worker::stop() is a flag
extern "C" void stop_worker(int) {
  if (running_worker != nullptr) running_worker->stop();
}

// The worker's settings from the config; `slots` > 0 overrides [worker] slots.
Result<worker::WorkerOptions> worker_options(const config::Config& config, int slots) {
  auto endpoint = redis::parse_endpoint(config.redis.write);
  if (!endpoint) return Error{"[redis] write: " + endpoint.error().message};
  if (config.worker.visibility_timeout_ms < 1000) {
    return Error{"[worker] visibility_timeout_ms must be at least 1000"};
  }
  worker::WorkerOptions options;
  options.consumer = config.worker.consumer.empty() ? host_name() : config.worker.consumer;
  options.slots = slots > 0 ? slots : config.worker.slots;
  options.media_root = config.paths.media;
  options.uploads_dir = uploads_dir(config);
  options.sql_url = config.sql.url;
  options.redis = redis_connection_options(config, *endpoint);
  auto sessions = optional_redis_endpoint(config, "sessions", config.redis.sessions);
  if (!sessions) return sessions.error();
  options.sessions_redis = std::move(*sessions);
  options.queue.visibility_timeout = std::chrono::milliseconds(config.worker.visibility_timeout_ms);
  return options;
}

int cmd_worker(const Target& target, int slots) {
  auto settings = resolve(target);
  if (!settings) return fail(settings.error());
  const config::Config& config = settings->config;
  auto options = worker_options(config, slots);
  if (!options) return fail(options.error());
  if (auto store = open_store(config); !store) return fail(store.error());  // migrated before work starts
  auto purger = open_purger(config);
  if (!purger) return fail(purger.error());
  options->changes = purger->get();
  worker::Worker worker(*options);
  running_worker = &worker;
  std::signal(SIGTERM, stop_worker);
  std::signal(SIGINT, stop_worker);
  fmt::print("reel worker: {} slot{} as {}\n", options->slots, options->slots == 1 ? "" : "s",
             options->consumer);
  std::fflush(stdout);
  auto ran = worker.run();
  running_worker = nullptr;
  if (!ran) return fail(ran.error());
  return 0;
}

// `reel up` processes uploads itself: a worker::Worker on a thread of its own. stop() (or the
// destructor) cancels the running job, which stays queued for the next start, and joins.
class EmbeddedWorker {
 public:
  explicit EmbeddedWorker(worker::WorkerOptions options) : worker_(std::move(options)) {
    thread_ = std::thread([this] {
      if (auto ran = worker_.run(); !ran) fmt::print(stderr, "reel: worker: {}\n", ran.error().message);
    });
  }
  EmbeddedWorker(const EmbeddedWorker&) = delete;
  EmbeddedWorker& operator=(const EmbeddedWorker&) = delete;
  ~EmbeddedWorker() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    worker_.stop();
    thread_.join();
  }

 private:
  worker::Worker worker_;
  std::thread thread_;
};

// Holds an exclusive lock on the data dir so two `reel up` never share one.
Result<int> lock_data_dir(const DataDir& dir) {
  const std::string path = dir.path() + "/up.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error{fmt::format("cannot open {}", path)};
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Error{fmt::format("another `reel up` is running on {}", dir.path())};
  }
  return fd;
}

// Puts the demo catalog into an empty store, and projects the store into Redis when Redis has
// lost it (or never had it).
Status prepare_catalog(DataDir& dir, sql::CatalogStore& store, redis::BlockingClient& redis) {
  auto count = store.count_videos();
  if (!count) return count.error();
  if (*count == 0) {
    fmt::print(stderr, "empty store: making the demo catalog (ffmpeg test clips)...\n");
    auto clips = seed::ensure_demo_media(dir.config().paths.media);
    if (!clips) return clips.error();
    auto& db = store.connection();
    if (auto s = db.begin(); !s) return s;
    if (auto s = seed::insert_demo_catalog(store, *clips, SystemClock().unix_seconds()); !s) {
      log_failure(store.rollback(), "rolling back the demo catalog");
      return s;
    }
    if (auto s = db.commit(); !s) return s;
  }
  auto nav = redis.execute(redis::Command("EXISTS", projection::keys::nav()));
  if (!nav) return nav.error();
  if (*count == 0 || nav->integer() == 0) {
    auto stats = run_rebuild(store, redis, {});
    if (!stats) return stats.error();
  }
  return {};
}

// `reel up` runs the view aggregator in-process when the beacon's sink is UDP to this machine
// (the data dir's default): nothing else would count the views. Its own server's beacons reach it
// through `queue`, a hop that loses nothing (a loopback UDP socket drops datagrams in a burst); the
// UDP port stays open for a `reel serve` on the same data dir.
Result<std::unique_ptr<ViewsPipeline>> embedded_views(const config::Config& config,
                                                      std::shared_ptr<event_log::LineQueue> queue) {
  std::string_view sink = config.views.sink;
  if (!sink.starts_with("udp:127.0.0.1:")) return std::unique_ptr<ViewsPipeline>{};
  ViewsInputs inputs;
  inputs.udp.emplace_back(sink.substr(4));
  inputs.queue = std::move(queue);
  return ViewsPipeline::open(config, inputs);
}

void render_supervisor_metrics(const redis::RedisSupervisor& redis, std::string& out) {
  out += fmt::format(
      "# HELP reel_redis_server_restarts_total Times `reel up` restarted its redis-server after it died.\n"
      "# TYPE reel_redis_server_restarts_total counter\nreel_redis_server_restarts_total {}\n"
      "# HELP reel_redis_server_up Whether the redis-server child of `reel up` is running.\n"
      "# TYPE reel_redis_server_up gauge\nreel_redis_server_up {}\n",
      redis.restarts(), redis.pid() > 0 ? 1 : 0);
}

int cmd_up(const std::string& data_dir, const std::string& listen) {
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  auto dir = DataDir::open(data_dir);
  if (!dir) return fail(dir.error());
  if (!listen.empty()) {
    if (auto parsed = parse_host_port(listen, /*allow_port_zero=*/true); !parsed) {
      return fail(Error{"--listen: " + parsed.error().message});
    }
    dir->config().server.listen = listen;
  }
  auto lock = lock_data_dir(*dir);
  if (!lock) return fail(lock.error());
  auto redis_server = dir->supervise_redis();
  if (!redis_server) return fail(redis_server.error());
  {
    auto connection = open_store(dir->config());
    if (!connection) return fail(connection.error());
    auto lease = connect_redis(dir->config(), nullptr);
    if (!lease) return fail(lease.error());
    sql::CatalogStore store(**connection);
    if (auto s = prepare_catalog(*dir, store, *lease->client); !s) return fail(s.error());
  }
  if (stop_requested) return 0;
  auto media_options = worker_options(dir->config(), 0);
  if (!media_options) return fail(media_options.error());
  media_options->consumer += "-up";  // apart from a `reel worker` on this host and data dir
  media_options->cancel_jobs_on_stop = true;
  auto media_purger = open_purger(dir->config());
  if (!media_purger) return fail(media_purger.error());
  media_options->changes = media_purger->get();
  EmbeddedWorker media_worker(std::move(*media_options));
  auto view_queue = std::make_shared<event_log::LineQueue>();
  auto views = embedded_views(dir->config(), view_queue);
  if (!views) return fail(views.error());
  std::thread views_thread;
  ServeExtras extras;
  if (*views) {
    views_thread = std::thread([&pipeline = **views] {
      if (auto s = pipeline.run(); !s) fmt::print(stderr, "reel: views: {}\n", s.error().message);
    });
    extras.view_log = event_log::EventLog::to_queue(view_queue);
  }
  extras.metrics = [&redis = **redis_server, pipeline = views->get()](std::string& out) {
    render_supervisor_metrics(redis, out);
    if (pipeline != nullptr) pipeline->render_metrics(out);
  };
  auto served = serve(
      dir->config(),
      [](const std::string& url) {
        fmt::print("Reel is running at {}\n", url);
        std::fflush(stdout);
      },
      std::move(extras));
  media_worker.stop();  // before its Redis goes
  if (*views) {
    (*views)->stop();  // after the server: the queue's last lines are counted
    views_thread.join();
  }
  if (auto stopped = (*redis_server)->stop(); !stopped)
    fmt::print(stderr, "reel: {}\n", stopped.error().message);
  if (!served) return fail(served.error());
  return 0;
}

int cmd_views(const Target& target, ViewsInputs inputs, const std::string& partition) {
  auto settings = resolve(target);
  if (!settings) return fail(settings.error());
  if (!partition.empty()) {
    auto parsed = parse_partition(partition);
    if (!parsed) return fail(parsed.error());
    std::tie(inputs.partition_index, inputs.partition_count) = *parsed;
  }
  inputs.handle_signals = true;
  auto pipeline = ViewsPipeline::open(settings->config, inputs);
  if (!pipeline) return fail(pipeline.error());
  if (auto ports = (*pipeline)->ports(); !ports.empty()) {
    fmt::print("reel views: listening on port{} {}\n", ports.size() > 1 ? "s" : "", fmt::join(ports, ", "));
    std::fflush(stdout);
  }
  if (auto s = (*pipeline)->run(); !s) return fail(s.error());
  return 0;
}

int cmd_serve(const Target& target, const std::string& listen) {
  auto settings = resolve(target);
  if (!settings) return fail(settings.error());
  if (!listen.empty()) settings->config.server.listen = listen;
  auto served = serve(settings->config, [](const std::string& url) {
    fmt::print("serving {}\n", url);
    std::fflush(stdout);
  });
  if (!served) return fail(served.error());
  return 0;
}

// One subcommand: `app` holds its options, bound to state that `run` reads once it was parsed.
struct Subcommand {
  CLI::App* app;
  std::function<int()> run;
};

Subcommand add_up(CLI::App& app) {
  auto args = std::make_shared<std::pair<std::string, std::string>>("var", "127.0.0.1:8080");  // dir, listen
  auto* cmd = app.add_subcommand(
      "up", "Run the embedded default: a private redis-server, SQLite, the web server and a media worker");
  cmd->add_option("--data-dir", args->first, "Data directory (created if missing)")->capture_default_str();
  cmd->add_option("--listen", args->second, "HOST:PORT to serve on")->capture_default_str();
  return {cmd, [args] { return cmd_up(args->first, args->second); }};
}

Subcommand add_serve(CLI::App& app) {
  auto args = std::make_shared<std::pair<Target, std::string>>();  // target, listen
  auto* cmd = app.add_subcommand("serve", "Run the web server against configured Redis");
  add_target_options(*cmd, args->first);
  cmd->add_option("--listen", args->second, "HOST:PORT (overrides [server] listen)");
  return {cmd, [args] { return cmd_serve(args->first, args->second); }};
}

Subcommand add_seed(CLI::App& app) {
  struct Args {
    Target target;
    int64_t videos = 1000;
    uint64_t seed = 1;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("seed", "Add a synthetic catalog through SQL, then rebuild Redis");
  add_target_options(*cmd, args->target);
  cmd->add_option("--videos", args->videos, "How many videos to add")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Random seed (same seed, same catalog)")->capture_default_str();
  return {cmd, [args] { return cmd_seed(args->target, args->videos, args->seed); }};
}

Subcommand add_rebuild(CLI::App& app) {
  auto args = std::make_shared<std::pair<Target, std::vector<std::string>>>();  // target, projections
  auto* cmd = app.add_subcommand("rebuild", "Rebuild Redis projections from SQL (all, or those named)");
  add_target_options(*cmd, args->first);
  cmd->add_option("projections", args->second,
                  fmt::format("Projections: {}", fmt::join(projection::projection_names(), ", ")));
  return {cmd, [args] { return cmd_rebuild(args->first, args->second); }};
}

Subcommand add_views(CLI::App& app) {
  struct Args {
    Target target;
    ViewsInputs inputs;
    std::string partition;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "views",
      "Count views: read view events, dedupe and aggregate them, flush counters to Redis and daily counts "
      "to SQL");
  cmd->footer(
      "Inputs (--stream alone, or any number of the others): one event per line, either the RFC 5424 lines "
      "the beacon writes\n"
      "(\"<134>1 TIME HOST reel - view - t=... v=... k=... r=... u=...\"), the same behind an RFC 3164 or\n"
      "syslog-ng header, the bare \"t=... v=...\" message, or an access-log line in nginx's combined format\n"
      "(GET /watch/{id}... and POST /api/v1/videos/{id}/view with a 2xx status count as views). Lines that\n"
      "are malformed, too old, in the future, oversized, from bots or repeated within [views] "
      "dedupe_minutes\n"
      "are skipped and counted. Stops on SIGTERM/SIGINT or at the end of stdin, after a last flush.");
  add_target_options(*cmd, args->target);
  cmd->add_flag("--stdin", args->inputs.from_stdin, "Read lines from standard input (syslog-ng program())");
  cmd->add_flag("--stream", args->inputs.from_stream,
                "Read the views stream in [redis] write (syslog-ng redis()), from this partition's cursor: "
                "every event counted once, across crashes too; takes no other input");
  cmd->add_option("--udp", args->inputs.udp, "Listen for datagrams on HOST:PORT (one or more lines each)");
  cmd->add_option("--tcp", args->inputs.tcp, "Accept newline-delimited lines on HOST:PORT");
  cmd->add_option("--follow", args->inputs.follow,
                  "Follow a log file as tail -F does (rotation, truncation)");
  cmd->add_option("--metrics", args->inputs.metrics_listen,
                  "Answer GET /metrics on HOST:PORT (Prometheus: datagrams the kernel dropped on --udp)");
  cmd->add_option("--partition", args->partition,
                  "I/N: count only the viewers of partition I of N, so N aggregators share the load");
  return {cmd, [args] { return cmd_views(args->target, args->inputs, args->partition); }};
}

Subcommand add_worker(CLI::App& app) {
  auto args = std::make_shared<std::pair<Target, int>>();  // target, slots
  auto* cmd = app.add_subcommand(
      "worker", "Process media jobs (transcode uploads, delete videos) from the Redis Stream queue");
  add_target_options(*cmd, args->first);
  cmd->add_option("--slots", args->second, "Jobs at once (default: [worker] slots)");
  return {cmd, [args] { return cmd_worker(args->first, args->second); }};
}

// `reel admin token [--label L | --list | --revoke ID]`.
Subcommand add_admin_token(CLI::App& admin) {
  auto args = std::make_shared<std::pair<Target, TokenAction>>();
  auto* cmd = admin.add_subcommand(
      "token",
      "Print a new API token with admin rights, for `Authorization: Bearer TOKEN`; list or revoke tokens");
  add_target_options(*cmd, args->first);
  TokenAction& action = args->second;
  auto* label_option = cmd->add_option("--label", action.label, "What the token is for (kept with its hash)")
                           ->capture_default_str();
  auto* list_flag =
      cmd->add_flag("--list", action.list, "List the tokens (id, role, created, last 4 characters)");
  cmd->add_option("--revoke", action.revoke, "Revoke the token with this ID (from --list)")
      ->check(CLI::PositiveNumber)
      ->excludes(list_flag)
      ->excludes(label_option);
  list_flag->excludes(label_option);
  return {cmd, [args] { return cmd_admin_token(args->first, args->second); }};
}

// `reel admin create-user --name N --email E [--role R]`, the password on stdin or typed.
Subcommand add_admin_create_user(CLI::App& admin) {
  auto args = std::make_shared<CreateUserArgs>();
  auto* cmd = admin.add_subcommand(
      "create-user", "Create an account (e.g. the first admin); the password is read from stdin or typed");
  add_target_options(*cmd, args->target);
  cmd->add_option("--name", args->name, "Username (3-32 of a-z, 0-9, _ and -)")->required();
  cmd->add_option("--email", args->email, "Email address")->required();
  cmd->add_option("--role", args->role, "Role")
      ->check(CLI::IsMember({"user", "uploader", "moderator", "admin"}))
      ->capture_default_str();
  return {cmd, [args] { return cmd_admin_create_user(*args); }};
}

// `reel admin token ...` and `reel admin create-user ...`.
std::vector<Subcommand> add_admin(CLI::App& app) {
  auto* admin = app.add_subcommand("admin", "Administration");
  admin->require_subcommand(1);
  return {add_admin_token(*admin), add_admin_create_user(*admin)};
}

Subcommand add_backup(CLI::App& app) {
  auto args = std::make_shared<std::pair<Target, std::string>>();  // target, directory
  auto* cmd = app.add_subcommand(
      "backup",
      "Back up SQL and Redis, consistent with each other, into a new directory (while the site runs)");
  add_target_options(*cmd, args->first);
  cmd->add_option("directory", args->second, "Where the backup goes (must not exist, or be empty)")
      ->required();
  return {cmd, [args] { return cmd_backup(args->first, args->second); }};
}

Subcommand add_restore(CLI::App& app) {
  struct Args {
    Target target;
    std::string directory;
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("restore", "Restore a backup of `reel backup` onto a fresh node");
  add_target_options(*cmd, args->target);
  cmd->add_option("directory", args->directory, "The backup's directory")->required();
  cmd->add_flag("--force", args->force, "Replace what the target's SQL and Redis hold");
  return {cmd, [args] { return cmd_restore(args->target, args->directory, args->force); }};
}

Subcommand add_migrate(CLI::App& app) {
  auto target = std::make_shared<Target>();
  auto* cmd = app.add_subcommand("migrate", "Apply pending SQL schema migrations");
  add_target_options(*cmd, *target);
  return {cmd, [target] { return cmd_migrate(*target); }};
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"Reel: a video-sharing platform. SQL is the record; Redis is what pages read."};
  app.require_subcommand(1);
  std::vector<Subcommand> subcommands = {add_up(app),      add_serve(app), add_seed(app),
                                         add_rebuild(app), add_views(app), add_worker(app)};
  for (Subcommand& admin : add_admin(app)) subcommands.push_back(std::move(admin));
  subcommands.push_back(add_migrate(app));
  subcommands.push_back(add_backup(app));
  subcommands.push_back(add_restore(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (const Subcommand& subcommand : subcommands) {
    if (subcommand.app->parsed()) return subcommand.run();
  }
  return 2;
}

}  // namespace reel::cli
