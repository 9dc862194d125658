// The community projections rebuilt from SQL equal what the deltas produced, key for key; and the
// removal of one user's votes and comments (account deletion) keeps every count right.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "people/comments.h"
#include "people/community.h"
#include "people/community_fixture.h"
#include "people/votes.h"
#include "projection/community_keys.h"
#include "projection/keys.h"
#include "sql/catalog_store.h"
#include "sql/community_store.h"
#include "support/fixtures.h"

namespace reel::people {
namespace {

namespace keys = projection::keys;

class CommunityRebuildTest : public testing::CommunityTest {
 protected:
  void SetUp() override {
    CommunityTest::SetUp();
    if (HasFatalFailure()) return;
    for (int i = 0; i < 8; ++i)
      users_.push_back(add_user("user" + std::to_string(i), "User " + std::to_string(i)));
    rebuild_all();  // users are channels too (ch:{name}): project them before the activity
  }

  void cast(int64_t user, int64_t video, int value) {
    auto voted = run_write([&](writes::Transaction& tx) { return vote(tx, user, video, value, now_); });
    ASSERT_TRUE(voted) << voted.error().message;
  }

  int64_t post(int64_t user, int64_t video, const std::string& body, int64_t parent = 0) {
    auto comment =
        run_write([&](writes::Transaction& tx) { return add_comment(tx, user, video, body, parent, now_); });
    EXPECT_TRUE(comment) << comment.error().message;
    return comment ? comment->id : 0;
  }

  void remove(int64_t user, int64_t comment) {
    Status removed = run_write([&](writes::Transaction& tx) { return delete_comment(tx, user, comment); });
    ASSERT_TRUE(removed) << removed.error().message;
  }

  // Votes, changes, comments, replies, edits and deletes over the catalog.
  void activity() {
    for (size_t i = 0; i < users_.size(); ++i) {
      cast(users_[i], video_, i % 3 == 0 ? -1 : 1);
      cast(users_[i], other_, 1);
      if (i % 2 == 0) cast(users_[i], other_, -1);
      if (i % 4 == 0) cast(users_[i], third_, 1);
    }
    cast(users_[5], video_, 0);
    const int64_t a = post(users_[0], video_, "first");
    const int64_t b = post(users_[1], video_, "second");
    const int64_t c = post(users_[2], other_, "third, on another video");
    post(users_[3], video_, "reply to first", a);
    const int64_t r = post(users_[4], video_, "another reply to first", a);
    post(users_[5], video_, "reply to a reply", r);
    post(users_[6], video_, "reply to second", b);
    post(users_[7], other_, "reply", c);
    const int64_t gone = post(users_[1], third_, "to be deleted");
    post(users_[2], third_, "its reply", gone);
    remove(users_[1], gone);
    auto edited =
        run_write([&](writes::Transaction& tx) { return edit_comment(tx, users_[4], r, "edited", now_); });
    ASSERT_TRUE(edited) << edited.error().message;
  }

  void expect_rebuild_reproduces_redis() {
    const auto by_deltas = testing::dump_redis(*redis_);
    ASSERT_TRUE(redis_->execute(redis::Command("FLUSHALL")));
    rebuild_all();
    const auto rebuilt = testing::dump_redis(*redis_);
    for (const auto& [key, value] : by_deltas) {
      auto it = rebuilt.find(key);
      if (it == rebuilt.end()) {
        ADD_FAILURE() << "missing after the rebuild: " << key;
      } else {
        EXPECT_EQ(it->second, value) << key;
      }
    }
    for (const auto& [key, value] : rebuilt) {
      EXPECT_TRUE(by_deltas.contains(key)) << "only after the rebuild: " << key << " = " << value;
    }
  }

