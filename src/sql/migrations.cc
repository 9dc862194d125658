// Schema migrations: each version's SQL for each dialect, kept here as data, applied in order by
// migrate() (declared in sql/connection.h). A new feature adds a new version at the end; an
// applied version is never edited.
#include <fmt/format.h>

#include <chrono>

#include "common/log_failure.h"
#include "sql/connection.h"

namespace reel::sql {
namespace {

struct Migration {
  int version;
  std::string_view sqlite;
  std::string_view mariadb;
};

// Version 1: the catalog. CHECKs on SQLite mirror MariaDB's column sizes and ENUM, so both
// engines accept and refuse the same values. Text compares byte-wise on both (utf8mb4_bin).
constexpr std::string_view catalog_sqlite = R"sql(
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
  display_name TEXT NOT NULL DEFAULT '' CHECK (length(display_name) <= 255),
  email TEXT UNIQUE CHECK (length(email) <= 255),
  password_hash TEXT CHECK (length(password_hash) <= 255),
  created_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE TABLE IF NOT EXISTS categories (
  id INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 64),
  name TEXT NOT NULL CHECK (length(name) <= 255),
  position INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tags (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100)
);
CREATE TABLE IF NOT EXISTS videos (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users (id),
  title TEXT NOT NULL CHECK (length(title) <= 255),
  slug TEXT NOT NULL CHECK (length(slug) <= 255),
  description TEXT NOT NULL DEFAULT '',
  duration_s INTEGER NOT NULL DEFAULT 0,
  width INTEGER NOT NULL DEFAULT 0,
  height INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'ready', 'failed')),
  error TEXT NOT NULL DEFAULT '',
  published_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  views INTEGER NOT NULL DEFAULT 0,
  likes INTEGER NOT NULL DEFAULT 0,
  dislikes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS videos_status_id ON videos (status, id);
