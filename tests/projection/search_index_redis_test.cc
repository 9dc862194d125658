// The search index against a real redis-server and SQLite: what a publish, an edit (a publish of
// the new version) and a withdrawal leave in Redis, replays, bad input, and `reel rebuild search`
// reproducing exactly what the incremental path wrote.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "projection/keys.h"
#include "projection/projector.h"
#include "projection/rebuild.h"
#include "projection/search_index.h"
#include "support/redis_sqlite_test.h"
#include "support/synthetic_catalog.h"

namespace reel::projection {
namespace {

class SearchIndexRedisTest : public testing::RedisSqliteTest {
 protected:
  catalog::Video video(int64_t id, std::string title) {
    catalog::Video v;
    v.id = id;
    v.title = std::move(title);
    v.channel_name = "bob";
    v.tags = {"guitar"};
    v.categories = {"music"};
    v.description = "A song played live.";
    v.status = catalog::VideoStatus::ready;
    v.published_at = 1795824000;
    return v;
  }

  void apply(std::vector<redis::Command> commands) {
    auto replies = redis_->execute(std::move(commands));
    ASSERT_TRUE(replies) << replies.error().message;
    auto applied = redis::check_exec(*replies, "the test's batch");
    ASSERT_TRUE(applied) << applied.error().message;
  }

  std::vector<std::string> scan(const std::string& pattern) {
    std::vector<std::string> found;
    std::string cursor = "0";
    do {
      auto reply = redis_->execute(redis::Command("SCAN", cursor, "MATCH", pattern, "COUNT", 1000));
      EXPECT_TRUE(reply);
      if (!reply) return found;
      cursor = std::string(reply->elements()[0].str());
      for (const auto& key : reply->elements()[1].elements()) found.emplace_back(key.str());
    } while (cursor != "0");
    std::sort(found.begin(), found.end());
    return found;
  }

  // Every search key with its whole value: members and scores of a term set, a record's text.
  std::map<std::string, std::string> search_state() {
    std::map<std::string, std::string> state;
    for (const auto& key : scan(keys::search_terms_pattern())) {
      auto reply = redis_->execute(redis::Command("ZRANGE", key, 0, -1, "WITHSCORES"));
      EXPECT_TRUE(reply);
      std::string value;
      for (const auto& e : reply->elements()) value.append(e.str()).append(" ");
      state[key] = value;
    }
    for (const auto& key : scan(keys::search_records_pattern())) state[key] = get(key);
    state[std::string(keys::search_dictionary())] = dictionary_text();
    state[std::string(keys::search_words())] =
        sorted_pairs(redis::Command("HGETALL", keys::search_words()), "=");
    state[std::string(keys::search_videos())] = get(std::string(keys::search_videos()));
    return state;
  }

  // The pairs of a flat reply (field, value or member, score) as "first{separator}second " in
  // order of the first.
  std::string sorted_pairs(redis::Command command, std::string_view separator) {
    auto reply = redis_->execute(std::move(command));
    EXPECT_TRUE(reply);
    std::map<std::string, std::string> sorted;
    for (size_t i = 0; reply && i + 1 < reply->elements().size(); i += 2)
      sorted[std::string(reply->elements()[i].str())] = reply->elements()[i + 1].str();
    std::string text;
    for (const auto& [first, second] : sorted)
      text.append(first).append(separator).append(second).append(" ");
    return text;
  }

  // search:terms as "term:videos " in term order.
  std::string dictionary_text() {
    return sorted_pairs(redis::Command("ZRANGE", keys::search_dictionary(), 0, -1, "WITHSCORES"), ":");
  }

  // How many videos search:terms says hold `term` (nullopt: not in it), and its shown word.
  std::optional<double> videos_with(std::string_view term) {
    auto reply = redis_->execute(redis::Command("ZSCORE", keys::search_dictionary(), term));
    EXPECT_TRUE(reply);
    if (!reply || reply->is_nil()) return std::nullopt;
    return std::stod(std::string(reply->str()));
  }
  std::string word_of(std::string_view term) {
    auto reply = redis_->execute(redis::Command("HGET", keys::search_words(), term));
    EXPECT_TRUE(reply);
    return reply && !reply->is_nil() ? std::string(reply->str()) : "(nil)";
  }

  // Every term of search:terms counts exactly the members of its st: set, and every st: set is in it.
  void expect_dictionary_matches_sets() {
    std::string expected;
    std::map<std::string, std::string> sorted;
    for (const auto& key : scan(keys::search_terms_pattern())) {
      auto card = redis_->execute(redis::Command("ZCARD", key));
      ASSERT_TRUE(card);
      sorted[key.substr(keys::search_term_prefix().size())] = std::to_string(card->integer());
    }
    for (const auto& [term, videos] : sorted) expected.append(term).append(":").append(videos).append(" ");
    EXPECT_EQ(dictionary_text(), expected);
  }

  std::string get(const std::string& key) {
    auto reply = redis_->execute(redis::Command("GET", key));
    EXPECT_TRUE(reply);
    return reply && !reply->is_nil() ? std::string(reply->str()) : "(nil)";
  }

