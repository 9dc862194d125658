// Subscriptions and the subscription feed against a real redis-server and SQLite: counts kept
// exact under concurrent writers, the feed's order and pages across many channels.
#include "people/subscriptions.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "people/collection_fixture.h"
#include "people/feed.h"
#include "projection/collection_keys.h"
#include "projection/redis_read_model.h"
#include "sql/collection_store.h"

namespace reel::people {
namespace {

class SubscriptionsTest : public testing::CollectionTest {
 protected:
  Result<int64_t> follow(int64_t user, std::string_view name, int64_t at = now) {
    return write([&](writes::Transaction& tx) { return subscribe(tx, user, name, at); });
  }
  Result<int64_t> unfollow(int64_t user, std::string_view name) {
    return write([&](writes::Transaction& tx) { return unsubscribe(tx, user, name); });
  }

  std::vector<int64_t> feed_ids(int64_t user, int per_page) {
    std::vector<int64_t> ids;
    for (int page = 1;; ++page) {
      CardPage got = read(read_feed(*connection_, user, page, per_page));
      if (got.cards.empty()) {
        EXPECT_GT(page, got.pages);
        return ids;
      }
      EXPECT_LE(page, got.pages);
      for (const auto& card : got.cards) ids.push_back(card.id);
    }
  }
};

TEST_P(SubscriptionsTest, SubscribingIsIdempotentAndCounted) {
  const int64_t ann = channel("ann"), bob = channel("bob"), cat = channel("cat");
  ASSERT_NO_FATAL_FAILURE(rebuild());
  for (int round = 0; round < 2; ++round) {
    auto count = follow(ann, "bob", now + round);
    ASSERT_TRUE(count) << count.error().message;
    EXPECT_EQ(*count, 1);
  }
  EXPECT_EQ(*follow(cat, "bob"), 2);
  ASSERT_TRUE(follow(ann, "cat", now + 5));
  EXPECT_EQ(read(read_subscribers(*connection_, "bob")), 2);
  SystemClock clock;
  projection::RedisReadModel pages(*connection_, clock);  // the channel page shows the count
  auto channel_page = read(pages.listing({projection::ListKind::channel, "bob"}));
  ASSERT_TRUE(channel_page);
  EXPECT_TRUE(channel_page->found);
  EXPECT_EQ(channel_page->subscribers, 2);
  EXPECT_TRUE(read(is_subscribed(*connection_, ann, "bob")));
  EXPECT_FALSE(read(is_subscribed(*connection_, bob, "ann")));

  SubscriptionList list = read(read_subscriptions(*connection_, ann, 1, 30));
  ASSERT_EQ(list.channels.size(), 2u);
  EXPECT_EQ(list.channels[0].name, "cat");  // the latest first
  EXPECT_EQ(list.channels[1].name, "bob");
  EXPECT_EQ(list.channels[1].display_name, "Display bob");
  EXPECT_EQ(list.channels[1].subscribers, 2);
  EXPECT_EQ(list.channels[1].subscribed_at, now);  // the first subscription's time stays

  EXPECT_EQ(*unfollow(ann, "bob"), 1);
  EXPECT_EQ(*unfollow(ann, "bob"), 1);
  EXPECT_EQ(read(read_subscribers(*connection_, "bob")), 1);
  EXPECT_FALSE(read(is_subscribed(*connection_, ann, "bob")));
  EXPECT_EQ(*sql::CollectionStore(*db_).subscribers(bob), 1);
}

TEST_P(SubscriptionsTest, OneselfAndUnknownChannelsAreRefused) {
  const int64_t ann = channel("ann");
  auto self = follow(ann, "ann");
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().kind, ErrorKind::invalid_input);
  for (std::string_view name : {"nobody", "", "a:b", "../x"}) {
    auto unknown = follow(ann, name);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().kind, ErrorKind::not_found) << name;
  }
  EXPECT_EQ(*sql::CollectionStore(*db_).count_subscriptions(ann), 0);
}

