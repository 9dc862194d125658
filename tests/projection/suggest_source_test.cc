// SuggestSource against a real redis-server: a refresh reads the dictionary the index path wrote
// and the popular searches into a snapshot that corrects and completes; its caps and chunks; a
// failed refresh keeps the snapshot before it; start() refreshes in the background.
#include "projection/suggest_source.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "projection/keys.h"
#include "projection/projector.h"
#include "projection/search_index.h"
#include "support/redis_sqlite_test.h"

namespace reel::projection {
namespace {

class SuggestSourceTest : public testing::RedisSqliteTest {
 protected:
  void publish(int64_t id, std::string title) {
    catalog::Video v;
    v.id = id;
    v.title = std::move(title);
    v.channel_name = "bob";
    v.status = catalog::VideoStatus::ready;
    v.published_at = 1795824000;
    auto replies = redis_->execute(publish_video_commands(v, "Bob"));
    ASSERT_TRUE(replies) << replies.error().message;
    ASSERT_TRUE(redis::check_exec(*replies, "publish"));
  }

  void run(redis::Command command) {
    auto reply = redis_->execute(std::move(command));
    ASSERT_TRUE(reply) << reply.error().message;
    ASSERT_FALSE(reply->is_error()) << reply->str();
  }

  search::Analyzer& analyzer() { return search::thread_analyzer(); }
};

TEST_F(SuggestSourceTest, ARefreshReadsTheIndexedDictionaryAndThePopularSearches) {
  publish(1, "Funny guitar lessons");
  publish(2, "Guitar tutorial for beginners");
  publish(3, "Cats playing guitar");
  run(redis::Command("ZADD", keys::search_popular(), 50, "guitar lessons", 80, "gumball", 5, "cats"));

  SuggestSource source(connection_options());
  EXPECT_EQ(source.current()->dictionary_size(), 0u);  // empty, never null, before the first refresh
  EXPECT_EQ(source.current()->did_you_mean(analyzer(), "guitra"), std::nullopt);
  ASSERT_TRUE(source.refresh().ok());
  auto suggester = source.current();
  EXPECT_GE(suggester->dictionary_size(), 8u);
  EXPECT_EQ(suggester->popular_size(), 3u);
  EXPECT_EQ(suggester->did_you_mean(analyzer(), "gutiar lesons"), "guitar lessons");
  EXPECT_EQ(suggester->did_you_mean(analyzer(), "cats guitar"), std::nullopt);
  EXPECT_EQ(suggester->complete(analyzer(), "gu", 3),
            (std::vector<std::string>{"gumball", "guitar lessons", "guitar"}));
  EXPECT_EQ(suggester->complete(analyzer(), "funny t", 5), (std::vector<std::string>{"funny tutorial"}));

  // A later refresh sees what changed; the snapshot a request holds stays as it was.
  publish(4, "Ukulele tutorial");
  ASSERT_TRUE(source.refresh().ok());
  EXPECT_EQ(source.current()->did_you_mean(analyzer(), "ukulle"), "ukulele");
  EXPECT_EQ(suggester->did_you_mean(analyzer(), "ukulle"), std::nullopt);
  EXPECT_EQ(source.current()->complete(analyzer(), "uk", 1), std::vector<std::string>{"ukulele"});
  EXPECT_TRUE(suggester->complete(analyzer(), "uk", 1).empty());
}

TEST_F(SuggestSourceTest, ReadsOnlyTheMostCommonTermsInChunks) {
  // 25,000 terms: 25 ZREVRANGE and HMGET chunks of 1,000; term i held by i videos, shown as "w{i}x".
  // 2,500 popular searches "p{i}", scored i.
  redis::Command counts("ZADD", keys::search_dictionary());
  redis::Command words("HSET", keys::search_words());
  redis::Command searches("ZADD", keys::search_popular());
  for (int i = 1; i <= 25000; ++i) {
    counts.arg(std::to_string(i)).arg("t" + std::to_string(i));
    words.arg("t" + std::to_string(i)).arg("w" + std::to_string(i) + "x");
    if (i <= 2500) searches.arg(std::to_string(i)).arg("p" + std::to_string(i));
  }
  run(std::move(counts));
  run(std::move(words));
  run(std::move(searches));
  run(redis::Command("ZADD", keys::search_dictionary(), 30000, "noword"));  // a term without a word

  SuggestSource all(connection_options(), {.dictionary_terms = 30000, .popular_searches = 3000});
  ASSERT_TRUE(all.refresh().ok());
  EXPECT_EQ(all.current()->dictionary_size(), 25000u);
  EXPECT_EQ(all.current()->popular_size(), 2500u);
  EXPECT_EQ(all.current()->complete(analyzer(), "w1", 2), (std::vector<std::string>{"w19999x", "w19998x"}));

  SuggestSource top(connection_options(), {.dictionary_terms = 101, .popular_searches = 1100});
  ASSERT_TRUE(top.refresh().ok());
  EXPECT_EQ(top.current()->dictionary_size(), 100u);  // "noword" is read but has no word
  EXPECT_EQ(top.current()->popular_size(), 1100u);    // a chunk and a part
  EXPECT_EQ(top.current()->complete(analyzer(), "p2500", 1), std::vector<std::string>{"p2500"});
  EXPECT_TRUE(top.current()->complete(analyzer(), "p1400", 1).empty());    // below the top 1,100
  EXPECT_EQ(top.current()->complete(analyzer(), "w249", 20).size(), 20u);  // w24901x... w24999x
  EXPECT_TRUE(top.current()->complete(analyzer(), "w1", 20).empty());      // none is in the top
}

TEST_F(SuggestSourceTest, AFailedRefreshKeepsTheSnapshotBeforeIt) {
  publish(1, "Guitar lessons");
  SuggestSource source(connection_options());
  ASSERT_TRUE(source.refresh().ok());
  const auto before = source.current();
  ASSERT_GT(before->dictionary_size(), 0u);
  run(redis::Command("DEL", keys::search_dictionary()));
  run(redis::Command("SET", keys::search_dictionary(), "not a zset"));
  const Status failed = source.refresh();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("WRONGTYPE"), std::string::npos) << failed.error().message;
  EXPECT_EQ(source.current(), before);

  redis::ConnectionOptions nowhere = connection_options();
  nowhere.endpoint.port = 1;  // nothing listens there
  nowhere.connect_timeout = std::chrono::milliseconds(200);
  SuggestSource unreachable(nowhere);
  EXPECT_FALSE(unreachable.refresh().ok());
  EXPECT_EQ(unreachable.current()->dictionary_size(), 0u);
}

TEST_F(SuggestSourceTest, StartRefreshesInTheBackgroundAtOnce) {
  publish(1, "Guitar lessons");
  SuggestSource source(connection_options(), {.interval = std::chrono::hours(1)});
  source.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (source.current()->dictionary_size() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GT(source.current()->dictionary_size(), 0u);
  EXPECT_EQ(source.current()->did_you_mean(analyzer(), "guitra"), "guitar");
}

}  // namespace
}  // namespace reel::projection
