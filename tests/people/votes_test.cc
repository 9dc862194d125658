// Votes through their deltas, against a real redis-server and SQLite: one vote per user and video,
// changed and removed; counts, the card's rating and the Wilson-ordered rating lists right after
// many users vote at once from several threads; refusals; the user's own vote as read back.
#include "people/votes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "people/community_fixture.h"
#include "projection/codec.h"
#include "projection/community_keys.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "sql/community_store.h"

namespace reel::people {
namespace {

namespace keys = projection::keys;
namespace codec = projection::codec;
using projection::ListKind;
using projection::Sort;

class VotesTest : public testing::CommunityTest {
 protected:
  Result<VoteState> cast(int64_t user, int64_t video, int value) {
    return run_write([&](writes::Transaction& tx) { return vote(tx, user, video, value, now_); });
  }

  std::string rating_list() { return keys::list({ListKind::all, {}}, Sort::rating); }
  std::string music_rating_list() { return keys::list({ListKind::category, "music"}, Sort::rating); }

  std::string card_rating(int64_t video) {
    const std::string card(call(redis::Command("GET", keys::card(video))).str());
    return card.substr(codec::rating_offset, codec::rating_width);
  }

  double score(const std::string& list, int64_t video) {
    return call(redis::Command("ZSCORE", list, video)).number();
  }

  std::string field(const std::string& key, const std::string& name) {
    return std::string(call(redis::Command("HGET", key, name)).str());
  }

  sql::VideoTally tally(int64_t video) {
    auto read = sql::CommunityStore(*db_).video_tally(video);
    EXPECT_TRUE(read && *read);
    return read && *read ? **read : sql::VideoTally{};
  }

  // Every place a video's votes show agrees with SQL's counts.
  void expect_projected(int64_t video) {
    const sql::VideoTally counts = tally(video);
    SCOPED_TRACE("video " + std::to_string(video));
    EXPECT_EQ(field(keys::video(video), "likes"), std::to_string(counts.likes));
    EXPECT_EQ(field(keys::video(video), "dislikes"), std::to_string(counts.dislikes));
    EXPECT_EQ(card_rating(video), codec::rating_field(counts.likes, counts.dislikes));
    EXPECT_EQ(score(rating_list(), video), codec::rating_score(counts.likes, counts.dislikes));
    for (const std::string& slug : counts.categories) {
      EXPECT_EQ(score(keys::list({ListKind::category, slug}, Sort::rating), video),
                codec::rating_score(counts.likes, counts.dislikes));
    }
  }
};

TEST_P(VotesTest, LikeChangeAndRemove) {
  const int64_t bob = add_user("bob", "Bob");
  auto liked = cast(bob, video_, 1);
  ASSERT_TRUE(liked) << liked.error().message;
  EXPECT_EQ(liked->likes, 1);
  EXPECT_EQ(liked->dislikes, 0);
  EXPECT_EQ(liked->mine, 1);
  EXPECT_EQ(card_rating(video_), "100.0");
  EXPECT_EQ(field(keys::user_votes(bob), std::to_string(video_)), "1");
  expect_projected(video_);

  auto changed = cast(bob, video_, -1);
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(changed->likes, 0);
  EXPECT_EQ(changed->dislikes, 1);
  EXPECT_EQ(card_rating(video_), "000.0");
  EXPECT_EQ(field(keys::user_votes(bob), std::to_string(video_)), "-1");
  expect_projected(video_);

  auto removed = cast(bob, video_, 0);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->likes + removed->dislikes, 0);
  EXPECT_EQ(removed->mine, 0);
  EXPECT_EQ(card_rating(video_), "-----");
  EXPECT_EQ(score(rating_list(), video_), -1);
  EXPECT_EQ(call(redis::Command("HEXISTS", keys::user_votes(bob), video_)).integer(), 0);
  expect_projected(video_);

