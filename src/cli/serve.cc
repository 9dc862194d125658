#include "cli/serve.h"

#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "app/people_routes.h"
#include "app/router.h"
#include "app/upload_routes.h"
#include "app/view_recorder.h"
#include "auth/csrf.h"
#include "auth/password.h"
#include "auth/rate_limit.h"
#include "auth/session_store.h"
#include "cli/data_dir.h"
#include "common/host_port.h"
#include "event_log/event_log.h"
#include "http/cookie.h"
#include "http/server.h"
#include "ingest/ingest.h"
#include "media/file_server.h"
#include "pages/renderer.h"
#include "projection/redis_community_read_model.h"
#include "projection/redis_read_model.h"
#include "projection/suggest_source.h"
#include "redis/client.h"
#include "search/analyzer.h"
#include "sql/pool.h"
#include "upload/resumable_sweeper.h"

namespace reel::cli {
namespace {

Result<redis::ClientOptions> client_options(const config::Config& config) {
  auto write = redis::parse_endpoint(config.redis.write);
  if (!write) return Error{"[redis] write: " + write.error().message};
  redis::ClientOptions options;
  options.write = redis_connection_options(config, *write);
  auto read = optional_redis_endpoint(config, "read", config.redis.read);
  if (!read) return read.error();
  options.read = std::move(*read);
  auto sessions = optional_redis_endpoint(config, "sessions", config.redis.sessions);
  if (!sessions) return sessions.error();
  options.sessions = std::move(*sessions);
  if (options.sessions) {
    auto sessions_read = optional_redis_endpoint(config, "sessions_read", config.redis.sessions_read);
    if (!sessions_read) return sessions_read.error();
    options.sessions_read = std::move(*sessions_read);
  }
  return options;
}

// The upload routes' services, shared by every event loop (all thread-safe). SQL, through a small
// pool, is only for writes: pages never touch it, so a store that cannot be opened only turns
// uploads off (503), it does not stop the site. File work has a pool of its own, so a slow disk
// never queues SQL and the reverse.
struct Uploads {
  Uploads(const config::Config& config, const std::string& dir, const Clock& clock)
      : sessions({dir + "/sessions", static_cast<uint64_t>(config.server.max_upload_bytes)}, clock),
        files("file", static_cast<size_t>(std::max(1, config.server.file_threads))) {}
  upload::ResumableStore sessions;
  std::optional<upload::ResumableSweeper> sweeper;  // once sessions is open
  WorkPool files;
  std::unique_ptr<sql::Pool> pool;
  std::unique_ptr<ingest::Ingest> ingest;  // null when the SQL store could not be opened
};

Result<std::unique_ptr<Uploads>> open_uploads(const config::Config& config, const std::string& dir,
                                              const Clock& clock, ChangeSink* changes) {
  auto uploads = std::make_unique<Uploads>(config, dir, clock);
  if (auto opened = uploads->sessions.open(); !opened)
    return Error{"[paths] uploads: " + opened.error().message};
  const std::chrono::seconds max_idle(std::max<int64_t>(config.server.resumable_max_idle_s, 60));
  uploads->sweeper.emplace(uploads->sessions, max_idle, upload::ResumableSweeper::default_interval(max_idle));
  if (auto opened =
          sql::Pool::open({config.sql.url}, static_cast<size_t>(std::max(1, config.sql.pool_threads)))) {
    uploads->pool = std::move(*opened);
    uploads->ingest = std::make_unique<ingest::Ingest>(
        *uploads->pool, ingest::IngestOptions{.uploads_dir = dir, .changes = changes});
  } else {
    fmt::print(stderr, "reel: uploads are off: [sql] url: {}\n", opened.error().message);
  }
  return uploads;
}

// Accounts' services, shared by every event loop (all thread-safe): hashing has a pool of its own,
// so Argon2id (tens of milliseconds a hash) never queues SQL or file work.
struct People {
  People(const config::Config& config, const Clock& clock, auth::PasswordHasher hasher_)
      : hashing("hashing", static_cast<size_t>(std::max(1, config.auth.hash_threads))),
        hasher(std::move(hasher_)),
        sessions(clock),
        limits(clock),
        guard(clock),
        form_csrf(config.auth.secret.empty() ? std::nullopt
                                             : std::optional<auth::FormCsrf>(config.auth.secret)) {}
  WorkPool hashing;
  auth::PasswordHasher hasher;
  auth::SessionStore sessions;
  auth::RateLimiter limits;
  auth::SignInGuard guard;
  std::optional<auth::FormCsrf> form_csrf;
  std::optional<app::PeopleServices> services;  // once the SQL pool is known
};

// The search routes' "did you mean" and completions, from the process's current suggester
// snapshot (SuggestSource, refreshed in the background). Thread-safe: each call takes the
// snapshot and this thread's analyzer.
class SnapshotSuggestions final : public app::SearchSuggestions {
 public:
  explicit SnapshotSuggestions(const projection::SuggestSource& source) : source_(source) {}
  std::optional<std::string> did_you_mean(std::string_view text) const override {
    return source_.current()->did_you_mean(search::thread_analyzer(), text);
  }
  std::vector<std::string> complete(std::string_view prefix, size_t limit) const override {
    return source_.current()->complete(search::thread_analyzer(), prefix, limit);
  }

