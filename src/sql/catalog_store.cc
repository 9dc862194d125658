#include "sql/catalog_store.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/text.h"
#include "sql/statements.h"

namespace reel::sql {
namespace {

using catalog::Video;
using catalog::VideoStatus;

// A failed video's reason is cut to this many bytes (at a character boundary).
constexpr size_t max_reason_bytes = 1000;
// Videos read per batch by for_each_video: bounds memory, keeps queries per video near zero.
constexpr int64_t video_batch_size = 5000;

constexpr std::string_view select_channel_id = "SELECT id FROM users WHERE name = ?";
constexpr DialectSql insert_channel = {
    "INSERT INTO users (name, display_name) VALUES (?, ?) ON CONFLICT DO NOTHING",
    "INSERT INTO users (name, display_name) VALUES (?, ?) ON DUPLICATE KEY UPDATE id = id"};
constexpr std::string_view select_category_id = "SELECT id FROM categories WHERE slug = ?";
constexpr DialectSql insert_category = {
    "INSERT INTO categories (slug, name, position) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    "INSERT INTO categories (slug, name, position) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE id = id"};
constexpr std::string_view select_tag_id = "SELECT id FROM tags WHERE name = ?";
constexpr DialectSql insert_tag = {"INSERT INTO tags (name) VALUES (?) ON CONFLICT DO NOTHING",
                                   "INSERT INTO tags (name) VALUES (?) ON DUPLICATE KEY UPDATE id = id"};

constexpr std::string_view insert_video_row =
    "INSERT INTO videos (user_id, title, slug, description, duration_s, width, height, status, error, "
    "published_at, created_at, updated_at, views, likes, dislikes, comments) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr size_t published_at_param = 9;
// A video's tags, categories and files are each written with one multi-row INSERT: on MariaDB
// one round trip per table instead of one per row (SQLite runs both forms equally fast).
constexpr std::string_view insert_video_tags = "INSERT INTO video_tags (video_id, tag_id) VALUES ";
constexpr std::string_view insert_video_categories =
    "INSERT INTO video_categories (video_id, category_id) VALUES ";
constexpr std::string_view insert_video_files =
    "INSERT INTO video_files (video_id, kind, height, path, bytes, mime) VALUES ";
constexpr std::string_view two_values = "(?, ?)";
constexpr std::string_view six_values = "(?, ?, ?, ?, ?, ?)";

// Columns read by parse_video, in order.
#define REEL_VIDEO_SELECT                                                                             \
  "SELECT v.id, v.user_id, u.name, v.title, v.slug, v.description, v.duration_s, v.width, v.height, " \
  "v.status, v.error, v.published_at, v.created_at, v.views, v.likes, v.dislikes, v.comments "        \
  "FROM videos v JOIN users u ON u.id = v.user_id "
constexpr std::string_view select_video_by_id = REEL_VIDEO_SELECT "WHERE v.id = ?";
constexpr std::string_view select_video_batch =
    REEL_VIDEO_SELECT "WHERE v.status = ? AND v.id > ? ORDER BY v.id LIMIT ?";
#undef REEL_VIDEO_SELECT

// Details of the videos with a status in an id range: (video_id, ...) rows in video id order.
constexpr std::string_view select_batch_tags =
    "SELECT vt.video_id, t.name FROM videos v JOIN video_tags vt ON vt.video_id = v.id "
    "JOIN tags t ON t.id = vt.tag_id WHERE v.status = ? AND v.id BETWEEN ? AND ? "
    "ORDER BY vt.video_id, t.name";
constexpr std::string_view select_batch_categories =
    "SELECT vc.video_id, c.slug FROM videos v JOIN video_categories vc ON vc.video_id = v.id "
    "JOIN categories c ON c.id = vc.category_id WHERE v.status = ? AND v.id BETWEEN ? AND ? "
    "ORDER BY vc.video_id, c.position, c.id";
constexpr std::string_view select_batch_files =
    "SELECT f.video_id, f.kind, f.height, f.path, f.bytes, f.mime FROM videos v "
    "JOIN video_files f ON f.video_id = v.id WHERE v.status = ? AND v.id BETWEEN ? AND ? "
    "ORDER BY f.video_id, f.id";

constexpr std::string_view count_all_videos = "SELECT COUNT(*) FROM videos";
constexpr DialectSql add_day_views = {
    "INSERT INTO daily_views (video_id, day, views) SELECT id, ?, ? FROM videos WHERE id = ? "
    "ON CONFLICT (video_id, day) DO UPDATE SET views = views + excluded.views",
    "INSERT INTO daily_views (video_id, day, views) SELECT id, ?, ? FROM videos WHERE id = ? "
    "ON DUPLICATE KEY UPDATE views = daily_views.views + VALUES(views)"};
constexpr std::string_view add_video_views = "UPDATE videos SET views = views + ? WHERE id = ?";
constexpr std::string_view select_categories =
    "SELECT id, slug, name, position FROM categories ORDER BY position, id";
constexpr std::string_view select_channels =
    "SELECT id, name, display_name, created_at, subscribers FROM users WHERE deleted_at IS NULL ORDER BY id";
constexpr std::string_view select_view_sums =
    "SELECT video_id, SUM(views) FROM daily_views WHERE day >= ? GROUP BY video_id ORDER BY video_id";
constexpr std::string_view select_daily_views =
    "SELECT video_id, day, views FROM daily_views WHERE day >= ? ORDER BY day, video_id";

// Returns the id `select_sql` finds for `key`, first inserting `row` with `insert_sql` (which
// ignores a duplicate, so a concurrent insert of the same key is not an error) when none does.
Result<int64_t> select_or_insert(Connection& db, std::string_view select_sql, const Params& key,
                                 std::string_view insert_sql, const Params& row) {
  for (bool inserted = false;; inserted = true) {
    Result<std::vector<Row>> found = db.query_all(select_sql, key);
    if (!found.ok()) return found.error();
    if (!found->empty()) return found->front().integer(0);
    if (inserted) return Error{fmt::format("no row after inserting it (in \"{}\")", insert_sql)};
    Result<int64_t> insert = db.execute(insert_sql, row);
    if (!insert.ok()) return insert.error();
  }
}

Result<Video> parse_video(const Row& row) {
  Video video;
  video.id = row.integer(0);
  video.channel_id = row.integer(1);
  video.channel_name = row.text(2);
  video.title = row.text(3);
  video.slug = row.text(4);
  video.description = row.text(5);
  video.duration_s = static_cast<int32_t>(row.integer(6));
  video.width = static_cast<int32_t>(row.integer(7));
  video.height = static_cast<int32_t>(row.integer(8));
  if (!catalog::parse_status(row.text(9), &video.status)) {
    return Error{fmt::format("video {} has unknown status '{}'", video.id, row.text(9))};
  }
  video.error = row.text(10);
  video.published_at = row.integer(11);
  video.created_at = row.integer(12);
  video.views = row.integer(13);
  video.likes = row.integer(14);
  video.dislikes = row.integer(15);
  video.comments = row.integer(16);
  return video;
}

// Reads videos with `sql` and `params` (columns as parse_video reads them) into `out`.
Status read_videos(Connection& db, std::string_view sql, const Params& params, std::vector<Video>* out) {
  Status parsed;
  Status read = db.query(sql, params, [&](const Row& row) {
    Result<Video> video = parse_video(row);
    if (!video.ok()) {
      parsed = video.error();
      return false;
    }
    out->push_back(std::move(*video));
    return true;
  });
  if (!read.ok()) return read;
  return parsed;
}

// Runs a detail query over `videos` (sorted by id, all with `status`) and hands each row to
// `add` with the video it belongs to.
Status read_details(Connection& db, std::string_view sql, VideoStatus status, std::vector<Video>& videos,
                    const std::function<void(Video&, const Row&)>& add) {
  const Params range = {std::string(catalog::to_string(status)), videos.front().id, videos.back().id};
  return db.query(sql, range, [&](const Row& row) {
    const int64_t id = row.integer(0);
    auto video = std::lower_bound(videos.begin(), videos.end(), id,
                                  [](const Video& v, int64_t wanted) { return v.id < wanted; });
    if (video != videos.end() && video->id == id) add(*video, row);
    return true;
  });
}

// Fills in tags, categories and files of `videos` (sorted by id, all with `status`): three
// queries whatever the number of videos.
Status fill_details(Connection& db, VideoStatus status, std::vector<Video>& videos) {
  if (videos.empty()) return {};
  Status tags = read_details(db, select_batch_tags, status, videos,
                             [](Video& video, const Row& row) { video.tags.push_back(row.text(1)); });
  if (!tags.ok()) return tags;
  Status categories =
      read_details(db, select_batch_categories, status, videos,
                   [](Video& video, const Row& row) { video.categories.push_back(row.text(1)); });
  if (!categories.ok()) return categories;
  return read_details(db, select_batch_files, status, videos, [](Video& video, const Row& row) {
    video.files.push_back(catalog::VideoFile{.kind = row.text(1),
                                             .height = static_cast<int32_t>(row.integer(2)),
                                             .path = row.text(3),
                                             .bytes = row.integer(4),
                                             .mime = row.text(5)});
  });
}

// Runs `insert` (ending in "VALUES ") with `placeholders` repeated for each of the rows in
// `params`, which holds `columns` values per row. Nothing to insert is not an error.
Status insert_rows(Connection& db, std::string_view insert, std::string_view placeholders, size_t columns,
                   const Params& params) {
  const size_t rows = params.size() / columns;
  if (rows == 0) return {};
  std::string sql(insert);
  sql.reserve(insert.size() + rows * (placeholders.size() + 2));
  for (size_t row = 0; row < rows; ++row) {
    if (row > 0) sql += ", ";
    sql += placeholders;
  }
  return unit(db.execute(sql, params));
}

// Returns `values` without repeats, first occurrence kept.
std::vector<int64_t> distinct(std::vector<int64_t> values) {
  std::vector<int64_t> seen;
  seen.reserve(values.size());
  for (int64_t value : values) {
    if (std::find(seen.begin(), seen.end(), value) == seen.end()) seen.push_back(value);
  }
  return seen;
}

}  // namespace

Status CatalogStore::rollback() {
  tag_ids_.clear();
  category_ids_.clear();
  return db_.rollback();
}

Result<int64_t> CatalogStore::ensure_channel(const std::string& name, const std::string& display_name) {
  return select_or_insert(db_, select_channel_id, {name}, insert_channel.in(db_.dialect()),
                          {name, display_name});
}

Result<int64_t> CatalogStore::ensure_category(const std::string& slug, const std::string& name,
                                              int32_t position) {
  if (auto cached = category_ids_.find(slug); cached != category_ids_.end()) return cached->second;
  Result<int64_t> id = select_or_insert(db_, select_category_id, {slug}, insert_category.in(db_.dialect()),
                                        {slug, name, int64_t{position}});
  if (id.ok()) category_ids_.emplace(slug, *id);
  return id;
}

Result<int64_t> CatalogStore::ensure_tag(const std::string& name) {
  if (auto cached = tag_ids_.find(name); cached != tag_ids_.end()) return cached->second;
  Result<int64_t> id = select_or_insert(db_, select_tag_id, {name}, insert_tag.in(db_.dialect()), {name});
  if (id.ok()) tag_ids_.emplace(name, *id);
  return id;
}

Result<int64_t> CatalogStore::category_id(const std::string& slug) {
  if (auto cached = category_ids_.find(slug); cached != category_ids_.end()) return cached->second;
  Result<std::vector<Row>> found = db_.query_all(select_category_id, {slug});
  if (!found.ok()) return found.error();
  if (found->empty()) return Error{fmt::format("unknown category '{}'", slug)};
  const int64_t id = found->front().integer(0);
  category_ids_.emplace(slug, id);
  return id;
}

Result<int64_t> CatalogStore::insert_video(const Video& video) {
  // Every category is checked before anything is written.
  std::vector<int64_t> category_ids;
  for (const std::string& slug : video.categories) {
    Result<int64_t> id = category_id(slug);
    if (!id.ok()) return id.error();
    category_ids.push_back(*id);
  }
  std::vector<int64_t> tag_ids;
  for (const std::string& name : video.tags) {
    Result<int64_t> id = ensure_tag(name);
    if (!id.ok()) return id.error();
    tag_ids.push_back(*id);
  }

  Params row = {video.channel_id,
                video.title,
                video.slug,
                video.description,
                int64_t{video.duration_s},
                int64_t{video.width},
                int64_t{video.height},
                std::string(catalog::to_string(video.status)),
                video.error,
                Value(),
                video.created_at,
                video.created_at,
                video.views,
                video.likes,
                video.dislikes,
                video.comments};
  if (video.published_at != 0) row[published_at_param] = video.published_at;  // else NULL: unpublished
  Result<int64_t> inserted = db_.execute(insert_video_row, row);
  if (!inserted.ok()) return inserted.error();
  const int64_t video_id = db_.last_insert_id();

  Params pairs;
  for (int64_t tag_id : distinct(std::move(tag_ids))) pairs.insert(pairs.end(), {video_id, tag_id});
  Status tagged = insert_rows(db_, insert_video_tags, two_values, 2, pairs);
  if (!tagged.ok()) return tagged.error();
  pairs.clear();
  for (int64_t category_id : distinct(std::move(category_ids)))
    pairs.insert(pairs.end(), {video_id, category_id});
  Status categorized = insert_rows(db_, insert_video_categories, two_values, 2, pairs);
  if (!categorized.ok()) return categorized.error();
  Params files;
  for (const catalog::VideoFile& file : video.files) {
    files.insert(files.end(), {video_id, file.kind, int64_t{file.height}, file.path, file.bytes, file.mime});
  }
  Status filed = insert_rows(db_, insert_video_files, six_values, 6, files);
  if (!filed.ok()) return filed.error();
  return video_id;
}

Result<bool> CatalogStore::mark_ready(int64_t id, int32_t duration_s, int32_t width, int32_t height,
                                      const std::vector<catalog::VideoFile>& files, int64_t published_at) {
  Result<int64_t> updated = db_.execute(
      "UPDATE videos SET status = 'ready', error = '', duration_s = ?, width = ?, height = ?, published_at = "
      "? "
      "WHERE id = ? AND status <> 'failed'",
      {int64_t{duration_s}, int64_t{width}, int64_t{height}, published_at, id});
  if (!updated.ok()) return updated.error();
  if (*updated == 0) return false;
  Result<int64_t> cleared = db_.execute("DELETE FROM video_files WHERE video_id = ?", {id});
  if (!cleared.ok()) return cleared.error();
  Params rows;
  for (const catalog::VideoFile& file : files) {
    rows.insert(rows.end(), {id, file.kind, int64_t{file.height}, file.path, file.bytes, file.mime});
  }
  if (Status inserted = insert_rows(db_, insert_video_files, six_values, 6, rows); !inserted.ok()) {
    return inserted.error();
  }
  return true;
}

Status CatalogStore::mark_failed(int64_t id, std::string_view reason) {
  Result<int64_t> updated = db_.execute("UPDATE videos SET status = 'failed', error = ? WHERE id = ?",
                                        {std::string(utf8_prefix(reason, max_reason_bytes)), id});
  if (!updated.ok()) return updated.error();
  if (*updated == 0) return Error{fmt::format("no video {}", id)};
  return {};
}

Result<bool> CatalogStore::mark_failed_if_processing(int64_t id, std::string_view reason) {
  Result<int64_t> updated =
      db_.execute("UPDATE videos SET status = 'failed', error = ? WHERE id = ? AND status = 'processing'",
                  {std::string(utf8_prefix(reason, max_reason_bytes)), id});
  if (!updated.ok()) return updated.error();
  return *updated > 0;
}

Result<bool> CatalogStore::delete_video(int64_t id) {
  Result<int64_t> deleted = db_.execute("DELETE FROM videos WHERE id = ?", {id});
  if (!deleted.ok()) return deleted.error();
  return *deleted > 0;
}

Result<std::optional<Video>> CatalogStore::find_video(int64_t id) {
  std::vector<Video> found;
  Status read = read_videos(db_, select_video_by_id, {id}, &found);
  if (!read.ok()) return read.error();
  if (found.empty()) return std::optional<Video>();
  Status details = fill_details(db_, found.front().status, found);
  if (!details.ok()) return details.error();
  return std::optional<Video>(std::move(found.front()));
}

Result<int64_t> CatalogStore::count_videos() {
  Result<std::vector<Row>> rows = db_.query_all(count_all_videos);
  if (!rows.ok()) return rows.error();
  return rows->front().integer(0);
}

Status CatalogStore::add_daily_views(const std::vector<catalog::DailyViews>& rows) {
  const std::string_view add_day = add_day_views.in(db_.dialect());
  for (const catalog::DailyViews& row : rows) {
    Status day = unit(db_.execute(add_day, {int64_t{row.day}, row.views, row.video_id}));
    if (!day.ok()) return day;
    Status total = unit(db_.execute(add_video_views, {row.views, row.video_id}));
    if (!total.ok()) return total;
  }
  return {};
}

Result<std::vector<catalog::Category>> CatalogStore::categories() {
  std::vector<catalog::Category> categories;
  Status read = db_.query(select_categories, {}, [&](const Row& row) {
    categories.push_back(catalog::Category{.id = row.integer(0),
                                           .slug = row.text(1),
                                           .name = row.text(2),
                                           .position = static_cast<int32_t>(row.integer(3))});
    return true;
  });
  if (!read.ok()) return read.error();
  return categories;
}

namespace {

catalog::Channel channel_of(const Row& row) {
  return catalog::Channel{.id = row.integer(0),
                          .name = row.text(1),
                          .display_name = row.text(2),
                          .created_at = row.integer(3),
                          .subscribers = row.integer(4)};
}

}  // namespace

Result<std::vector<int64_t>> CatalogStore::live_video_ids(int64_t channel_id) {
  std::vector<int64_t> ids;
  Status read = db_.query("SELECT id FROM videos WHERE user_id = ? AND status <> 'failed' ORDER BY id",
                          {channel_id}, [&](const Row& row) {
                            ids.push_back(row.integer(0));
                            return true;
                          });
  if (!read.ok()) return read.error();
  return ids;
}

Result<std::vector<catalog::Channel>> CatalogStore::channels() {
  std::vector<catalog::Channel> channels;
  Status read = db_.query(select_channels, {}, [&](const Row& row) {
    channels.push_back(channel_of(row));
    return true;
  });
  if (!read.ok()) return read.error();
  return channels;
}

Result<std::optional<catalog::Channel>> CatalogStore::find_channel(const std::string& name) {
  Result<std::vector<Row>> rows = db_.query_all(
      "SELECT id, name, display_name, created_at, subscribers FROM users WHERE name = ?", {name});
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return std::optional<catalog::Channel>{};
  return std::optional<catalog::Channel>{channel_of(rows->front())};
}

Status CatalogStore::for_each_video(VideoStatus status, const std::function<void(const Video&)>& fn) {
  const std::string status_text(catalog::to_string(status));
  int64_t after_id = 0;
  while (true) {
    std::vector<Video> batch;
    Status read = read_videos(db_, select_video_batch, {status_text, after_id, video_batch_size}, &batch);
    if (!read.ok()) return read;
    Status details = fill_details(db_, status, batch);
    if (!details.ok()) return details;
    for (const Video& video : batch) fn(video);
    if (static_cast<int64_t>(batch.size()) < video_batch_size) return {};
    after_id = batch.back().id;
  }
}

Status CatalogStore::for_each_view_sum(int32_t since_day, const std::function<void(int64_t, int64_t)>& fn) {
  return db_.query(select_view_sums, {int64_t{since_day}}, [&](const Row& row) {
    fn(row.integer(0), row.integer(1));
    return true;
  });
}

Status CatalogStore::for_each_daily_views(int32_t since_day,
                                          const std::function<void(const catalog::DailyViews&)>& fn) {
  return db_.query(select_daily_views, {int64_t{since_day}}, [&](const Row& row) {
    fn(catalog::DailyViews{
        .video_id = row.integer(0), .day = static_cast<int32_t>(row.integer(1)), .views = row.integer(2)});
    return true;
  });
}

}  // namespace reel::sql
