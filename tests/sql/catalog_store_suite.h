// The CatalogStore suite, run unchanged against every backend (see connection_suite.h for the
// Backend contract): INSTANTIATE_TYPED_TEST_SUITE_P(Name, CatalogStoreSuite, BackendType).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/model.h"
#include "sql/catalog_store.h"
#include "sql/connection.h"
#include "sql/token_store.h"

namespace reel::sql::testing {

using catalog::Video;
using catalog::VideoFile;
using catalog::VideoStatus;

template <class Backend>
class CatalogStoreSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Connection>> opened = open(backend_.options());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    Result<int> migrated = migrate(*db_);
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
    store_ = std::make_unique<CatalogStore>(*db_);
    channel_id_ = value(store_->ensure_channel("alice", "Alice"));
    value(store_->ensure_category("music", "Music", 2));
    value(store_->ensure_category("comedy", "Comedy", 1));
  }

  // The value of an ok Result; records a failure (and returns a default) otherwise.
  template <class T>
  T value(Result<T> result) {
    EXPECT_TRUE(result.ok()) << result.error().message;
    return result.ok() ? std::move(*result) : T{};
  }

  Video video(const std::string& title) const {
    Video video;
    video.channel_id = channel_id_;
    video.title = title;
    video.slug = "a-slug";
    video.status = VideoStatus::ready;
    video.created_at = 1'700'000'000;
    video.published_at = 1'700'000'100;
    return video;
  }

  int64_t count_videos() { return value(store_->count_videos()); }

  Backend backend_;
  std::unique_ptr<Connection> db_;
  std::unique_ptr<CatalogStore> store_;
  int64_t channel_id_ = 0;
};

TYPED_TEST_SUITE_P(CatalogStoreSuite);

