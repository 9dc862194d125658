#include "ingest/ingest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "common/days.h"
#include "common/log_failure.h"
#include "common/text.h"
#include "jobs/job.h"
#include "jobs/progress.h"
#include "people/collections.h"
#include "projection/projector.h"
#include "search/analyzer.h"
#include "sql/catalog_store.h"

namespace reel::ingest {
namespace {

namespace fs = std::filesystem;

constexpr size_t max_title_chars = 200;
constexpr size_t max_description_bytes = 5000;
constexpr size_t max_tags = 20;
constexpr std::chrono::hours progress_ttl{24};
// What a deleted video's SQL row says until its delete job removes it.
constexpr std::string_view deleting_reason = "the video is being deleted";

// Tags, category slugs and channel handles: the router's names (catalog::valid_name), in UTF-8.
bool valid_name(std::string_view name) {
  return catalog::valid_name(name) && user_text_chars(name, Lines::one).has_value();
}

}  // namespace

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() <= scheme.size() || !iequals(authorization.substr(0, scheme.size()), scheme)) {
    return {};
  }
  return trim(authorization.substr(scheme.size()));
}

Result<catalog::Video> check_form(const UploadForm& form, int64_t now) {
  catalog::Video video;
  const std::string_view title = trim(form.title);
  auto title_chars = user_text_chars(title, Lines::one);
  if (title.empty()) return Error{"a title is required"};
  if (!title_chars) return Error{"the title must be one line of text"};
  if (*title_chars > max_title_chars)
    return Error{fmt::format("the title is over {} characters", max_title_chars)};
  if (!user_text_chars(form.description, Lines::many)) return Error{"the description must be text (UTF-8)"};
  if (form.description.size() > max_description_bytes) {
    return Error{fmt::format("the description is over {} bytes", max_description_bytes)};
  }
  std::string_view tags = form.tags;
  while (!tags.empty()) {
    size_t end = tags.find_first_of(", \t\n");
    std::string_view tag = tags.substr(0, end);
    tags = end == std::string_view::npos ? std::string_view() : tags.substr(end + 1);
    if (tag.empty()) continue;
    std::string lower(tag);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!valid_name(lower))
      return Error{fmt::format("'{}' is not a valid tag (letters, digits, - _ .)", tag)};
    if (std::find(video.tags.begin(), video.tags.end(), lower) == video.tags.end())
      video.tags.push_back(lower);
  }
  if (video.tags.size() > max_tags) return Error{fmt::format("at most {} tags", max_tags)};
  const std::string_view category = trim(form.category);
  if (!category.empty()) {
    if (!valid_name(category)) return Error{"unknown category"};
    video.categories.emplace_back(category);
  }
  video.title = std::string(title);
  video.slug = search::thread_analyzer().slug(title);
  video.description = form.description;
  video.status = catalog::VideoStatus::processing;
  video.created_at = now;
  return video;
}

Task<Result<std::optional<sql::TokenGrant>>> Ingest::authenticate(std::string_view token) {
  // Jobs are named locals, not temporaries inside a co_await: g++ 12 can destroy those twice.
  std::function<Result<std::optional<sql::TokenGrant>>(sql::Connection&)> find =
      [token = std::string(token)](sql::Connection& db) { return sql::TokenStore(db).find(token); };
  co_return co_await pool_.run<std::optional<sql::TokenGrant>>(std::move(find));
}

Task<Result<std::optional<int64_t>>> Ingest::owner_of(int64_t id) {
  std::function<Result<std::optional<int64_t>>(sql::Connection&)> find =
      [id](sql::Connection& db) -> Result<std::optional<int64_t>> {
    auto video = sql::CatalogStore(db).find_video(id);
    if (!video) return video.error();
    if (!*video) return std::optional<int64_t>{};
    return std::optional<int64_t>((*video)->channel_id);
  };
  co_return co_await pool_.run<std::optional<int64_t>>(std::move(find));
}