 private:
  const projection::SuggestSource& source_;
};

// What every event loop shares (all immutable or thread-safe).
struct Shared {
  const pages::Renderer& pages;
  const media::StaticAssets& static_files;
  const media::FileServer& media_files;
  const media::LinkSigner& links;
  const Clock& clock;
  std::function<std::string()> metrics;
  const app::ViewRecorder& views;
  Uploads* uploads;  // the write routes' services; null ingest when SQL could not be opened
  app::SessionUploads session_uploads;    // people: each loop's own
  std::chrono::milliseconds grace;        // [redis] grace_s
  People* people;                         // null when SQL could not be opened: every visitor is anonymous
  std::chrono::seconds read_your_writes;  // [redis] read_your_writes_s
  std::string site_url;                   // [site] url
  const app::SearchSuggestions* suggestions;
};

// Read-your-writes with a Redis replica ([redis] read): a write answered with success marks its
// visitor with this cookie for [redis] read_your_writes_s, and their requests then read the
// primary, which has the write (Varnish passes them too: deploy/varnish/reel.vcl).
constexpr std::string_view wrote_cookie = "reel_wrote";

// What one event loop owns: its Redis connections, its read models and its routers.
struct Loop {
  Loop(asio::io_context& io, const redis::ClientOptions& options, const Shared& shared)
      : redis(io.get_executor(), options),
        model(redis.reader(), shared.clock, shared.grace, {}, &redis.writer()),
        community(redis.reader(), &redis.writer()),
        people(shared.people != nullptr
                   ? std::make_unique<app::PeopleRoutes>(*shared.people->services, redis, model, community)
                   : nullptr),
        uploads(shared.uploads->ingest ? std::make_unique<app::UploadRoutes>(
                                             *shared.uploads->ingest, shared.uploads->files, redis.writer(),
                                             shared.clock, shared.uploads->sessions, session_uploads(shared))
                                       : nullptr),
        router(services(shared, model, community)),
        read_your_writes(shared.read_your_writes) {
    if (options.read && read_your_writes.count() > 0) {
      on_primary.emplace(redis.writer(), shared.clock, shared.grace);
      primary_router.emplace(services(shared, on_primary->model, on_primary->community));
    }
  }

  // With a replica (primary_router set): routes the request, to the primary's reads for a visitor
  // who just wrote, and marks a visitor whose write succeeded.
  Task<http::Response> handle(const http::Request& request) {
    const bool wrote_lately = http::cookie(request, wrote_cookie).has_value();
    app::Router& chosen = wrote_lately ? *primary_router : router;
    http::Response response = co_await chosen.handle(request);
    const bool write = request.method != "GET" && request.method != "HEAD";
    if (write && response.status < 400 && response.route != "view") {
      response.add("Set-Cookie", http::set_cookie(wrote_cookie, "1", {.max_age = read_your_writes.count()}));
    }
    co_return response;
  }