  std::optional<double> score(std::string_view term, int64_t id) {
    auto reply = redis_->execute(redis::Command("ZSCORE", keys::search_term(term), id));
    EXPECT_TRUE(reply);
    if (!reply || reply->is_nil()) return std::nullopt;
    return std::stod(std::string(reply->str()));
  }

  // Term sets holding `id`.
  std::vector<std::string> sets_holding(int64_t id) {
    std::vector<std::string> holding;
    for (const auto& key : scan(keys::search_terms_pattern())) {
      auto reply = redis_->execute(redis::Command("ZSCORE", key, id));
      if (reply && !reply->is_nil()) holding.push_back(key);
    }
    return holding;
  }
};

TEST_F(SearchIndexRedisTest, PublishIndexesTheTitlesTermsWithTheirWeights) {
  const catalog::Video v = video(7, "Funny cats compilation");
  apply(publish_video_commands(v, "Bob's Channel"));
  const auto entries = search_index::video_terms(v, "Bob's Channel");
  ASSERT_FALSE(entries.empty());
  for (const auto& entry : entries) {
    auto stored = score(entry.term, 7);
    ASSERT_TRUE(stored) << entry.term;
    EXPECT_EQ(*stored, entry.weight) << entry.term;
  }
  EXPECT_TRUE(score("cat", 7));
  EXPECT_TRUE(score("funni", 7));
  EXPECT_TRUE(score("guitar", 7));
  EXPECT_GT(*score("cat", 7), *score("song", 7));  // title over description
  EXPECT_EQ(sets_holding(7).size(), entries.size());
  EXPECT_EQ(get(keys::search_record(7)), search_index::encode_record(entries));
  EXPECT_EQ(get(std::string(keys::search_videos())), "1");
}

TEST_F(SearchIndexRedisTest, AnEditReplacesTheOldTerms) {
  apply(publish_video_commands(video(7, "Funny cats"), "Bob"));
  apply(publish_video_commands(video(8, "Funny dogs"), "Bob"));
  apply(publish_video_commands(video(7, "Sleepy hamsters"), "Bob"));
  EXPECT_FALSE(score("cat", 7));
  EXPECT_FALSE(score("funni", 7));
  EXPECT_TRUE(score("funni", 8));  // the other video's entries stay
  EXPECT_TRUE(score("sleepi", 7));
  EXPECT_TRUE(score("hamster", 7));
  EXPECT_TRUE(score("guitar", 7));                       // unchanged fields stay
  EXPECT_EQ(scan(keys::search_term("cat")).size(), 0u);  // a set no video has any more is gone
  EXPECT_EQ(get(std::string(keys::search_videos())), "2");
}

TEST_F(SearchIndexRedisTest, WithdrawRemovesEveryEntryAndDecrementsTheCounter) {
  const catalog::Video v = video(7, "Funny cats");
  apply(publish_video_commands(v, "Bob"));
  apply(publish_video_commands(video(8, "Funny dogs"), "Bob"));
  ASSERT_FALSE(sets_holding(7).empty());
  apply(withdraw_video_commands(v, 20261128));
  EXPECT_TRUE(sets_holding(7).empty());
  EXPECT_EQ(get(keys::search_record(7)), "(nil)");
  EXPECT_EQ(get(std::string(keys::search_videos())), "1");
  EXPECT_TRUE(score("funni", 8));
  // Withdrawn again (a retried delete job): nothing changes.
  const auto before = search_state();
  apply(withdraw_video_commands(v, 20261128));
  EXPECT_EQ(search_state(), before);
}

TEST_F(SearchIndexRedisTest, ReplayingAPublishChangesNothing) {
  apply(publish_video_commands(video(7, "Funny cats"), "Bob"));
  apply(publish_video_commands(video(7, "Sleepy hamsters"), "Bob"));
  const auto once = search_state();
  apply(publish_video_commands(video(7, "Sleepy hamsters"), "Bob"));
  apply(publish_video_commands(video(7, "Sleepy hamsters"), "Bob"));
  EXPECT_EQ(search_state(), once);
  EXPECT_EQ(once.at(std::string(keys::search_videos())), "1");
}

TEST_F(SearchIndexRedisTest, TheDictionaryCountsTheVideosOfEachTermAndShowsItsShortestSpelling) {
  apply(publish_video_commands(video(7, "Funny cats"), "Bob"));
  apply(publish_video_commands(video(8, "Funnies and cat videos"), "Bob"));
  EXPECT_EQ(videos_with("funni"), 2);
  EXPECT_EQ(videos_with("cat"), 2);
  EXPECT_EQ(videos_with("video"), 1);
  EXPECT_EQ(videos_with("guitar"), 2);
  EXPECT_EQ(word_of("funni"), "funny");  // shorter than "funnies", whichever came first
  EXPECT_EQ(word_of("cat"), "cat");
  EXPECT_EQ(word_of("video"), "videos");
  expect_dictionary_matches_sets();

  // An edit: the old title's terms lose a video, a term no video holds leaves both keys.
  apply(publish_video_commands(video(8, "Sleepy hamsters"), "Bob"));
  EXPECT_EQ(videos_with("funni"), 1);
  EXPECT_EQ(videos_with("video"), std::nullopt);
  EXPECT_EQ(word_of("video"), "(nil)");
  EXPECT_EQ(videos_with("hamster"), 1);
  EXPECT_EQ(word_of("hamster"), "hamsters");
  expect_dictionary_matches_sets();

  // A replayed publish and a retried withdrawal count nothing twice.
  apply(publish_video_commands(video(8, "Sleepy hamsters"), "Bob"));
  EXPECT_EQ(videos_with("hamster"), 1);
  apply(withdraw_video_commands(video(7, ""), 20261128));
  apply(withdraw_video_commands(video(7, ""), 20261128));
  EXPECT_EQ(videos_with("funni"), std::nullopt);
  EXPECT_EQ(videos_with("guitar"), 1);
  expect_dictionary_matches_sets();
  apply(withdraw_video_commands(video(8, ""), 20261128));
  EXPECT_EQ(dictionary_text(), "");
  EXPECT_EQ(scan(std::string(keys::search_words())).size(), 0u);
}

TEST_F(SearchIndexRedisTest, BadInputIsIndexedWithoutErrorsAndWithBoundedKeys) {
  std::string long_title;
  for (int i = 0; long_title.size() < 10 * 1024; ++i) long_title += "word" + std::to_string(i) + " ";
  const std::string titles[] = {long_title, "\xF0\x9F\x98\x80\xF0\x9F\x8E\xAC", "the of and a",
                                "bad \xC3\x28 utf \xFF\xFE eight", "* : {} \r\n key:like{tag}* ?[x]\\ "};
  int64_t id = 100;
  for (const std::string& title : titles) {
    catalog::Video v = video(++id, title);
    v.description = title;
    v.tags = {};
    apply(publish_video_commands(v, "Bob"));
    EXPECT_LE(sets_holding(id).size(), search_index::max_terms_per_video);
    EXPECT_GE(sets_holding(id).size(), 1u);  // the channel at least
  }
  EXPECT_LE(scan(keys::search_terms_pattern()).size(), search_index::max_terms_per_video + 20);
  EXPECT_EQ(get(std::string(keys::search_videos())), "5");
  expect_dictionary_matches_sets();
  for (int64_t withdrawn = 101; withdrawn <= id; ++withdrawn)
    apply(withdraw_video_commands(video(withdrawn, ""), 20261128));
  EXPECT_TRUE(scan(keys::search_terms_pattern()).empty());
  EXPECT_EQ(dictionary_text(), "");
  EXPECT_EQ(get(std::string(keys::search_videos())), "0");
}

TEST_F(SearchIndexRedisTest, RebuildReproducesTheIncrementalIndexAndDropsStaleTerms) {
  ASSERT_TRUE(testing::insert_synthetic_catalog(*store_, 300));
  auto channels = store_->channels();
  ASSERT_TRUE(channels);
  std::map<std::string, std::string> display;
  for (const auto& channel : *channels) display[channel.name] = channel.display_name;
  // The incremental path: each ready video published as the worker does.
  std::vector<catalog::Video> ready;
  ASSERT_TRUE(store_->for_each_video(catalog::VideoStatus::ready,
                                     [&](const catalog::Video& v) { ready.push_back(v); }));
  ASSERT_GT(ready.size(), 100u);
  for (const auto& v : ready) apply(publish_video_commands(v, display.at(v.channel_name)));
  const auto incremental = search_state();
  ASSERT_GT(incremental.size(), ready.size());
  ASSERT_NE(incremental.at(std::string(keys::search_dictionary())), "");
  expect_dictionary_matches_sets();

  // A video that Redis indexed under a title SQL no longer has, and an unknown term set.
  catalog::Video stale = ready.front();
  stale.title = "Zanzibar quokka";
  apply(publish_video_commands(stale, display.at(stale.channel_name)));
  ASSERT_TRUE(score("zanzibar", stale.id));
  ASSERT_TRUE(redis_->execute(redis::Command("ZADD", keys::search_term("orphan"), 1, 999999)));

  RebuildOptions options;
  options.now = 1795824000;
  options.projections = {"search"};
  auto stats = rebuild(*store_, *redis_, options);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_GE(stats->stale_keys_removed, 2u);
  EXPECT_EQ(search_state(), incremental);
  EXPECT_EQ(search_state().at(std::string(keys::search_videos())), std::to_string(ready.size()));

  // From an empty Redis too, and the incremental path goes on from what the rebuild wrote.
  ASSERT_TRUE(redis_->execute(redis::Command("FLUSHALL")));
  ASSERT_TRUE(rebuild(*store_, *redis_, options));
  EXPECT_EQ(search_state(), incremental);
  apply(withdraw_video_commands(ready.back(), 20261128));
  EXPECT_TRUE(sets_holding(ready.back().id).empty());
  EXPECT_EQ(get(std::string(keys::search_videos())), std::to_string(ready.size() - 1));
}

}  // namespace
}  // namespace reel::projection
