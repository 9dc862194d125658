// Config: every setting of the `reel` processes, read from a TOML file with REEL_* environment
// overrides, and defaults that serve the embedded mode. An override's name is the setting's
// section and key in upper case: [redis] write -> REEL_REDIS_WRITE.
// Thread-safety: a value type. Failure: load() returns an Error naming the file, the setting and
// what is wrong with it.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace reel::config {

struct Server {
  std::string listen = "127.0.0.1:8080";
  int threads = 0;  // 0: one per CPU this process may run on (see taskset)
  int64_t max_header_bytes = 8 * 1024;
  int64_t max_body_bytes = 1024 * 1024;
  int64_t max_connections = 10000;
  int64_t header_timeout_ms = 10000;
  int64_t idle_timeout_ms = 60000;
  int64_t drain_timeout_ms = 10000;
  std::string access_log;  // file, "-" for stdout, empty for none
  // Proxies in front of this server that append to X-Forwarded-For (HAProxy, Varnish): the
  // client address is taken that many entries from the right. 0: the peer address.
  int trusted_proxy_hops = 0;
  int64_t max_upload_bytes = int64_t{8} << 30;  // an uploaded video (streamed to disk)
  // A resumable upload without a create or append for this long is abandoned and removed.
  int64_t resumable_max_idle_s = 24 * 3600;
  int file_threads = 2;  // blocking file work of uploads (multipart copy, resumable sessions)
};

struct Redis {
  std::string write = "127.0.0.1:6379";  // the primary
  std::string read;                      // a replica for page reads; empty: the primary
  // The primary of the sessions and limits (auth's own keys: sessions, rate-limit windows,
  // sign-in guards; docs/capacity.md, "splitting by key class"); empty: they live on `write`.
  std::string sessions;
  // A replica of `sessions` for session lookups; empty: lookups read the `sessions` primary (or
  // `write` when `sessions` is empty too). Ignored without `sessions`.
  std::string sessions_read;
  std::string password;
  int64_t command_timeout_ms = 2000;
  // While Redis is unreachable, an event loop serves the pages it still holds (read before the
  // outage) for up to this long after they were read, instead of 503 (grace, as Varnish has it).
  // 0: no grace.
  int64_t grace_s = 300;
  // With a `read` replica: after a visitor's write, their pages are read from the primary for this
  // long (the `reel_wrote` cookie, which Varnish also passes), so they see their own write.
  int64_t read_your_writes_s = 5;
};

struct Sql {
  std::string url = "sqlite:var/reel.db";  // or mariadb://user:pass@host:port/db
  // A replica for the long reads that need no write after them (`reel rebuild`'s snapshot);
  // empty: `url`. Every write, and every read a write depends on, goes to `url`.
  std::string read_url;
  int pool_threads = 2;
};

struct Paths {
  std::string templates;  // default: the templates/ of the source tree the binary was built from
  std::string static_files;
  std::string media = "var/media";
  std::string uploads;  // uploads waiting for the worker; empty: "uploads" beside the media root
};

// The view pipeline: where the beacon sends events and how `reel views` aggregates them.
struct Views {
  // syslog | syslog:PATH | udp:HOST:PORT | file:PATH | none (see event_log/event_log.h)
  std::string sink = "syslog";
  // Keys the viewer hash of IP + user agent; the beacon and `reel views` must share it.
  std::string secret;
  int64_t flush_ms = 1000;
  int64_t dedupe_minutes = 30;
};

// `reel worker`: media jobs from the Redis Stream.
struct Worker {
  int slots = 1;         // jobs at once on this host (each runs one ffmpeg at a time)
  std::string consumer;  // this host's name in the queue's consumer group; empty: the host name
  // A claimed job whose worker sends no heartbeat for this long is taken over by another worker
  // (jobs/queue.h); heartbeats go every third of it. At least 1000.
  int64_t visibility_timeout_ms = 60000;
};

// Signed media links (media/link_signer.h): video, playlists and segments carry an expiring
// signature in nginx's secure_link scheme; deploy/nginx must hold the same secret.
struct Media {
  std::string link_secret;        // empty: links are not signed and not checked
  int64_t link_ttl_s = 6 * 3600;  // a link stays good at least this long after its page
  int64_t link_step_s = 3600;     // expiries are rounded up to a multiple of this
  // "scheme://host[:port]" of the media origin (nginx): video links point there. Empty: this server.
  std::string origin;
};

// Varnish in front of the app servers (deploy/varnish/reel.vcl): where to send purges when what a
// cached page shows changes (purge/purger.h).
struct Varnish {
  std::string purge_nodes;        // "HOST:PORT, HOST:PORT": every Varnish node; empty: no purges
  int64_t purge_repeat_ms = 500;  // each purge is sent again this much later (a replica's lag)
};

struct Site {
  std::string name = "Reel";
  // The public origin ("https://videos.example.com") for absolute links (the OpenSearch
  // description); empty: taken from each request's Host.
  std::string url;
};

// Accounts and sessions (auth/, app/people_routes.h).
struct Auth {
  // Keys the CSRF tokens of the sign-in and register forms (auth::FormCsrf); `reel up` writes a
  // random one. Empty: those forms are refused (the JSON API still works).
  std::string secret;
  int hash_threads = 2;  // Argon2id at once (each takes 48 MiB while it runs)
  // Who may upload with a session (app/upload_routes.h): "uploaders" (the roles uploader,
  // moderator and admin) or "anyone" (every signed-in account). The admin API token always may.
  std::string uploads = "uploaders";
  // Uploads started (plain or resumable) per hour by one account and from one client address;
  // at least 1. Uploads with the admin API token (automation) are not limited.
  int64_t uploads_per_hour = 20;
  int64_t uploads_per_hour_per_address = 30;
};

struct Config {
  Server server;
  Redis redis;
  Sql sql;
  Paths paths;
  Site site;
  Views views;
  Worker worker;
  Media media;
  Auth auth;
  Varnish varnish;
};

// Defaults, then the file (when `path` is not empty), then the environment.
Result<Config> load(const std::string& path);
// Applies REEL_* overrides from the environment to `config`.
Status apply_environment(Config& config);
// The TOML text of `config` (what `reel up` writes into a new data dir).
std::string to_toml(const Config& config);

}  // namespace reel::config