  redis::Client redis;
  projection::RedisReadModel model;
  projection::RedisCommunityReadModel community;
  std::unique_ptr<app::PeopleRoutes> people;
  std::unique_ptr<app::UploadRoutes> uploads;  // after people: it asks this loop's for sessions
  app::Router router;
  // The same routes over the primary's reads, for visitors who just wrote (only with a replica).
  struct PrimaryReads {
    PrimaryReads(redis::Connection& primary, const Clock& clock, std::chrono::milliseconds grace)
        : model(primary, clock, grace), community(primary) {}
    projection::RedisReadModel model;
    projection::RedisCommunityReadModel community;
  };
  std::optional<PrimaryReads> on_primary;
  std::optional<app::Router> primary_router;
  const std::chrono::seconds read_your_writes;

 private:
  app::Services services(const Shared& shared, projection::ReadModel& reads,
                         projection::CommunityReadModel& comments) {
    return app::Services{reads,          shared.pages, shared.static_files, shared.media_files,
                         shared.links,   shared.clock, shared.metrics,      shared.views,
                         uploads.get(),  people.get(), &comments,           shared.suggestions,
                         shared.site_url};
  }

  app::SessionUploads session_uploads(const Shared& shared) {
    app::SessionUploads with_sessions = shared.session_uploads;
    with_sessions.people = people.get();
    return with_sessions;
  }
};

// Sums the Redis counters of every loop for /metrics. Holds the loops weakly: each Loop must die
// with its handler, inside the server, while its io_context still exists.
class RedisMetrics {
 public:
  void add(const std::shared_ptr<Loop>& loop) {
    std::lock_guard lock(mutex_);
    loops_.push_back(std::move(loop));
  }
  void render(std::string& out) const {
    redis::ConnectionStats total;
    int connected = 0;
    uint64_t stale = 0;
    {
      std::lock_guard lock(mutex_);
      for (const auto& weak : loops_) {
        const auto loop = weak.lock();
        if (!loop) continue;
        stale += loop->model.stale_served();
        auto s = loop->redis.reader().stats();
        total.round_trips += s.round_trips;
        total.commands += s.commands;
        total.errors += s.errors;
        total.reconnects += s.reconnects;
        connected += loop->redis.reader().connected() ? 1 : 0;
      }
    }
    out += fmt::format(
        "# HELP reel_redis_round_trips_total Pipelined writes to Redis answered in full.\n"
        "# TYPE reel_redis_round_trips_total counter\nreel_redis_round_trips_total {}\n"
        "# HELP reel_redis_commands_total Commands sent to Redis.\n"
        "# TYPE reel_redis_commands_total counter\nreel_redis_commands_total {}\n"
        "# HELP reel_redis_errors_total Redis calls that failed (unreachable, timeout, connection lost).\n"
        "# TYPE reel_redis_errors_total counter\nreel_redis_errors_total {}\n"
        "# HELP reel_redis_reconnects_total Reconnections to Redis.\n"
        "# TYPE reel_redis_reconnects_total counter\nreel_redis_reconnects_total {}\n"
        "# HELP reel_redis_connected Event loops whose Redis connection is up.\n"
        "# TYPE reel_redis_connected gauge\nreel_redis_connected {}\n"
        "# HELP reel_pages_served_stale_total Pages an event loop served from its copy while Redis failed "
        "(grace, [redis] grace_s).\n"
        "# TYPE reel_pages_served_stale_total counter\nreel_pages_served_stale_total {}\n",
        total.round_trips, total.commands, total.errors, total.reconnects, connected, stale);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::weak_ptr<Loop>> loops_;
};

// The server's answer_before_body: the loop's UploadRoutes refuses an upload without a valid token
// from its header. The Loop outlives the call (its handler holds it until the server ends).
Task<std::optional<http::Response>> screen_uploads(const std::vector<std::weak_ptr<Loop>>& loops,
                                                   const http::Request& head, int index) {
  app::UploadRoutes* uploads = nullptr;
  if (auto loop = loops[static_cast<size_t>(index)].lock()) uploads = loop->uploads.get();
  if (uploads == nullptr) co_return std::nullopt;
  co_return co_await uploads->screen(head);
}

void render_view_metrics(const app::ViewRecorder& views, std::string& out) {
  auto stats = views.stats();
  out += fmt::format(
      "# HELP reel_view_events_total View events from the beacon, by whether the event log took them.\n"
      "# TYPE reel_view_events_total counter\n"
      "reel_view_events_total{{result=\"sent\"}} {}\nreel_view_events_total{{result=\"dropped\"}} {}\n",
      stats.sent, stats.dropped);
}

// Creates the directory for streamed request bodies and removes bodies a crashed process left
// there: older than a day, so another server sharing the directory keeps the ones it is writing.
void remove_stale_bodies(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24);
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.path().filename().string().starts_with("reel-body-")) continue;
    if (entry.last_write_time(ec) < cutoff && !ec) fs::remove(entry.path(), ec);
  }
}