// Several threads, each with its own SQLite connection and Redis client, subscribe and unsubscribe
// users at random: every count in SQL and in Redis ends equal to the subscriptions that exist.
TEST_P(SubscriptionsTest, CountsStayExactUnderConcurrentWriters) {
  const std::vector<std::string> channels{"red", "green", "blue"};
  for (const auto& name : channels) channel(name);
  constexpr int threads = 4, users_per_thread = 5, writes_per_thread = 60;
  std::vector<std::vector<int64_t>> users(threads);
  for (int t = 0; t < threads; ++t) {
    for (int u = 0; u < users_per_thread; ++u) users[t].push_back(channel(fmt::format("user{}-{}", t, u)));
  }
  ASSERT_NO_FATAL_FAILURE(rebuild());

  std::vector<std::string> failures(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto db = sql::open({sql_url_});
      auto redis = redis::BlockingClient::connect(connection_options());
      if (!db || !redis) {
        failures[t] = "cannot connect";
        return;
      }
      std::mt19937 random(static_cast<unsigned>(t));
      for (int i = 0; i < writes_per_thread; ++i) {
        const int64_t user = users[t][random() % users_per_thread];
        const std::string& name = channels[random() % channels.size()];
        const bool on = random() % 2 == 0;
        auto done = testing::run_write_at(**db, *redis, now, [&](writes::Transaction& tx) {
          return on ? subscribe(tx, user, name, now + i) : unsubscribe(tx, user, name);
        });
        if (!done) failures[t] = done.error().message;
      }
    });
  }
  for (auto& worker : workers) worker.join();
  for (const auto& failure : failures) EXPECT_EQ(failure, "");
  converge();  // deltas that reached Redis out of order land through the relay

  sql::CollectionStore store(*db_);
  int64_t total = 0;
  for (const auto& name : channels) {
    auto found = store.live_channel(name);
    ASSERT_TRUE(found && *found);
    const auto subscriptions = *store.subscriptions_to((*found)->id);
    total += static_cast<int64_t>(subscriptions.size());
    EXPECT_EQ(*store.subscribers((*found)->id), static_cast<int64_t>(subscriptions.size())) << name;
    EXPECT_EQ(read(read_subscribers(*connection_, name)), static_cast<int64_t>(subscriptions.size())) << name;
    for (const auto& subscription : subscriptions) {
      EXPECT_TRUE(read(is_subscribed(*connection_, subscription.user_id, name)));
    }
  }
  int64_t listed = 0;
  for (const auto& group : users) {
    for (int64_t user : group)
      listed += static_cast<int64_t>(zrange(projection::keys::subscriptions(user)).size());
  }
  EXPECT_EQ(listed, total);
  EXPECT_GT(total, 0);
}

// 400 channels (more followed than a feed holds videos), three of them with 200 videos each, every
// fifth with only old videos (followed between newer ones), the rest with a few, publication times
// interleaved and some equal: the feed is the newest feed_depth of the followed channels' videos, in the
// lists' order, page after page.
TEST_P(SubscriptionsTest, TheFeedMergesTheFollowedChannelsNewestFirst) {
  const int64_t reader = channel("reader");
  struct Published {
    int64_t published;
    int64_t id;
  };
  std::vector<Published> followed;
  ASSERT_TRUE(db_->begin());
  for (int c = 0; c < 400; ++c) {
    const std::string name = fmt::format("ch{}", c);
    const int count = c < 3 ? 200 : 1 + c % 5;
    for (int v = 0; v < count; ++v) {
      const int64_t published =
          c % 5 == 4 ? now - 100000 - v : now - (v * 97 + c * 13) % 5000 - (c == 7 && v == 0 ? 0 : 1);
      const int64_t id = video(name, published);
      if (c % 8 != 7) followed.push_back({published, id});  // every eighth channel is not followed
    }
  }
  ASSERT_TRUE(db_->commit());
  ASSERT_NO_FATAL_FAILURE(rebuild());
  for (int c = 0; c < 400; ++c) {
    if (c % 8 != 7) {
      ASSERT_TRUE(follow(reader, fmt::format("ch{}", c), now + c));
    }
  }
  // Redis's order: score, then the member's text, both descending.
  std::sort(followed.begin(), followed.end(), [](const Published& a, const Published& b) {
    return a.published != b.published ? a.published > b.published
                                      : std::to_string(a.id) > std::to_string(b.id);
  });
  std::vector<int64_t> expected;
  for (size_t i = 0; i < followed.size() && i < static_cast<size_t>(feed_depth); ++i) {
    expected.push_back(followed[i].id);
  }
  ASSERT_GT(followed.size(), static_cast<size_t>(feed_depth));

  EXPECT_EQ(feed_ids(reader, 25), expected);  // builds the cache on page 1, reads it afterwards
  ASSERT_TRUE(redis_->execute(redis::Command("DEL", projection::keys::feed(reader))));
  EXPECT_EQ(feed_ids(reader, 7), expected);  // pages of another size, from a new cache
  CardPage first = read(read_feed(*connection_, reader, 1, 30));
  EXPECT_EQ(first.total, feed_depth);
  EXPECT_EQ(first.pages, feed_depth / 30);

  // A new subscription drops the cache: the next page 1 has the new channel's newest video.
  const int64_t fresh = video("late", now + 100);
  ASSERT_NO_FATAL_FAILURE(rebuild());
  ASSERT_TRUE(follow(reader, "late"));
  EXPECT_EQ(read(read_feed(*connection_, reader, 1, 30)).cards.front().id, fresh);
}

TEST_P(SubscriptionsTest, AnEmptyFeedIsEmpty) {
  const int64_t reader = channel("reader");
  channel("quiet");
  ASSERT_NO_FATAL_FAILURE(rebuild());
  CardPage none = read(read_feed(*connection_, reader, 1, 30));
  EXPECT_EQ(none.total, 0);
  EXPECT_EQ(none.pages, 0);
  EXPECT_TRUE(none.cards.empty());
  ASSERT_TRUE(follow(reader, "quiet"));
  for (int read_twice = 0; read_twice < 2; ++read_twice) {  // built, then from the cache
    CardPage quiet = read(read_feed(*connection_, reader, 1, 30));
    EXPECT_EQ(quiet.total, 0);
    EXPECT_TRUE(quiet.cards.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, SubscriptionsTest, sql::testing::all_backends(),
                         sql::testing::backend_test_name);

}  // namespace
}  // namespace reel::people