Task<Result<Created>> Ingest::create(catalog::Video video, Owner owner, std::string file,
                                     redis::Connection& redis, int64_t now_ms) {
  if (owner.user_id == 0 && owner.channel.empty()) owner.channel = options_.admin_channel;
  if (owner.user_id == 0 && !valid_name(owner.channel))
    co_return Created{Rejected{"not a valid channel name"}};
  const std::string uploads_dir = options_.uploads_dir;
  // SQL row and the file's move, on a pool thread.
  std::function<Result<Created>(sql::Connection&)> store_upload =
      [video = std::move(video), owner, file, uploads_dir](sql::Connection& db) mutable -> Result<Created> {
    sql::CatalogStore store(db);
    auto categories = store.categories();
    if (!categories) return categories.error();
    for (const auto& slug : video.categories) {
      auto known = std::find_if(categories->begin(), categories->end(),
                                [&](const catalog::Category& c) { return c.slug == slug; });
      if (known == categories->end()) return Created{Rejected{fmt::format("unknown category '{}'", slug)}};
    }
    if (auto begun = db.begin(); !begun) return begun.error();
    auto channel_id = owner.user_id != 0 ? Result<int64_t>(owner.user_id)
                                         : store.ensure_channel(owner.channel, owner.channel);
    if (channel_id) video.channel_id = *channel_id;
    auto id = channel_id ? store.insert_video(video) : Result<int64_t>(channel_id.error());
    Status committed = id ? db.commit() : Status(id.error());
    if (!committed) {
      log_failure(store.rollback(), "rolling back the new upload");
      return committed.error();
    }
    std::error_code ec;
    fs::create_directories(uploads_dir, ec);
    fs::rename(file, jobs::upload_path(uploads_dir, *id), ec);
    if (ec) {
      // Left `processing` if this fails too: the worker's sweeper fails it (its upload is gone).
      log_failure(store.delete_video(*id),
                  fmt::format("video {}: taking back the upload whose file was lost", *id));
      return Error{"keeping the upload failed: " + ec.message()};
    }
    return Created{*id};
  };
  auto stored = co_await pool_.run<Created>(std::move(store_upload));
  if (!stored || std::holds_alternative<Rejected>(*stored)) co_return stored;
  const int64_t id = std::get<int64_t>(*stored);
  const std::string upload = jobs::upload_path(uploads_dir, id);

  const jobs::Job job{
      .video_id = id, .kind = jobs::JobKind::transcode, .enqueued_at_ms = now_ms, .payload = upload};
  auto commands = jobs::enqueue_with_progress_commands(job, progress_ttl);
  auto queued = co_await redis.execute(std::move(commands));
  if (queued && redis::check_exec(*queued, "queueing the job")) co_return stored;
  // No job, no video: take both back so nothing waits forever in `processing`.
  std::function<Result<bool>(sql::Connection&)> take_back = [id,
                                                             upload](sql::Connection& db) -> Result<bool> {
    std::error_code ignored;
    fs::remove(upload, ignored);
    return sql::CatalogStore(db).delete_video(id);
  };
  auto taken_back = co_await pool_.run<bool>(std::move(take_back));
  // Left `processing` without a job if this fails too: the worker's sweeper fails it (no upload).
  log_failure(taken_back, fmt::format("video {}: taking back the upload that could not be queued", id));
  co_return Error{"the job queue is unavailable"};
}

Task<Result<bool>> Ingest::remove(int64_t id, redis::Connection& redis, int64_t now_ms) {
  // SQL first: the video goes failed, so its transcode job (queued or running) cannot make it
  // ready again, and the sweeper leaves it alone.
  // The favorites lists and playlists holding it are read now, while its rows are there (the
  // delete job's SQL delete cascades them away).
  struct Marked {
    std::optional<catalog::Video> video;
    std::vector<redis::Command> collections;  // the video out of favorites and playlists
  };
  std::function<Result<Marked>(sql::Connection&)> mark = [id](sql::Connection& db) -> Result<Marked> {
    sql::CatalogStore store(db);
    auto found = store.find_video(id);
    if (!found) return found.error();
    if (!*found) return Marked{};
    auto collections = people::video_removal_commands(db, id);
    if (!collections) return collections.error();
    if (auto marked = store.mark_failed(id, deleting_reason); !marked) return marked.error();
    return Marked{std::move(*found), std::move(*collections)};
  };
  auto found = co_await pool_.run<Marked>(std::move(mark));
  if (!found) co_return found.error();
  if (!found->video) co_return false;

  // One MULTI/EXEC: out of every list (favorites and playlists too) and its status record, and
  // the delete job queued.
  const int64_t now_s = now_ms / 1000;
  auto commands = projection::withdraw_video_commands(*found->video, utc_day(now_s));
  commands.insert(commands.end() - 1, std::make_move_iterator(found->collections.begin()),
                  std::make_move_iterator(found->collections.end()));
  const jobs::Job job{.video_id = id,
                      .kind = jobs::JobKind::remove,
                      .enqueued_at_ms = now_ms,
                      .payload = jobs::upload_path(options_.uploads_dir, id)};
  commands.insert(commands.end() - 1, {jobs::progress_delete_command(id), jobs::enqueue_command(job)});
  auto replies = co_await redis.execute(std::move(commands));
  if (!replies) co_return replies.error();
  if (auto applied = redis::check_exec(*replies, "withdrawing the video"); !applied)
    co_return applied.error();
  if (options_.changes != nullptr) {
    const std::string object = video_object(id);
    options_.changes->changed({&object, 1});
  }
  co_return true;
}

}  // namespace reel::ingest
