// The search index's weights and commands, without Redis.
#include "projection/search_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "projection/keys.h"
#include "projection/projector.h"

namespace reel::projection::search_index {
namespace {

catalog::Video video(std::string title) {
  catalog::Video v;
  v.id = 42;
  v.title = std::move(title);
  v.channel_name = "bob";
  v.status = catalog::VideoStatus::ready;
  return v;
}

double weight_of(const std::vector<TermEntry>& entries, std::string_view term) {
  for (const auto& entry : entries) {
    if (entry.term == term) return entry.weight;
  }
  return 0;
}

bool has_term(const std::vector<TermEntry>& entries, std::string_view term) {
  return std::any_of(entries.begin(), entries.end(), [&](const TermEntry& e) { return e.term == term; });
}

TEST(SearchWeightTest, GrowsWithTermFrequencyAndSaturates) {
  double previous = 0;
  double previous_step = 1e9;
  for (uint32_t tf = 1; tf <= 30; ++tf) {
    const double w = term_weight({{Field::title, tf, 8}});
    EXPECT_GT(w, previous) << tf;
    EXPECT_LT(w - previous, previous_step) << tf;  // each further occurrence adds less
    EXPECT_LT(w, k1 + 1);
    previous_step = w - previous;
    previous = w;
  }
  EXPECT_GT(previous, 0.95 * (k1 + 1));  // close to the bound
  EXPECT_EQ(term_weight({}), 0);
  EXPECT_EQ(term_weight({{Field::title, 0, 8}}), 0);
}

TEST(SearchWeightTest, TitleOutweighsTagsOutweighDescription) {
  const double title = term_weight({{Field::title, 1, 8}});
  const double tags = term_weight({{Field::tags, 1, 6}});
  const double description = term_weight({{Field::description, 1, 8}});
  EXPECT_GT(title, tags);
  EXPECT_GT(tags, description);
  // In both fields: more than in either alone.
  EXPECT_GT(term_weight({{Field::title, 1, 8}, {Field::description, 1, 40}}), title);
}

TEST(SearchWeightTest, LongerFieldsCountAnOccurrenceForLess) {
  EXPECT_GT(term_weight({{Field::title, 1, 2}}), term_weight({{Field::title, 1, 8}}));
  EXPECT_GT(term_weight({{Field::title, 1, 8}}), term_weight({{Field::title, 1, 40}}));
  EXPECT_GT(term_weight({{Field::description, 2, 20}}), term_weight({{Field::description, 2, 400}}));
  // Categories are not normalized by length (b = 0).
  EXPECT_EQ(term_weight({{Field::categories, 1, 1}}), term_weight({{Field::categories, 1, 3}}));
}

TEST(SearchWeightTest, IdfFallsWithHowCommonATermIs) {
  EXPECT_GT(idf(1000, 1), idf(1000, 10));
  EXPECT_GT(idf(1000, 10), idf(1000, 999));
  EXPECT_GT(idf(1000, 1000), 0);  // a term in every video still counts a little
  EXPECT_GT(idf(0, 5), 0);        // a counter behind the sets is clamped
}

TEST(SearchTermsTest, EveryFieldIsIndexedAndTheTitleWeighsMost) {
  catalog::Video v = video("Funny cats compilation");
  v.tags = {"kittens", "pets"};
  v.categories = {"animals"};
  v.description = "Cats being funny. Dogs appear too.";
  const auto entries = video_terms(v, "Bob's Channel");
  for (std::string_view term : {"funni", "cat", "compil", "kitten", "pet", "anim", "bob", "channel", "dog"}) {
    EXPECT_TRUE(has_term(entries, term)) << term;
  }
  EXPECT_FALSE(has_term(entries, "being"));                            // a stop word
  EXPECT_GT(weight_of(entries, "compil"), weight_of(entries, "dog"));  // title over description
  EXPECT_GT(weight_of(entries, "cat"), weight_of(entries, "compil"));  // title and description
  EXPECT_TRUE(std::is_sorted(entries.begin(), entries.end(),
                             [](const TermEntry& a, const TermEntry& b) { return a.term < b.term; }));
  EXPECT_EQ(encode_record({{"a", 1, "a"}, {"b", 2, "b"}}), "a b");
}

TEST(SearchTermsTest, EachTermShowsTheShortestThenSmallestOfTheVideosSpellings) {
  catalog::Video v;
  v.id = 1;
  v.title = "Funnies and Café";  // a field gives the first spelling of each term in it
  v.description = "FUNNY cafés";
  v.channel_name = "bob";
  const auto entries = video_terms(v, "bob");
  auto word_of = [&](std::string_view term) {
    for (const auto& entry : entries)
      if (entry.term == term) return entry.word;
    return std::string("(none)");
  };
  EXPECT_EQ(word_of("funni"), "funny");
  EXPECT_EQ(word_of("cafe"), "cafe");  // folded: what did-you-mean compares typed words with
  EXPECT_TRUE(preferred_word("cat", "cats"));
  EXPECT_TRUE(preferred_word("bat", "cat"));
  EXPECT_FALSE(preferred_word("cat", "cat"));
}

TEST(SearchTermsTest, BadInputGivesBoundedKeySafeTerms) {
  std::string long_title;
  for (int i = 0; long_title.size() < 10 * 1024; ++i) long_title += "word" + std::to_string(i) + " ";
  const std::string inputs[] = {long_title,
                                "\xF0\x9F\x98\x80\xF0\x9F\x8E\xAC\xF0\x9F\x94\xA5",  // emoji only
                                "the of and a",                                      // stop words only
                                "bad \xC3\x28 utf \xFF\xFE eight", "* : {} \r\n key:like{tag}* ?[x]\\ "};
  for (const std::string& title : inputs) {
    catalog::Video v = video(title);
    v.channel_name = "c";
    const auto entries = video_terms(v, "c");
    EXPECT_LE(entries.size(), max_terms_per_video);
    for (const auto& entry : entries) {
      EXPECT_FALSE(entry.term.empty());
      EXPECT_EQ(entry.term.find_first_of(" :{}*?[]\\\r\n"), std::string::npos) << entry.term;
      EXPECT_GT(entry.weight, 0);
    }
  }
  EXPECT_EQ(video_terms(video(long_title), "bob").size(), max_terms_per_video);
  // Emoji and stop words: the channel alone.
  catalog::Video emoji = video(inputs[1]);
  ASSERT_EQ(video_terms(emoji, "bob").size(), 1u);
  EXPECT_EQ(video_terms(video(inputs[2]), "bob")[0].term, "bob");
}

TEST(SearchCommandsTest, IndexReplacesTheOldEntriesThenWritesEachTerm) {
  const catalog::Video v = video("Night city");
  const auto entries = video_terms(v, "bob");
  const auto commands = index_commands(v, "bob");
  ASSERT_EQ(commands.size(), entries.size() + 4);
  EXPECT_EQ(commands.front().args()[0], "EVAL");
  EXPECT_NE(
      std::find(commands.front().args().begin(), commands.front().args().end(), keys::search_record(42)),
      commands.front().args().end());
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& args = commands[i + 1].args();
    ASSERT_EQ(args.size(), 4u);
    EXPECT_EQ(args[0], "ZADD");
    EXPECT_EQ(args[1], keys::search_term(entries[i].term));
    EXPECT_EQ(std::stod(args[2]), entries[i].weight);
    EXPECT_EQ(args[3], "42");
  }
  EXPECT_EQ(commands[entries.size() + 1].args()[1], keys::search_record(42));
  EXPECT_EQ(commands[entries.size() + 1].args()[2], "bob citi night");
  EXPECT_EQ(commands[entries.size() + 2].args()[0], "INCR");
  // Last, the dictionary entries of the terms just added: term, word pairs after the prefix.
  const auto& dictionary = commands.back().args();
  EXPECT_EQ(dictionary[0], "EVAL");
  EXPECT_EQ(dictionary[2], "2");
  EXPECT_EQ(dictionary[3], keys::search_dictionary());
  EXPECT_EQ(dictionary[4], keys::search_words());
  EXPECT_EQ(std::vector<std::string>(dictionary.begin() + 6, dictionary.end()),
            (std::vector<std::string>{"bob", "bob", "citi", "city", "night", "night"}));
}

TEST(SearchCommandsTest, PublishIndexesAndWithdrawUnindexes) {
  const catalog::Video v = video("Night city");
  auto holds = [](const std::vector<redis::Command>& commands, std::string_view op, const std::string& key) {
    return std::any_of(commands.begin(), commands.end(), [&](const redis::Command& c) {
      return c.args()[0] == op && std::find(c.args().begin(), c.args().end(), key) != c.args().end();
    });
  };
  const auto published = publish_video_commands(v, "bob");
  EXPECT_TRUE(holds(published, "ZADD", keys::search_term("night")));
  EXPECT_TRUE(holds(published, "SET", keys::search_record(42)));
  EXPECT_EQ(published.back().args()[0], "EXEC");
  const auto withdrawn = withdraw_video_commands(v, 20260101);
  EXPECT_TRUE(holds(withdrawn, "EVAL", keys::search_record(42)));
  EXPECT_EQ(withdrawn.back().args()[0], "EXEC");
}

}  // namespace
}  // namespace reel::projection::search_index