CREATE INDEX IF NOT EXISTS videos_user_id ON videos (user_id);
CREATE TABLE IF NOT EXISTS video_tags (
  video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  tag_id INTEGER NOT NULL REFERENCES tags (id),
  PRIMARY KEY (video_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS video_tags_tag_id ON video_tags (tag_id);
CREATE TABLE IF NOT EXISTS video_categories (
  video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  category_id INTEGER NOT NULL REFERENCES categories (id),
  PRIMARY KEY (video_id, category_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS video_categories_category_id ON video_categories (category_id);
CREATE TABLE IF NOT EXISTS video_files (
  id INTEGER PRIMARY KEY,
  video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (length(kind) <= 16),
  height INTEGER NOT NULL DEFAULT 0,
  path TEXT NOT NULL CHECK (length(path) <= 1024),
  bytes INTEGER NOT NULL DEFAULT 0,
  mime TEXT NOT NULL DEFAULT '' CHECK (length(mime) <= 64)
);
CREATE INDEX IF NOT EXISTS video_files_video_id ON video_files (video_id);
CREATE TABLE IF NOT EXISTS daily_views (
  video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  day INTEGER NOT NULL,
  views INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (video_id, day)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS daily_views_day ON daily_views (day);
)sql";

constexpr std::string_view catalog_mariadb = R"sql(
CREATE TABLE IF NOT EXISTS users (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  display_name VARCHAR(255) NOT NULL DEFAULT '',
  email VARCHAR(255) NULL,
  password_hash VARCHAR(255) NULL,
  created_at BIGINT NOT NULL DEFAULT (UNIX_TIMESTAMP()),
  UNIQUE KEY users_name (name),
  UNIQUE KEY users_email (email)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS categories (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  slug VARCHAR(64) NOT NULL,
  name VARCHAR(255) NOT NULL,
  position INT NOT NULL DEFAULT 0,
  UNIQUE KEY categories_slug (slug)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS tags (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  UNIQUE KEY tags_name (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS videos (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  title VARCHAR(255) NOT NULL,
  slug VARCHAR(255) NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  duration_s INT NOT NULL DEFAULT 0,
  width INT NOT NULL DEFAULT 0,
  height INT NOT NULL DEFAULT 0,
  status ENUM('processing', 'ready', 'failed') NOT NULL DEFAULT 'processing',
  error TEXT NOT NULL DEFAULT '',
  published_at BIGINT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  views BIGINT NOT NULL DEFAULT 0,
  likes BIGINT NOT NULL DEFAULT 0,
  dislikes BIGINT NOT NULL DEFAULT 0,
  KEY videos_status_id (status, id),
  KEY videos_user_id (user_id),
  CONSTRAINT videos_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS video_tags (
  video_id BIGINT NOT NULL,
  tag_id INT NOT NULL,
  PRIMARY KEY (video_id, tag_id),
  KEY video_tags_tag_id (tag_id),
  CONSTRAINT video_tags_video FOREIGN KEY (video_id) REFERENCES videos (id) ON DELETE CASCADE,
  CONSTRAINT video_tags_tag FOREIGN KEY (tag_id) REFERENCES tags (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS video_categories (
  video_id BIGINT NOT NULL,
  category_id INT NOT NULL,
  PRIMARY KEY (video_id, category_id),
  KEY video_categories_category_id (category_id),
  CONSTRAINT video_categories_video FOREIGN KEY (video_id) REFERENCES videos (id) ON DELETE CASCADE,
  CONSTRAINT video_categories_category FOREIGN KEY (category_id) REFERENCES categories (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS video_files (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  video_id BIGINT NOT NULL,
  kind VARCHAR(16) NOT NULL,
  height INT NOT NULL DEFAULT 0,
  path VARCHAR(1024) NOT NULL,
  bytes BIGINT NOT NULL DEFAULT 0,
  mime VARCHAR(64) NOT NULL DEFAULT '',
  KEY video_files_video_id (video_id),
  CONSTRAINT video_files_video FOREIGN KEY (video_id) REFERENCES videos (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS daily_views (
  video_id BIGINT NOT NULL,
  day INT NOT NULL,
  views BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (video_id, day),
  KEY daily_views_day (day),
  CONSTRAINT daily_views_video FOREIGN KEY (video_id) REFERENCES videos (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
)sql";

// Version 2: API tokens (`reel admin token`; per-user tokens later). Only a hash of each token is
// stored, so a leaked database does not leak working tokens.
constexpr std::string_view tokens_sqlite = R"sql(
CREATE TABLE IF NOT EXISTS api_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
  role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
  user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
  label TEXT NOT NULL DEFAULT '' CHECK (length(label) <= 255),
  created_at INTEGER NOT NULL
);
)sql";

constexpr std::string_view tokens_mariadb = R"sql(
CREATE TABLE IF NOT EXISTS api_tokens (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  token_hash CHAR(64) NOT NULL,
  role ENUM('admin', 'user') NOT NULL,
  user_id BIGINT NULL,
  label VARCHAR(255) NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  UNIQUE KEY api_tokens_hash (token_hash),
  CONSTRAINT api_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
)sql";

// Version 3: each token's last four characters, so `reel admin token --list` can show which token
// a row is without the database holding it (4 of its 48 random hex digits; '' for older tokens).
constexpr std::string_view token_hints_sqlite = R"sql(
ALTER TABLE api_tokens ADD COLUMN hint TEXT NOT NULL DEFAULT '' CHECK (length(hint) <= 8);
)sql";

constexpr std::string_view token_hints_mariadb = R"sql(
ALTER TABLE api_tokens ADD COLUMN hint VARCHAR(8) NOT NULL DEFAULT '';
)sql";

// Version 4: people and the write path. Accounts gain a role, a deletion mark and the counters
// pages show (kept by the write that changes them, so the projection sets them, never increments
// them); votes, comments, favorites, playlists and subscriptions are the community's record. The
// outbox holds each write's Redis delta, written in the write's own transaction, until it landed;
// outbox_seq numbers the writes of each object so deltas apply in commit order.
constexpr std::string_view people_sqlite = R"sql(
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user'
  CHECK (role IN ('user', 'uploader', 'moderator', 'admin'));
ALTER TABLE users ADD COLUMN subscribers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN deleted_at INTEGER;
ALTER TABLE videos ADD COLUMN comments INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS votes (
  video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users (id),
  value INTEGER NOT NULL CHECK (value IN (-1, 1)),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (video_id, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS votes_user_id ON votes (user_id);
CREATE TABLE IF NOT EXISTS comments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users (id),
  parent_id INTEGER REFERENCES comments (id) ON DELETE CASCADE,
  body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
  replies INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  edited_at INTEGER
);
CREATE INDEX IF NOT EXISTS comments_video_id ON comments (video_id, id);
CREATE INDEX IF NOT EXISTS comments_user_id ON comments (user_id);
CREATE INDEX IF NOT EXISTS comments_parent_id ON comments (parent_id);
CREATE TABLE IF NOT EXISTS favorites (
  user_id INTEGER NOT NULL REFERENCES users (id),
  video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, video_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS favorites_video_id ON favorites (video_id);
CREATE TABLE IF NOT EXISTS playlists (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users (id),
  title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
  public INTEGER NOT NULL DEFAULT 1 CHECK (public IN (0, 1)),
  items INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS playlists_user_id ON playlists (user_id);
CREATE TABLE IF NOT EXISTS playlist_items (
  playlist_id INTEGER NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
  video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  added_at INTEGER NOT NULL,
  PRIMARY KEY (playlist_id, video_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS playlist_items_video_id ON playlist_items (video_id);
CREATE TABLE IF NOT EXISTS subscriptions (
  user_id INTEGER NOT NULL REFERENCES users (id),
  channel_id INTEGER NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subscriptions_channel_id ON subscriptions (channel_id);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  object TEXT NOT NULL CHECK (length(object) BETWEEN 1 AND 64),
  seq INTEGER NOT NULL,
  delta BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  applied_at INTEGER,
  UNIQUE (object, seq)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (applied_at, id);
CREATE TABLE IF NOT EXISTS outbox_seq (
  object TEXT NOT NULL PRIMARY KEY CHECK (length(object) BETWEEN 1 AND 64),
  seq INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

constexpr std::string_view people_mariadb = R"sql(
ALTER TABLE users ADD COLUMN role ENUM('user', 'uploader', 'moderator', 'admin') NOT NULL DEFAULT 'user',
  ADD COLUMN subscribers BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN deleted_at BIGINT NULL;
ALTER TABLE videos ADD COLUMN comments BIGINT NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS votes (
  video_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  value TINYINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (video_id, user_id),
  KEY votes_user_id (user_id),
  CONSTRAINT votes_value CHECK (value IN (-1, 1)),
  CONSTRAINT votes_video FOREIGN KEY (video_id) REFERENCES videos (id) ON DELETE CASCADE,
  CONSTRAINT votes_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS comments (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  video_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  parent_id BIGINT NULL,
  body TEXT NOT NULL,
  replies BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  edited_at BIGINT NULL,
  KEY comments_video_id (video_id, id),
  KEY comments_user_id (user_id),
  KEY comments_parent_id (parent_id),
  CONSTRAINT comments_body CHECK (CHAR_LENGTH(body) BETWEEN 1 AND 10000),
  CONSTRAINT comments_video FOREIGN KEY (video_id) REFERENCES videos (id) ON DELETE CASCADE,
  CONSTRAINT comments_user FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT comments_parent FOREIGN KEY (parent_id) REFERENCES comments (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS favorites (
  user_id BIGINT NOT NULL,
  video_id BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, video_id),
  KEY favorites_video_id (video_id),
  CONSTRAINT favorites_user FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT favorites_video FOREIGN KEY (video_id) REFERENCES videos (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS playlists (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  title VARCHAR(255) NOT NULL,
  public TINYINT NOT NULL DEFAULT 1,
  items BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  KEY playlists_user_id (user_id),
  CONSTRAINT playlists_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS playlist_items (
  playlist_id BIGINT NOT NULL,
  video_id BIGINT NOT NULL,
  position BIGINT NOT NULL,
  added_at BIGINT NOT NULL,
  PRIMARY KEY (playlist_id, video_id),
  KEY playlist_items_video_id (video_id),
  CONSTRAINT playlist_items_playlist FOREIGN KEY (playlist_id) REFERENCES playlists (id) ON DELETE CASCADE,
  CONSTRAINT playlist_items_video FOREIGN KEY (video_id) REFERENCES videos (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS subscriptions (
  user_id BIGINT NOT NULL,
  channel_id BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, channel_id),
  KEY subscriptions_channel_id (channel_id),
  CONSTRAINT subscriptions_user FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT subscriptions_channel FOREIGN KEY (channel_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS outbox (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  object VARCHAR(64) NOT NULL,
  seq BIGINT NOT NULL,
  delta LONGBLOB NOT NULL,
  created_at BIGINT NOT NULL,
  applied_at BIGINT NULL,
  UNIQUE KEY outbox_object_seq (object, seq),
  KEY outbox_pending (applied_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS outbox_seq (
  object VARCHAR(64) NOT NULL PRIMARY KEY,
  seq BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
)sql";

constexpr Migration migrations[] = {
    {1, catalog_sqlite, catalog_mariadb},
    {2, tokens_sqlite, tokens_mariadb},
    {3, token_hints_sqlite, token_hints_mariadb},
    {4, people_sqlite, people_mariadb},
};

constexpr std::string_view create_schema_migrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, "
    "applied_at BIGINT NOT NULL)";
constexpr std::string_view is_recorded = "SELECT COUNT(*) FROM schema_migrations WHERE version = ?";
constexpr std::string_view record = "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)";
constexpr std::string_view current_version = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";

// Two processes may migrate the same MariaDB at once (its DDL commits implicitly, so a
// transaction cannot serialize them); a named server lock does. On SQLite, BEGIN IMMEDIATE
// serializes each migration's transaction instead.
constexpr std::string_view mariadb_lock = "SELECT GET_LOCK('reel.schema_migrations', 60)";
constexpr std::string_view mariadb_unlock = "SELECT RELEASE_LOCK('reel.schema_migrations')";

class MigrationLock {
 public:
  explicit MigrationLock(Connection& db) : db_(db) {}
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;
  ~MigrationLock() {
    if (held_) log_failure(db_.query_all(mariadb_unlock), "releasing the migration lock");
  }

  Status acquire() {
    if (db_.dialect() != Dialect::mariadb) return {};
    Result<std::vector<Row>> rows = db_.query_all(mariadb_lock);
    if (!rows.ok()) return rows.error();
    if (rows->empty() || rows->front().integer(0) != 1) {
      return Error{"timed out waiting for another process to finish migrating"};
    }
    held_ = true;
    return {};
  }

 private:
  Connection& db_;
  bool held_ = false;
};

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Applies `migration` unless it is recorded, in one transaction with its record.
Status apply(Connection& db, const Migration& migration) {
  Status begun = db.begin();
  if (!begun.ok()) return begun;
  auto fail = [&](const Error& error) {
    log_failure(db.rollback(), fmt::format("rolling back migration {}", migration.version));
    return Error{fmt::format("migration {} failed: {}", migration.version, error.message)};
  };
  Result<std::vector<Row>> recorded = db.query_all(is_recorded, {int64_t{migration.version}});
  if (!recorded.ok()) return fail(recorded.error());
  if (recorded->front().integer(0) != 0) return db.rollback();
  Status applied = db.execute_script(db.dialect() == Dialect::sqlite ? migration.sqlite : migration.mariadb);
  if (!applied.ok()) return fail(applied.error());
  Result<int64_t> noted = db.execute(record, {int64_t{migration.version}, unix_now()});
  if (!noted.ok()) return fail(noted.error());
  Status committed = db.commit();
  if (!committed.ok()) return fail(committed.error());
  return {};
}

}  // namespace

Result<int> migrate(Connection& db) {
  Result<int64_t> created = db.execute(create_schema_migrations);
  if (!created.ok()) return created.error();
  MigrationLock lock(db);
  Status locked = lock.acquire();
  if (!locked.ok()) return locked.error();
  for (const Migration& migration : migrations) {
    Status applied = apply(db, migration);
    if (!applied.ok()) return applied.error();
  }
  Result<std::vector<Row>> version = db.query_all(current_version);
  if (!version.ok()) return version.error();
  return static_cast<int>(version->front().integer(0));
}

int latest_schema_version() {
  return std::end(migrations)[-1].version;
}

}  // namespace reel::sql
