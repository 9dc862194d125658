// Ingest against a real redis-server and SQLite (through the SQL pool): an accepted upload is a
// processing video whose job and `queued` record appear together; deleting a video takes it out
// of every Redis list and its status record at once, marks it in SQL so its transcode cannot bring
// it back, and queues the delete job; an unknown video is not found.
#include "ingest/ingest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "common/clock.h"
#include "jobs/progress.h"
#include "jobs/queue.h"
#include "people/favorites.h"
#include "projection/collection_keys.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "redis/blocking_client.h"
#include "sql/catalog_store.h"
#include "support/event_loop.h"
#include "support/job_stream.h"
#include "support/redis_sqlite_test.h"
#include "writes/write_path.h"

namespace reel::ingest {
namespace {

namespace fs = std::filesystem;
using reel::testing::run_task;

class IngestTest : public reel::testing::RedisSqliteTest {
 protected:
  void SetUp() override {
    RedisSqliteTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(store_->ensure_category("music", "Music", 1));
    auto pool = sql::Pool::open({sql_url_}, 1);
    ASSERT_TRUE(pool) << pool.error().message;
    pool_ = std::move(*pool);
    ingest_.emplace(*pool_, IngestOptions{(dir_.path() / "uploads").string()});
    async_redis_.emplace(io_.get_executor(), connection_options());
    async_redis_->start();
  }

  void TearDown() override {
    if (pool_) pool_->stop();
  }

  // A ready video, listed in Redis as the worker would have published it.
  int64_t published_video() {
    catalog::Video video;
    video.channel_id = store_->ensure_channel("uploader", "The Uploader").value();
    video.title = "Listed";
    video.slug = "listed";
    video.status = catalog::VideoStatus::ready;
    video.created_at = video.published_at = SystemClock().unix_seconds();
    video.tags = {"fresh"};
    video.categories = {"music"};
    const int64_t id = store_->insert_video(video).value();
    auto stored = store_->find_video(id).value();
    auto published = redis_->execute(projection::publish_video_commands(*stored, "The Uploader"));
    EXPECT_TRUE(published && redis::check_exec(*published, "publish"));
    jobs::JobProgress progress(*redis_, clock_);
    EXPECT_TRUE(progress.set(id, jobs::JobState::ready, 100));
    return id;
  }

  bool listed(const std::string& key, int64_t id) {
    auto score = redis_->execute(redis::Command("ZSCORE", key, id));
    return score && !score->is_nil();
  }

  bool exists(const std::string& key) {
    auto reply = redis_->execute(redis::Command("EXISTS", key));
    return reply && reply->integer() == 1;
  }

