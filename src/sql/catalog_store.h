// CatalogStore: the catalog's typed reads and writes over one sql::Connection — the only code
// that knows the catalog's table and column names. Both dialects are served by the same
// methods. Used by `reel seed`, `reel rebuild` and (later) the write path.
//
// Thread-safety: as the Connection it wraps (one thread at a time).
// Failure: each call returns an Error with the engine's message; a failed call inside a
// transaction leaves the transaction for the caller to roll back, through rollback() below.
//
// The store caches the ids of tags and categories it has seen (bulk inserts then need no
// lookups), so use one store per connection, and roll back through rollback(), which forgets
// the ids created inside the transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/model.h"
#include "common/result.h"
#include "sql/connection.h"

namespace reel::sql {

class CatalogStore {
 public:
  explicit CatalogStore(Connection& connection) : db_(connection) {}

  Connection& connection() { return db_; }

  // Rolls back the connection's transaction and forgets cached ids (they may name rows the
  // rollback removed).
  Status rollback();

  // The ensure_* calls return the id of an existing row unchanged (its other columns are kept).
  // Returns the id of the channel (users row) with this name, creating it if missing.
  Result<int64_t> ensure_channel(const std::string& name, const std::string& display_name);
  // Returns the id of the category with this slug, creating it if missing.
  Result<int64_t> ensure_category(const std::string& slug, const std::string& name, int32_t position);
  // Returns the id of the tag with this name, creating it if missing.
  Result<int64_t> ensure_tag(const std::string& name);

  // Inserts the video with its tags (created as needed), categories (which must exist: an
  // unknown slug is an Error) and files; video.id is ignored. Returns the new id.
  Result<int64_t> insert_video(const catalog::Video& video);
  // The processed video goes ready: its probed duration and size, its files (replacing any from
  // an earlier attempt), published at `published_at`, error cleared. Only a video processing (or
  // ready: a rerun of its job) changes: false, with nothing changed, when there is no such video
  // or it is failed (which includes one being deleted), so a job that finishes late never brings
  // it back. Not atomic by itself: call it inside a transaction.
  Result<bool> mark_ready(int64_t id, int32_t duration_s, int32_t width, int32_t height,
                          const std::vector<catalog::VideoFile>& files, int64_t published_at);
  // The video goes failed with a reason for its uploader (cut to 1,000 bytes); Error when there is
  // no such video.
  Status mark_failed(int64_t id, std::string_view reason);
  // As mark_failed, only while the video is processing: false (nothing changed) when it is not, or
  // there is no such video. For who fails an upload from outside its job (the sweeper), so a job
  // that finished meanwhile keeps its result.
  Result<bool> mark_failed_if_processing(int64_t id, std::string_view reason);
  // Removes the video with its tags, categories, files and daily views (ON DELETE CASCADE).
  // Returns whether it existed.
  Result<bool> delete_video(int64_t id);

  // The video with its channel name, tags (by name), categories (by position) and files (in
  // insertion order); nullopt if there is none.
  Result<std::optional<catalog::Video>> find_video(int64_t id);
  // The ids of the channel's videos not already failed (ready or processing), in id order: what
  // deleting its account queues delete jobs for.
  Result<std::vector<int64_t>> live_video_ids(int64_t channel_id);
  Result<int64_t> count_videos();

  // Adds `views` to each (video, day) row, creating rows as needed, and to videos.views. Rows of
  // unknown videos are skipped. Not atomic by itself: call it inside a transaction.
  Status add_daily_views(const std::vector<catalog::DailyViews>& rows);

  Result<std::vector<catalog::Category>> categories();  // by position
  Result<std::vector<catalog::Channel>> channels();     // by id
  Result<std::optional<catalog::Channel>> find_channel(const std::string& name);

  // Calls `fn` for every video with status `status`, in id order, with its channel name, tags,
  // categories and files filled in as find_video() does. Reads in batches (a constant number of
  // queries per batch, never one per video), so it scans millions of videos in bounded memory.
  Status for_each_video(catalog::VideoStatus status, const std::function<void(const catalog::Video&)>& fn);
  // Calls `fn(video_id, views)` with each video's sum of daily views over days >= since_day
  // (YYYYMMDD), for videos that have any, in video id order. Rows stream from the connection
  // while `fn` runs, so `fn` must not use it (as for for_each_daily_views).
  Status for_each_view_sum(int32_t since_day, const std::function<void(int64_t, int64_t)>& fn);
  // Calls `fn` with each daily row for days >= since_day, by day then video id.
  Status for_each_daily_views(int32_t since_day, const std::function<void(const catalog::DailyViews&)>& fn);

 private:
  Result<int64_t> category_id(const std::string& slug);

  Connection& db_;
  std::unordered_map<std::string, int64_t> tag_ids_;       // name -> id
  std::unordered_map<std::string, int64_t> category_ids_;  // slug -> id
};

}  // namespace reel::sql