TYPED_TEST_P(CatalogStoreSuite, EnsureReturnsTheSameIdEveryTime) {
  CatalogStore& store = *this->store_;
  EXPECT_EQ(this->value(store.ensure_channel("alice", "Renamed")), this->channel_id_);
  const int64_t bob = this->value(store.ensure_channel("bob", "Bob"));
  EXPECT_NE(bob, this->channel_id_);
  const int64_t music = this->value(store.ensure_category("music", "Other name", 9));
  const int64_t hd = this->value(store.ensure_tag("hd"));
  EXPECT_EQ(this->value(store.ensure_tag("hd")), hd);
  EXPECT_NE(this->value(store.ensure_tag("HD")), hd) << "tags compare byte-wise";

  // A store without cached ids finds the same rows in the database.
  CatalogStore fresh(*this->db_);
  EXPECT_EQ(this->value(fresh.ensure_channel("bob", "Bob")), bob);
  EXPECT_EQ(this->value(fresh.ensure_category("music", "Music", 2)), music);
  EXPECT_EQ(this->value(fresh.ensure_tag("hd")), hd);

  std::vector<catalog::Channel> channels = this->value(store.channels());
  ASSERT_EQ(channels.size(), 2u);
  EXPECT_EQ(channels[0].id, this->channel_id_);
  EXPECT_EQ(channels[0].name, "alice");
  EXPECT_EQ(channels[0].display_name, "Alice") << "an existing channel keeps its display name";
  EXPECT_GT(channels[0].created_at, 1'600'000'000);
  EXPECT_EQ(channels[1].name, "bob");

  std::vector<catalog::Category> categories = this->value(store.categories());
  ASSERT_EQ(categories.size(), 2u);
  EXPECT_EQ(categories[0].slug, "comedy");
  EXPECT_EQ(categories[0].name, "Comedy");
  EXPECT_EQ(categories[0].position, 1);
  EXPECT_EQ(categories[1].slug, "music");
  EXPECT_EQ(categories[1].id, music);
  EXPECT_EQ(categories[1].name, "Music");
}

TYPED_TEST_P(CatalogStoreSuite, InsertedVideoReadsBackWhole) {
  Video video = this->video("Ünïcödé title 🎬");
  video.slug = "unicode-title";
  video.description = "line one\nline two";
  video.duration_s = 754;
  video.width = 1920;
  video.height = 1080;
  video.views = 42;
  video.likes = 7;
  video.dislikes = 1;
  video.tags = {"zebra", "hd", "amateur", "hd"};
  video.categories = {"music", "comedy"};
  video.files = {VideoFile{"mp4", 720, "v/1/720.mp4", 123'456'789, "video/mp4"},
                 VideoFile{"poster", 0, "v/1/poster.jpg", 20'000, "image/jpeg"}};
  const int64_t id = this->value(this->store_->insert_video(video));
  ASSERT_GT(id, 0);
  EXPECT_EQ(this->count_videos(), 1);

  std::optional<Video> found = this->value(this->store_->find_video(id));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, id);
  EXPECT_EQ(found->channel_id, this->channel_id_);
  EXPECT_EQ(found->channel_name, "alice");
  EXPECT_EQ(found->title, video.title);
  EXPECT_EQ(found->slug, video.slug);
  EXPECT_EQ(found->description, video.description);
  EXPECT_EQ(found->duration_s, 754);
  EXPECT_EQ(found->width, 1920);
  EXPECT_EQ(found->height, 1080);
  EXPECT_EQ(found->status, VideoStatus::ready);
  EXPECT_EQ(found->error, "");
  EXPECT_EQ(found->published_at, video.published_at);
  EXPECT_EQ(found->created_at, video.created_at);
  EXPECT_EQ(found->views, 42);
  EXPECT_EQ(found->likes, 7);
  EXPECT_EQ(found->dislikes, 1);
  EXPECT_EQ(found->tags, (std::vector<std::string>{"amateur", "hd", "zebra"}));
  EXPECT_EQ(found->categories, (std::vector<std::string>{"comedy", "music"}));
  ASSERT_EQ(found->files.size(), 2u);
  EXPECT_EQ(found->files[0].kind, "mp4");
  EXPECT_EQ(found->files[0].height, 720);
  EXPECT_EQ(found->files[0].path, "v/1/720.mp4");
  EXPECT_EQ(found->files[0].bytes, 123'456'789);
  EXPECT_EQ(found->files[0].mime, "video/mp4");
  EXPECT_EQ(found->files[1].kind, "poster");

  Video failed = this->video("broken upload");
  failed.status = VideoStatus::failed;
  failed.error = "ffprobe: invalid data";
  failed.published_at = 0;
  const int64_t failed_id = this->value(this->store_->insert_video(failed));
  std::optional<Video> found_failed = this->value(this->store_->find_video(failed_id));
  ASSERT_TRUE(found_failed.has_value());
  EXPECT_EQ(found_failed->status, VideoStatus::failed);
  EXPECT_EQ(found_failed->error, failed.error);
  EXPECT_EQ(found_failed->published_at, 0);
  EXPECT_TRUE(found_failed->tags.empty());
  EXPECT_TRUE(found_failed->files.empty());

  EXPECT_FALSE(this->value(this->store_->find_video(failed_id + 1000)).has_value());
}

TYPED_TEST_P(CatalogStoreSuite, UnknownCategoryIsAnErrorAndWritesNothing) {
  Video video = this->video("lost");
  video.categories = {"music", "no-such-category"};
  Result<int64_t> inserted = this->store_->insert_video(video);
  ASSERT_FALSE(inserted.ok());
  EXPECT_NE(inserted.error().message.find("unknown category 'no-such-category'"), std::string::npos)
      << inserted.error().message;
  EXPECT_EQ(this->count_videos(), 0);
}

TYPED_TEST_P(CatalogStoreSuite, ForEachVideoCrossesBatchesWithEveryDetail) {
  constexpr int total = 12'000;
  auto status_of = [](int i) {
    return i % 10 == 0 ? VideoStatus::failed : i % 4 == 0 ? VideoStatus::processing : VideoStatus::ready;
  };
  auto tags_of = [](int i) {
    std::set<std::string> tags = {"tag" + std::to_string(i % 7), "tag" + std::to_string(i % 11)};
    return std::vector<std::string>(tags.begin(), tags.end());  // by name, as the store reads them
  };
  auto categories_of = [](int i) {
    std::vector<std::string> categories;
    if (i % 5 == 0) categories.push_back("comedy");
    if (i % 3 != 0) categories.push_back("music");
    return categories;
  };
  auto files_of = [](int i) {
    std::vector<VideoFile> files = {
        VideoFile{"mp4", 480, "v/" + std::to_string(i) + "/480.mp4", i, "video/mp4"}};
    if (i % 2 == 0)
      files.push_back(VideoFile{"poster", 0, "v/" + std::to_string(i) + "/p.jpg", 1, "image/jpeg"});
    return files;
  };

  std::unordered_map<int64_t, int> index_of_id;
  ASSERT_TRUE(this->db_->begin().ok());
  for (int i = 0; i < total; ++i) {
    Video video = this->video("video " + std::to_string(i));
    video.status = status_of(i);
    video.tags = tags_of(i);
    std::reverse(video.tags.begin(), video.tags.end());
    video.categories = categories_of(i);
    video.files = files_of(i);
    Result<int64_t> id = this->store_->insert_video(video);
    ASSERT_TRUE(id.ok()) << id.error().message;
    index_of_id[*id] = i;
  }
  ASSERT_TRUE(this->db_->commit().ok());
  EXPECT_EQ(this->count_videos(), total);

  std::map<VideoStatus, int> expected_counts;
  for (int i = 0; i < total; ++i) ++expected_counts[status_of(i)];
  for (VideoStatus status : {VideoStatus::ready, VideoStatus::processing, VideoStatus::failed}) {
    int seen = 0;
    int64_t previous_id = 0;
    Status scanned = this->store_->for_each_video(status, [&](const Video& video) {
      ++seen;
      EXPECT_GT(video.id, previous_id);
      previous_id = video.id;
      ASSERT_EQ(index_of_id.count(video.id), 1u);
      const int i = index_of_id[video.id];
      EXPECT_EQ(video.status, status);
      EXPECT_EQ(video.title, "video " + std::to_string(i));
      EXPECT_EQ(video.channel_name, "alice");
      EXPECT_EQ(video.tags, tags_of(i)) << i;
      EXPECT_EQ(video.categories, categories_of(i)) << i;
      const std::vector<VideoFile> files = files_of(i);
      ASSERT_EQ(video.files.size(), files.size()) << i;
      for (size_t f = 0; f < files.size(); ++f) {
        EXPECT_EQ(video.files[f].kind, files[f].kind);
        EXPECT_EQ(video.files[f].path, files[f].path);
        EXPECT_EQ(video.files[f].bytes, files[f].bytes);
      }
    });
    ASSERT_TRUE(scanned.ok()) << scanned.error().message;
    EXPECT_EQ(seen, expected_counts[status]) << catalog::to_string(status);
  }
  EXPECT_GT(expected_counts[VideoStatus::ready], 5000) << "the scan must cross a batch boundary";
}

TYPED_TEST_P(CatalogStoreSuite, DailyViewsAccumulate) {
  const int64_t first = this->value(this->store_->insert_video(this->video("first")));
  const int64_t second = this->value(this->store_->insert_video(this->video("second")));
  const int64_t unknown = second + 1000;
  ASSERT_TRUE(this->db_->begin().ok());
  Status added = this->store_->add_daily_views(
      {{first, 20240101, 5}, {first, 20240102, 7}, {second, 20240102, 1}, {unknown, 20240102, 4}});
  ASSERT_TRUE(added.ok()) << added.error().message;
  ASSERT_TRUE(this->db_->commit().ok());
  Status more = this->store_->add_daily_views({{first, 20240102, 3}});
  ASSERT_TRUE(more.ok()) << more.error().message;

  auto sums_since = [&](int32_t day) {
    std::map<int64_t, int64_t> sums;
    Status read = this->store_->for_each_view_sum(day, [&](int64_t id, int64_t views) { sums[id] = views; });
    EXPECT_TRUE(read.ok()) << read.error().message;
    return sums;
  };
  EXPECT_EQ(sums_since(20240101), (std::map<int64_t, int64_t>{{first, 15}, {second, 1}}));
  EXPECT_EQ(sums_since(20240102), (std::map<int64_t, int64_t>{{first, 10}, {second, 1}}));
  EXPECT_TRUE(sums_since(20240103).empty());

  std::vector<std::tuple<int64_t, int32_t, int64_t>> rows;
  Status read = this->store_->for_each_daily_views(
      20240101, [&](const catalog::DailyViews& row) { rows.emplace_back(row.video_id, row.day, row.views); });
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(rows, (std::vector<std::tuple<int64_t, int32_t, int64_t>>{
                      {first, 20240101, 5}, {first, 20240102, 10}, {second, 20240102, 1}}));

  EXPECT_EQ(this->value(this->store_->find_video(first))->views, 15);
  EXPECT_EQ(this->value(this->store_->find_video(second))->views, 1);
}

TYPED_TEST_P(CatalogStoreSuite, RollbackDiscardsTheVideoAndForgetsItsNewTags) {
  Video video = this->video("rolled back");
  video.tags = {"brand-new"};
  ASSERT_TRUE(this->db_->begin().ok());
  ASSERT_GT(this->value(this->store_->insert_video(video)), 0);
  ASSERT_TRUE(this->store_->rollback().ok());
  EXPECT_EQ(this->count_videos(), 0);

  // The tag's id died with the transaction (another tag may now hold it); the store must not
  // reuse it.
  CatalogStore other(*this->db_);
  this->value(other.ensure_tag("takes-a-free-id"));
  const int64_t id = this->value(this->store_->insert_video(video));
  std::optional<Video> found = this->value(this->store_->find_video(id));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->tags, (std::vector<std::string>{"brand-new"}));
}

TYPED_TEST_P(CatalogStoreSuite, HostileTextIsStoredVerbatim) {
  Video video = this->video("Robert'); DROP TABLE videos; --");
  video.slug = "robert-drop-table";
  video.description = "\\'\"`; DELETE FROM users; /* */ -- \\x00";
  video.tags = {"x' OR '1'='1"};
  const int64_t id = this->value(this->store_->insert_video(video));
  std::optional<Video> found = this->value(this->store_->find_video(id));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->title, video.title);
  EXPECT_EQ(found->description, video.description);
  EXPECT_EQ(found->tags, video.tags);
  EXPECT_EQ(this->count_videos(), 1);
  EXPECT_EQ(this->value(this->store_->channels()).size(), 1u);
}