  // An upload of a small file with `form` on `owner`'s channel: the new video's id; 0 (and a
  // failure) when it is refused.
  int64_t create(const UploadForm& form, Owner owner) {
    fs::create_directories(dir_.path() / "incoming");
    const fs::path file = dir_.path() / "incoming" / "clip";
    std::ofstream(file) << "bytes";
    auto video = check_form(form, 1'700'000'000);
    EXPECT_TRUE(video) << video.error().message;
    if (!video) return 0;
    auto created = run_task(
        io_, ingest_->create(*video, std::move(owner), file.string(), *async_redis_, 1'700'000'000'000));
    EXPECT_TRUE(created && *created) << (created && !*created ? created->error().message : "");
    return created && *created && std::holds_alternative<int64_t>(**created) ? std::get<int64_t>(**created)
                                                                             : 0;
  }

  SystemClock clock_;
  std::unique_ptr<sql::Pool> pool_;
  std::optional<Ingest> ingest_;
  asio::io_context io_;
  std::optional<redis::Connection> async_redis_;
};

TEST_F(IngestTest, AnUploadIsQueuedWithItsRecord) {
  const int64_t id = create({"New", "", "fresh", "music", ""}, Owner{});
  ASSERT_GT(id, 0);
  const std::string upload = jobs::upload_path((dir_.path() / "uploads").string(), id);
  EXPECT_TRUE(fs::exists(upload));
  auto jobs = reel::testing::queued_jobs(*redis_);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].video_id, id);
  EXPECT_EQ(jobs[0].kind, jobs::JobKind::transcode);
  EXPECT_EQ(jobs[0].payload, upload);
  jobs::JobProgress progress(*redis_, clock_);
  auto record = progress.get(id);
  ASSERT_TRUE(record && *record);
  EXPECT_EQ((*record)->state, jobs::JobState::queued);
  EXPECT_EQ((*record)->updated_at_ms, 1'700'000'000'000);
  EXPECT_EQ(store_->find_video(id).value()->status, catalog::VideoStatus::processing);
}

TEST_F(IngestTest, AnAccountsUploadGoesToItsOwnChannel) {
  const int64_t account = store_->ensure_channel("maker", "Maker").value();
  const int64_t admin = store_->ensure_channel("admin", "admin").value();
  std::map<int64_t, int64_t> owners;  // video -> owner_of
  for (const Owner& owner : {Owner{account, ""}, Owner{}}) {
    const int64_t id = create({"Mine", "", "", "", ""}, owner);
    ASSERT_GT(id, 0);
    auto found = run_task(io_, ingest_->owner_of(id));
    ASSERT_TRUE(found && *found && **found);
    owners[id] = ***found;
    EXPECT_EQ(store_->find_video(id).value()->channel_id, ***found);
  }
  ASSERT_EQ(owners.size(), 2u);
  EXPECT_EQ(owners.begin()->second, account);
  EXPECT_EQ(owners.rbegin()->second, admin) << "the admin token's upload without a channel field";
  auto unknown = run_task(io_, ingest_->owner_of(424242));
  ASSERT_TRUE(unknown && *unknown);
  EXPECT_FALSE(**unknown);
}

TEST_F(IngestTest, RemovingWithdrawsTheVideoAtOnceAndQueuesItsDeleteJob) {
  const int64_t id = published_video();
  const std::string newest =
      projection::keys::list({projection::ListKind::all, {}}, projection::Sort::newest);
  const std::string tagged =
      projection::keys::list({projection::ListKind::tag, "fresh"}, projection::Sort::newest);
  const std::string searched = projection::keys::search_term("fresh");
  ASSERT_TRUE(listed(newest, id));
  ASSERT_TRUE(listed(tagged, id));
  ASSERT_TRUE(listed(searched, id));
  const int64_t fan = store_->ensure_channel("fan", "A Fan").value();
  const std::function<Result<bool>(writes::Transaction&)> favorite = [&](writes::Transaction& tx) {
    return people::add_favorite(tx, fan, id, clock_.unix_seconds());
  };
  ASSERT_TRUE(writes::write_blocking<bool>(*db_, *redis_, favorite, clock_.unix_seconds()));
  const std::string favorites = projection::keys::favorites(fan);
  ASSERT_TRUE(listed(favorites, id));

  auto removed = run_task(io_, ingest_->remove(id, *async_redis_, clock_.unix_seconds() * 1000));
  ASSERT_TRUE(removed && *removed) << (removed && !*removed ? removed->error().message : "");
  EXPECT_TRUE(**removed);
  EXPECT_FALSE(listed(newest, id));
  EXPECT_FALSE(listed(tagged, id));
  EXPECT_FALSE(listed(searched, id)) << "out of the search index";
  EXPECT_FALSE(exists(projection::keys::search_record(id)));
  EXPECT_FALSE(listed(favorites, id)) << "out of the favorites holding it too";
  EXPECT_FALSE(exists(projection::keys::card(id)));
  EXPECT_FALSE(exists(projection::keys::video(id)));
  EXPECT_FALSE(exists(projection::keys::job_progress(id))) << "the API has nothing to report on it";
  auto row = store_->find_video(id).value();
  ASSERT_TRUE(row) << "the delete job removes the row";
  EXPECT_EQ(row->status, catalog::VideoStatus::failed) << "so a late transcode cannot make it ready";
  auto jobs = reel::testing::queued_jobs(*redis_);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].video_id, id);
  EXPECT_EQ(jobs[0].kind, jobs::JobKind::remove);
  EXPECT_EQ(jobs[0].payload, jobs::upload_path((dir_.path() / "uploads").string(), id));
}

TEST_F(IngestTest, RemovingAnUnknownVideoFindsNothingAndChangesNothing) {
  auto removed = run_task(io_, ingest_->remove(424242, *async_redis_, clock_.unix_seconds() * 1000));
  ASSERT_TRUE(removed && *removed);
  EXPECT_FALSE(**removed);
  EXPECT_TRUE(reel::testing::queued_jobs(*redis_).empty());
}

}  // namespace
}  // namespace reel::ingest