// The CPUs this process may run on (taskset, cgroup cpusets): one event loop each. More loops
// than CPUs only adds context switches and splits the Redis pipelining.
int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// The HTTP server's settings from [server]; upload bodies go to `uploads_dir`/tmp.
http::ServerOptions server_options(const config::Config& config, const HostPort& listen,
                                   const std::string& uploads_dir) {
  http::ServerOptions options;
  options.host = listen.host;
  options.port = listen.port;
  options.threads = config.server.threads > 0 ? config.server.threads : usable_cpus();
  options.max_header_bytes = static_cast<size_t>(config.server.max_header_bytes);
  options.max_body_bytes = static_cast<size_t>(config.server.max_body_bytes);
  options.max_connections = static_cast<size_t>(config.server.max_connections);
  options.header_timeout = std::chrono::milliseconds(config.server.header_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(config.server.idle_timeout_ms);
  options.drain_timeout = std::chrono::milliseconds(config.server.drain_timeout_ms);
  options.access_log = config.server.access_log;
  options.upload_temp_dir = uploads_dir + "/tmp";
  options.max_file_body_bytes = static_cast<uint64_t>(config.server.max_upload_bytes);
  // Upload bodies go to disk, once their token is checked: an upload without a valid one gets its
  // 401 from its header alone (before a 413, too), and no byte of its body is read.
  options.body_to_file = [](const http::Request& head) { return app::UploadRoutes::streams_body(head); };
  return options;
}

}  // namespace

std::string uploads_dir(const config::Config& config) {
  if (!config.paths.uploads.empty()) return config.paths.uploads;
  return (std::filesystem::path(config.paths.media).lexically_normal().parent_path() / "uploads").string();
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "-";
  return name;
}