// An upload's life: processing, then ready with its files (a retry replaces them) or failed with
// a reason; then deleted with everything that hangs off it.
TYPED_TEST_P(CatalogStoreSuite, ProcessingVideosGoReadyOrFailedAndAreDeletedWhole) {
  CatalogStore& store = *this->store_;
  Video upload = this->video("An upload");
  upload.status = VideoStatus::processing;
  upload.published_at = 0;
  upload.tags = {"new"};
  upload.categories = {"music"};
  const int64_t id = this->value(store.insert_video(upload));
  std::vector<VideoFile> first = {{"mp4", 240, "videos/1/mp4/240.mp4", 1000, "video/mp4"}};
  std::vector<VideoFile> second = {
      {"mp4", 360, "videos/1/mp4/360.mp4", 2000, "video/mp4"},
      {"hls", 360, "videos/1/hls/master.m3u8", 300, "application/vnd.apple.mpegurl"}};
  ASSERT_TRUE(this->value(store.mark_ready(id, 42, 640, 360, first, 1'700'000'500)));
  ASSERT_TRUE(this->value(store.mark_ready(id, 42, 640, 360, second, 1'700'000'500)))
      << "the same values again";
  auto ready = this->value(store.find_video(id));
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, VideoStatus::ready);
  EXPECT_EQ(ready->duration_s, 42);
  EXPECT_EQ(ready->height, 360);
  EXPECT_EQ(ready->published_at, 1'700'000'500);
  ASSERT_EQ(ready->files.size(), 2u);
  EXPECT_EQ(ready->files[1].kind, "hls");

  const std::string long_reason = std::string(999, 'x') + "é and more";
  ASSERT_TRUE(store.mark_failed(id, long_reason).ok());
  ASSERT_TRUE(store.mark_failed(id, long_reason).ok()) << "the same reason again";
  auto failed = this->value(store.find_video(id));
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, VideoStatus::failed);
  EXPECT_EQ(failed->error, std::string(999, 'x')) << "cut before a split character";
  EXPECT_FALSE(store.mark_failed(id + 1000, "nope").ok());
  EXPECT_FALSE(this->value(store.mark_ready(id + 1000, 1, 1, 1, {}, 1))) << "no such video";
  EXPECT_FALSE(this->value(store.mark_failed_if_processing(id, "lost"))) << "only a processing video";
  EXPECT_FALSE(this->value(store.mark_failed_if_processing(id + 1000, "lost")));
  EXPECT_EQ(this->value(store.find_video(id))->error, std::string(999, 'x')) << "the reason is kept";
  const int64_t lost = this->value(store.insert_video(upload));
  EXPECT_TRUE(this->value(store.mark_failed_if_processing(lost, "the upload was lost")));
  auto lost_video = this->value(store.find_video(lost));
  ASSERT_TRUE(lost_video);
  EXPECT_EQ(lost_video->status, VideoStatus::failed);
  EXPECT_EQ(lost_video->error, "the upload was lost");
  EXPECT_TRUE(this->value(store.delete_video(lost)));
  EXPECT_FALSE(this->value(store.mark_ready(id, 1, 1, 1, first, 1)))
      << "a failed (or deleting) video stays failed";
  auto still_failed = this->value(store.find_video(id));
  ASSERT_TRUE(still_failed);
  EXPECT_EQ(still_failed->status, VideoStatus::failed);
  EXPECT_EQ(still_failed->files.size(), 2u) << "its files untouched";

  ASSERT_TRUE(store.add_daily_views({{id, 20261128, 5}}).ok());
  EXPECT_TRUE(this->value(store.delete_video(id)));
  EXPECT_FALSE(this->value(store.find_video(id)));
  EXPECT_FALSE(this->value(store.delete_video(id)));
  auto leftovers = this->value(
      this->db_->query_all("SELECT (SELECT COUNT(*) FROM video_files) + (SELECT COUNT(*) FROM video_tags) + "
                           "(SELECT COUNT(*) FROM video_categories) + (SELECT COUNT(*) FROM daily_views)"));
  EXPECT_EQ(leftovers.front().integer(0), 0);
}

// API tokens: a created token is found with its role; only its hash is stored; anything else
// (unknown, malformed, a hash presented as a token) grants nothing.
TYPED_TEST_P(CatalogStoreSuite, TokensGrantTheirRoleAndAreStoredHashed) {
  TokenStore tokens(*this->db_);
  std::string admin = this->value(tokens.create(TokenRole::admin, "reel admin token", 0, 1'795'824'000));
  std::string user = this->value(tokens.create(TokenRole::user, "", this->channel_id_, 1'795'824'000));
  EXPECT_TRUE(admin.starts_with("reel_"));
  EXPECT_NE(admin, user);
  auto granted = this->value(tokens.find(admin));
  ASSERT_TRUE(granted);
  EXPECT_EQ(granted->role, TokenRole::admin);
  auto user_grant = this->value(tokens.find(user));
  ASSERT_TRUE(user_grant);
  EXPECT_EQ(user_grant->role, TokenRole::user);
  EXPECT_EQ(user_grant->user_id, this->channel_id_);

  auto stored = this->value(this->db_->query_all("SELECT token_hash FROM api_tokens ORDER BY id"));
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].text(0), hash_token(admin));
  EXPECT_EQ(stored[0].text(0).find(admin.substr(5)), std::string::npos);
  for (std::string bad :
       {std::string(), std::string("reel_"), admin + "0", admin.substr(0, admin.size() - 1) + "g",
        stored[0].text(0), std::string("' OR 1=1 --")}) {
    EXPECT_FALSE(this->value(tokens.find(bad))) << bad;
  }
}

// Tokens are listed with their last four characters, never the token; a revoked one grants
// nothing, and the others keep working.
TYPED_TEST_P(CatalogStoreSuite, TokensAreListedWithoutTheSecretAndCanBeRevoked) {
  TokenStore tokens(*this->db_);
  std::string first = this->value(tokens.create(TokenRole::admin, "deploy", 0, 1'795'824'000));
  std::string second = this->value(tokens.create(TokenRole::user, "", this->channel_id_, 1'795'824'001));
  auto listed = this->value(tokens.list());
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].role, TokenRole::admin);
  EXPECT_EQ(listed[0].label, "deploy");
  EXPECT_EQ(listed[0].created_at, 1'795'824'000);
  EXPECT_EQ(listed[0].hint, first.substr(first.size() - 4));
  EXPECT_EQ(listed[1].role, TokenRole::user);
  EXPECT_EQ(listed[1].user_id, this->channel_id_);
  EXPECT_EQ(listed[1].hint, second.substr(second.size() - 4));
  EXPECT_LT(listed[0].id, listed[1].id);

  EXPECT_TRUE(this->value(tokens.revoke(listed[0].id)));
  EXPECT_FALSE(this->value(tokens.find(first))) << "a revoked token grants nothing";
  EXPECT_TRUE(this->value(tokens.find(second)));
  EXPECT_FALSE(this->value(tokens.revoke(listed[0].id))) << "already gone";
  EXPECT_EQ(this->value(tokens.list()).size(), 1u);
}

REGISTER_TYPED_TEST_SUITE_P(CatalogStoreSuite, EnsureReturnsTheSameIdEveryTime, InsertedVideoReadsBackWhole,
                            UnknownCategoryIsAnErrorAndWritesNothing,
                            ForEachVideoCrossesBatchesWithEveryDetail, DailyViewsAccumulate,
                            RollbackDiscardsTheVideoAndForgetsItsNewTags, HostileTextIsStoredVerbatim,
                            TokensGrantTheirRoleAndAreStoredHashed,
                            TokensAreListedWithoutTheSecretAndCanBeRevoked,
                            ProcessingVideosGoReadyOrFailedAndAreDeletedWhole);

}  // namespace reel::sql::testing