  // The card's view count is the aggregator's: a vote never rewrites it.
  ASSERT_TRUE(redis_->execute(redis::Command("SETRANGE", keys::card(video_), 0, codec::views_field(4321))));
  ASSERT_TRUE(cast(bob, video_, 1));
  auto card = codec::decode_card(call(redis::Command("GET", keys::card(video_))).str());
  ASSERT_TRUE(card);
  EXPECT_EQ(card->views, 4321);
  EXPECT_EQ(card->rating, 100.0);
}

TEST_P(VotesTest, OneUserVotingAgainAndAgainCountsOnce) {
  const int64_t bob = add_user("bob", "Bob");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(cast(bob, video_, 1));
  // The same from several threads at once, each on its own connections.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto db = sql::open({sql_url_});
      auto redis = redis::BlockingClient::connect(connection_options());
      if (!db || !redis) {
        ++failures;
        return;
      }
      for (int i = 0; i < 10; ++i) {
        auto voted =
            run_write(**db, *redis, [&](writes::Transaction& tx) { return vote(tx, bob, video_, 1, now_); });
        if (!voted) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  converge();  // deltas that reached Redis out of order land through the relay
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(tally(video_).likes, 1);
  EXPECT_EQ(field(keys::video(video_), "likes"), "1");
  expect_projected(video_);
}

// Eight writers at once, each vote of a video waiting for the one before (its row lock on
// MariaDB, the write lock on SQLite): no write fails (a conflict is run again by the write path),
// and SQL and Redis end with the exact counts.
TEST_P(VotesTest, ManyUsersVotingAtOnceFromSeveralThreads) {
  constexpr int threads_count = 8;
  constexpr int users_per_thread = 8;
  std::vector<int64_t> users;
  for (int i = 0; i < threads_count * users_per_thread; ++i) {
    users.push_back(add_user("voter" + std::to_string(i), "Voter " + std::to_string(i)));
  }
  // User i: likes video_ unless i % 5 == 0 (dislikes); likes other_ then changes to a dislike when
  // i % 3 == 0; likes third_ then takes it back when i % 4 == 0.
  auto votes_of = [&](int i) {
    return std::vector<std::pair<int64_t, int>>{{video_, i % 5 == 0 ? -1 : 1},
                                                {other_, 1},
                                                {third_, 1},
                                                {other_, i % 3 == 0 ? -1 : 1},
                                                {third_, i % 4 == 0 ? 0 : 1}};
  };
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads_count; ++t) {
    threads.emplace_back([&, t] {
      auto db = sql::open({sql_url_});
      auto redis = redis::BlockingClient::connect(connection_options());
      if (!db || !redis) {
        ++failures;
        return;
      }
      for (int k = 0; k < users_per_thread; ++k) {
        const int i = t * users_per_thread + k;
        for (auto [video, value] : votes_of(i)) {
          auto voted = run_write(**db, *redis, [&, video = video, value = value](writes::Transaction& tx) {
            return vote(tx, users[i], video, value, now_);
          });
          if (!voted) {
            ADD_FAILURE() << voted.error().message;
            ++failures;
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  converge();  // deltas that reached Redis out of order land through the relay
  ASSERT_EQ(failures.load(), 0);

  int64_t expected[3][2] = {};  // likes, dislikes of video_, other_, third_
  for (int i = 0; i < threads_count * users_per_thread; ++i) {
    ++expected[0][i % 5 == 0 ? 1 : 0];
    ++expected[1][i % 3 == 0 ? 1 : 0];
    if (i % 4 != 0) ++expected[2][0];
  }
  const int64_t videos[] = {video_, other_, third_};
  for (int v = 0; v < 3; ++v) {
    EXPECT_EQ(tally(videos[v]).likes, expected[v][0]);
    EXPECT_EQ(tally(videos[v]).dislikes, expected[v][1]);
    expect_projected(videos[v]);
  }
  for (int i = 0; i < threads_count * users_per_thread; ++i) {
    EXPECT_EQ(field(keys::user_votes(users[i]), std::to_string(third_)), i % 4 == 0 ? "" : "1");
    EXPECT_EQ(field(keys::user_votes(users[i]), std::to_string(other_)), i % 3 == 0 ? "-1" : "1");
  }
  // third_ (all likes, fewer votes) vs video_ (a fifth disliked): the Wilson bound decides, and
  // the list agrees with it.
  auto order = call(redis::Command("ZREVRANGE", rating_list(), 0, -1));
  const bool third_first =
      codec::rating_score(expected[2][0], 0) > codec::rating_score(expected[0][0], expected[0][1]);
  std::vector<std::string> ids;
  for (const auto& id : order.elements()) ids.emplace_back(id.str());
  auto position = [&](int64_t id) {
    return std::find(ids.begin(), ids.end(), std::to_string(id)) - ids.begin();
  };
  EXPECT_EQ(position(third_) < position(video_), third_first);
}

TEST_P(VotesTest, FewLikesDoNotOutrankManyLikesWithSomeDislikes) {
  std::vector<int64_t> users;
  for (int i = 0; i < 40; ++i) users.push_back(add_user("fan" + std::to_string(i), "Fan"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cast(users[i], video_, 1));                 // 3 likes: 100% liked
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(cast(users[i], other_, i < 36 ? 1 : -1));  // 36/4: 90%
  auto top = call(redis::Command("ZREVRANGE", rating_list(), 0, 1));
  ASSERT_EQ(top.elements().size(), 2u);
  EXPECT_EQ(top.elements()[0].str(), std::to_string(other_));
  EXPECT_EQ(top.elements()[1].str(), std::to_string(video_));
  auto music = call(redis::Command("ZREVRANGE", music_rating_list(), 0, 1));
  EXPECT_EQ(music.elements()[0].str(), std::to_string(other_));
  // The card still shows percent liked.
  EXPECT_EQ(card_rating(video_), "100.0");
  EXPECT_EQ(card_rating(other_), "090.0");
}

TEST_P(VotesTest, RefusedVotesChangeNothing) {
  const int64_t bob = add_user("bob", "Bob");
  const auto before = testing::dump_redis(*redis_);
  auto processing = cast(bob, processing_, 1);
  expect_refused(processing, ErrorKind::invalid_input);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_NE(processing.error().message.find("not published"), std::string::npos)
      << processing.error().message;
  auto missing = cast(bob, 999999, 1);
  expect_refused(missing, ErrorKind::not_found);
  auto bad = cast(bob, video_, 2);
  expect_refused(bad, ErrorKind::invalid_input);
  EXPECT_EQ(sql::CommunityStore(*db_).vote_of(processing_, bob).value(), 0);
  EXPECT_EQ(tally(processing_).likes, 0);
  EXPECT_EQ(testing::dump_redis(*redis_), before);
}

TEST_P(VotesTest, ADeltaLandingAfterTheVideoWasWithdrawnRecreatesNothing) {
  const int64_t bob = add_user("bob", "Bob");
  auto video = store_->find_video(video_);
  ASSERT_TRUE(video && *video);
  // A DELETE withdrew the video from Redis; SQL still has it ready (its delete job has not run).
  ASSERT_TRUE(redis_->execute(projection::withdraw_video_commands(**video, 20260101)));
  ASSERT_TRUE(cast(bob, video_, 1));
  EXPECT_EQ(call(redis::Command("EXISTS", keys::video(video_), keys::card(video_))).integer(), 0);
  EXPECT_EQ(call(redis::Command("ZSCORE", rating_list(), video_)).is_nil(), true);
  EXPECT_EQ(call(redis::Command("EXISTS", keys::user_votes(bob))).integer(), 0);
}

TEST_P(VotesTest, TheUsersOwnVoteAndTheCountsAreReadFromRedis) {
  const int64_t bob = add_user("bob", "Bob");
  const int64_t eve = add_user("eve", "Eve");
  ASSERT_TRUE(cast(bob, video_, -1));
  ASSERT_TRUE(cast(eve, video_, 1));
  ASSERT_TRUE(cast(eve, other_, 1));
  Readers readers(server().endpoint());
  EXPECT_EQ(readers.run(readers.community.vote_of(bob, video_)).value(), -1);
  EXPECT_EQ(readers.run(readers.community.vote_of(eve, video_)).value(), 1);
  EXPECT_EQ(readers.run(readers.community.vote_of(bob, other_)).value(), 0);
  auto page = readers.run(readers.videos.video(video_));
  ASSERT_TRUE(page && *page);
  EXPECT_EQ((*page)->likes, 1);
  EXPECT_EQ((*page)->dislikes, 1);
  EXPECT_DOUBLE_EQ((*page)->rating, 50.0);
}

INSTANTIATE_TEST_SUITE_P(Backends, VotesTest, sql::testing::all_backends(), sql::testing::backend_test_name);

}  // namespace
}  // namespace reel::people