Status serve(const config::Config& config, const std::function<void(const std::string& url)>& on_listening,
             ServeExtras extras) {
  auto listen = parse_host_port(config.server.listen, /*allow_port_zero=*/true);
  if (!listen) return Error{"[server] listen: " + listen.error().message};
  auto redis_options = client_options(config);
  if (!redis_options) return redis_options.error();
  const media::LinkSigner links(
      {config.media.link_secret, config.media.link_ttl_s, config.media.link_step_s, config.media.origin});
  auto static_files = media::StaticAssets::open({config.paths.static_files});
  if (!static_files) return Error{"[paths] static: " + static_files.error().message};
  auto pages = pages::Renderer::load({config.site.name, config.paths.templates, links}, &*static_files);
  if (!pages) return pages.error();
  auto media_files = media::FileServer::open({config.paths.media, "public, max-age=86400"});
  if (!media_files) return Error{"[paths] media: " + media_files.error().message};

  const std::string uploads_path = uploads_dir(config);
  http::ServerOptions options = server_options(config, *listen, uploads_path);
  std::vector<std::weak_ptr<Loop>> loops(static_cast<size_t>(options.threads));  // by loop index
  options.answer_before_body = [&loops](const http::Request& head, int index) {
    return screen_uploads(loops, head, index);
  };
  remove_stale_bodies(options.upload_temp_dir);

  const SystemClock clock;
  auto purger = open_purger(config);
  if (!purger) return purger.error();
  auto uploads = open_uploads(config, uploads_path, clock, purger->get());
  if (!uploads) return uploads.error();

  std::unique_ptr<event_log::EventLog> view_log = std::move(extras.view_log);
  if (!view_log) {
    auto opened = event_log::EventLog::open({config.views.sink});
    if (!opened) return Error{"[views] sink: " + opened.error().message};
    view_log = std::move(*opened);
  }

  // [auth] uploads and the upload limits: who may upload with a session, and how often.
  if (config.auth.uploads_per_hour < 1 || config.auth.uploads_per_hour_per_address < 1)
    return Error{"[auth] uploads_per_hour and uploads_per_hour_per_address must be at least 1"};
  const app::SessionUploads session_uploads{
      .pages = &*pages,
      .anyone = config.auth.uploads == "anyone",
      .per_account = {config.auth.uploads_per_hour, std::chrono::hours(1)},
      .per_client = {config.auth.uploads_per_hour_per_address, std::chrono::hours(1)}};

  std::unique_ptr<People> people;
  if ((*uploads)->pool) {
    auto hasher = auth::PasswordHasher::create(auth::default_password_cost);
    if (!hasher) return hasher.error();
    people = std::make_unique<People>(config, clock, std::move(*hasher));
    people->services.emplace(
        app::PeopleServices{*(*uploads)->pool, people->hashing, people->hasher, people->sessions,
                            people->limits, people->guard, people->form_csrf ? &*people->form_csrf : nullptr,
                            *pages, clock, std::chrono::seconds(config.redis.grace_s),
                            config.server.trusted_proxy_hops, (*uploads)->ingest.get(), purger->get()});
  }

  const app::ViewRecorder views(*view_log, clock,
                                {config.views.secret, host_name(), config.server.trusted_proxy_hops});
  // Suggestions read the dictionary like pages read lists: from the read replica when there is one.
  projection::SuggestSource suggest_source(redis_options->read.value_or(redis_options->write));
  suggest_source.start();
  const SnapshotSuggestions suggestions(suggest_source);
  RedisMetrics redis_metrics;
  http::Server* server_ptr = nullptr;
  const Shared shared{*pages,          *static_files,
                      *media_files,    links,
                      clock,           [&server_ptr] { return server_ptr->metrics().render(); },
                      views,           uploads->get(),
                      session_uploads, std::chrono::seconds(config.redis.grace_s),
                      people.get(),    std::chrono::seconds(config.redis.read_your_writes_s),
                      config.site.url, &suggestions};
  http::Server server(options, [&](asio::io_context& io, int index) -> http::Handler {
    auto loop = std::make_shared<Loop>(io, *redis_options, shared);
    loop->redis.start();
    redis_metrics.add(loop);
    loops[static_cast<size_t>(index)] = loop;  // read by screen_uploads on this loop's thread only
    // Without a replica there is one router: requests go to it without the read-your-writes step.
    if (!loop->primary_router)
      return [loop](const http::Request& request) { return loop->router.handle(request); };
    return [loop](const http::Request& request) { return loop->handle(request); };
  });
  server_ptr = &server;
  server.metrics().add_source([&redis_metrics](std::string& out) { redis_metrics.render(out); });
  server.metrics().add_source([&views](std::string& out) { render_view_metrics(views, out); });
  if (const purge::Purger* purging = purger->get()) {
    server.metrics().add_source([purging](std::string& out) {
      const purge::Purger::Stats stats = purging->stats();
      out += fmt::format(
          "# HELP reel_varnish_purges_total Purges the Varnish nodes accepted (one per node and batch).\n"
          "# TYPE reel_varnish_purges_total counter\nreel_varnish_purges_total {}\n"
          "# HELP reel_varnish_purge_failures_total Purges a Varnish node refused or did not answer.\n"
          "# TYPE reel_varnish_purge_failures_total counter\nreel_varnish_purge_failures_total {}\n",
          stats.purges, stats.failed);
    });
  }
  if (extras.metrics) server.metrics().add_source(extras.metrics);
  if (auto bound = server.bind(); !bound) return bound;
  if (on_listening) on_listening(fmt::format("http://{}:{}/", listen->host, server.port()));
  Status ran = server.run();
  Uploads& stopping = **uploads;  // its pools stop before the loops go: a request may await a job
  stopping.files.stop();
  if (people) people->hashing.stop();
  if (stopping.pool) stopping.pool->stop();
  return ran;
}

}  // namespace reel::cli