  std::vector<int64_t> users_;
};

TEST_P(CommunityRebuildTest, RebuildReproducesWhatTheDeltasProduced) {
  activity();
  ASSERT_FALSE(HasFatalFailure());
  // The activity reached every family of keys the rebuild will be compared on.
  for (const std::string& key :
       {keys::comments(video_), keys::comment_list(video_, projection::CommentSort::top),
        keys::comment_replies(video_), keys::user_votes(users_[0])}) {
    EXPECT_EQ(call(redis::Command("EXISTS", key)).integer(), 1) << key;
  }
  expect_rebuild_reproduces_redis();
}

TEST_P(CommunityRebuildTest, ARebuildRemovesWhatSqlNoLongerHas) {
  activity();
  ASSERT_FALSE(HasFatalFailure());
  const auto by_deltas = testing::dump_redis(*redis_);
  ASSERT_TRUE(redis_->execute(std::vector<redis::Command>{
      redis::Command("HSET", keys::comments(video_), 999999, "stale"),
      redis::Command("HSET", keys::comments(processing_), 1, "stale"),
      redis::Command("ZADD", keys::comment_list(processing_, projection::CommentSort::newest), 1, 1),
      redis::Command("HSET", keys::user_votes(users_[0]), processing_, 1),
      redis::Command("HSET", keys::user_votes(999999), video_, 1)}));
  projection::RebuildOptions options;
  options.now = now_;
  options.projections = {"votes", "comments"};
  auto rebuilt = projection::rebuild(*store_, *redis_, options);
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  EXPECT_EQ(testing::dump_redis(*redis_), by_deltas);
}

TEST_P(CommunityRebuildTest, RemovingAUsersVotesAndCommentsKeepsCountsRight) {
  activity();
  ASSERT_FALSE(HasFatalFailure());
  const int64_t leaving = users_[0];  // voted on three videos; wrote "first", which has replies
  sql::CommunityStore store(*db_);
  auto touched = store.videos_touched_by(leaving);
  ASSERT_TRUE(touched);
  EXPECT_EQ(touched->size(), 3u);
  Status removed = run_write([&](writes::Transaction& tx) { return remove_votes_and_comments(tx, leaving); });
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(store.videos_touched_by(leaving).value().empty());
  EXPECT_EQ(call(redis::Command("EXISTS", keys::user_votes(leaving))).integer(), 0);
  // "first" went with its three replies (one of them a reply to a reply): "second" and its reply stay.
  EXPECT_EQ(store.comment_count(video_).value(), 2);
  EXPECT_EQ(call(redis::Command("HGET", keys::video(video_), "comments")).integer(), 2);
  EXPECT_EQ(call(redis::Command("HLEN", keys::comments(video_))).integer(), 2);
  EXPECT_EQ(call(redis::Command("ZCARD", keys::comment_replies(video_))).integer(), 1);
  // Counts and lists agree with SQL: a rebuild from it changes nothing.
  expect_rebuild_reproduces_redis();
}

// The race made certain: a vote and a comment commit after the rebuild's snapshot and land on the
// live keys before its swap (from the progress callback, which the swap stage calls first). The
// swap replaces those keys with the snapshot's; the rebuild then applies the object's later rows
// again, so nothing is lost.
TEST_P(CommunityRebuildTest, AWriteBetweenTheSnapshotAndTheSwapIsKept) {
  cast(users_[0], video_, 1);
  auto db = sql::open({sql_url_});
  auto redis = redis::BlockingClient::connect(connection_options());
  ASSERT_TRUE(db && redis);
  projection::RebuildOptions options;
  options.now = now_;
  int64_t between = 0;
  options.progress = [&](std::string_view stage, uint64_t, uint64_t) {
    if (stage != "swap" || between != 0) return;
    bool voted_landed = false, posted_landed = false;
    auto voted = run_write(
        **db, *redis, [&](writes::Transaction& tx) { return vote(tx, users_[1], video_, -1, now_); },
        &voted_landed);
    auto posted = run_write(
        **db, *redis,
        [&](writes::Transaction& tx) { return add_comment(tx, users_[2], video_, "between", 0, now_); },
        &posted_landed);
    ASSERT_TRUE(voted && posted);
    EXPECT_TRUE(voted_landed && posted_landed);
    between = posted->id;
  };
  auto rebuilt = projection::rebuild(*store_, *redis_, options);
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  ASSERT_NE(between, 0);
  EXPECT_GE(rebuilt->objects_rebased, 1u);
  EXPECT_EQ(call(redis::Command("HGET", keys::user_votes(users_[1]), std::to_string(video_))).str(), "-1");
  EXPECT_EQ(call(redis::Command("HGET", keys::video(video_), "dislikes")).str(), "1");
  EXPECT_EQ(call(redis::Command("HEXISTS", keys::comments(video_), std::to_string(between))).integer(), 1);
  expect_rebuild_reproduces_redis();
}

// `reel rebuild` with [sql] read_url: the snapshot comes from a replica that lags (here a copy of
// the SQLite file taken before the last writes), the watermarks from the primary. The writes the
// replica lacks had landed on Redis; the swap replaces their keys with the replica's older state,
// and the rebase from the primary applies them again, so nothing is lost.
class ReplicaRebuildTest : public CommunityRebuildTest {};

TEST_P(ReplicaRebuildTest, WritesTheReplicaLacksAreTakenFromThePrimary) {
  cast(users_[0], video_, 1);
  testing::TempDir replica_dir;
  const std::string replica_path = (replica_dir.path() / "replica.db").string();
  ASSERT_TRUE(db_->execute("VACUUM INTO '" + replica_path + "'").ok());
  cast(users_[1], video_, -1);
  const int64_t later = post(users_[2], video_, "after the replica's copy");
  auto replica = sql::open({"sqlite:" + replica_path});
  ASSERT_TRUE(replica) << replica.error().message;
  sql::CatalogStore from_replica(**replica);
  projection::RebuildOptions options;
  options.now = now_;
  options.primary = db_.get();
  auto rebuilt = projection::rebuild(from_replica, *redis_, options);
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  EXPECT_GE(rebuilt->objects_rebased, 1u);
  EXPECT_EQ(call(redis::Command("HGET", keys::video(video_), "dislikes")).str(), "1");
  EXPECT_EQ(call(redis::Command("HGET", keys::user_votes(users_[1]), std::to_string(video_))).str(), "-1");
  EXPECT_EQ(call(redis::Command("HEXISTS", keys::comments(video_), std::to_string(later))).integer(), 1);
  expect_rebuild_reproduces_redis();
}

INSTANTIATE_TEST_SUITE_P(SqliteCopy, ReplicaRebuildTest, ::testing::Values(sql::testing::Backend::sqlite),
                         sql::testing::backend_test_name);

// A writer votes and comments without pause while `reel rebuild` runs again and again: a write
// committed after a rebuild's snapshot and landed before its swap is put back by the rebuild
// (watermarks reset to the snapshot, later rows applied again), so once the relay has run, Redis
// is what a fresh rebuild from SQL makes of it, and the counts are SQL's.
TEST_P(CommunityRebuildTest, WritesDuringRebuildsEndAsAFreshRebuild) {
  // At least this many writes, and on until the test's thread has rebuilt this many times.
  constexpr int least_writes = 200, least_rebuilds = 20, most_writes = 5000;
  std::atomic<int> rebuilds{0};
  std::atomic<bool> writing{true};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    auto db = sql::open({sql_url_});
    auto redis = redis::BlockingClient::connect(connection_options());
    if (!db || !redis) {
      ++failures;
      writing = false;
      return;
    }
    const int64_t videos[] = {video_, other_, third_};
    for (int i = 0; i < most_writes && (i < least_writes || rebuilds.load() < least_rebuilds); ++i) {
      const int64_t user = users_[static_cast<size_t>(i) % users_.size()];
      const int64_t video = videos[i % 3];
      Status done;
      if (i % 4 == 3) {
        auto comment = run_write(**db, *redis, [&](writes::Transaction& tx) {
          return add_comment(tx, user, video, "comment " + std::to_string(i), 0, now_);
        });
        if (!comment) done = comment.error();
      } else {
        auto voted = run_write(**db, *redis, [&](writes::Transaction& tx) {
          return vote(tx, user, video, i % 5 == 0 ? -1 : (i % 7 == 0 ? 0 : 1), now_);
        });
        if (!voted) done = voted.error();
      }
      if (!done) {
        ADD_FAILURE() << done.error().message;
        ++failures;
      }
    }
    writing = false;
  });
  uint64_t rebased = 0;  // objects written after a rebuild's snapshot, before its watermark check
  projection::RebuildOptions options;
  options.now = now_;
  while (writing.load()) {
    auto rebuilt = projection::rebuild(*store_, *redis_, options);
    ASSERT_TRUE(rebuilt) << rebuilt.error().message;
    rebased += rebuilt->objects_rebased;
    ++rebuilds;
  }
  writer.join();
  EXPECT_GE(rebuilds.load(), least_rebuilds);
  EXPECT_GT(rebased, 0u);  // writes did commit while rebuilds were between snapshot and swap
  ASSERT_EQ(failures.load(), 0);
  converge();
  for (int64_t video : {video_, other_, third_}) {
    auto tally = sql::CommunityStore(*db_).video_tally(video);
    ASSERT_TRUE(tally && *tally);
    EXPECT_EQ(call(redis::Command("HGET", keys::video(video), "likes")).str(),
              std::to_string((*tally)->likes));
    EXPECT_EQ(call(redis::Command("HGET", keys::video(video), "dislikes")).str(),
              std::to_string((*tally)->dislikes));
  }
  expect_rebuild_reproduces_redis();
}

INSTANTIATE_TEST_SUITE_P(Backends, CommunityRebuildTest, sql::testing::all_backends(),
                         sql::testing::backend_test_name);

}  // namespace
}  // namespace reel::people
