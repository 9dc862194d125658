// The community layouts: packed comments, the top order's scores, the replies' lexicographic
// members, and the guard every community delta runs under.
#include "projection/community.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "projection/codec.h"
#include "projection/community_keys.h"
#include "projection/keys.h"

namespace reel::projection {
namespace {

catalog::Comment sample_comment() {
  catalog::Comment c;
  c.id = 9001;
  c.video_id = 42;
  c.user_id = 7;
  c.parent_id = 0;
  c.author_name = "bob";
  c.author_display_name = "Bob\x1f<the builder>";
  c.body = "line one\nline\ttwo <b>&amp;</b> 日本 \x1f?";  // the body is last: even a separator survives
  c.replies = 3;
  c.created_at = 1795824000;
  c.edited_at = 1795824060;
  return c;
}

TEST(CommunityCodec, CommentRoundTrip) {
  auto decoded = community::decode_comment(community::encode_comment(sample_comment()));
  ASSERT_TRUE(decoded);
  catalog::Comment expected = sample_comment();
  expected.author_display_name = "Bob <the builder>";  // control characters in names become spaces
  EXPECT_EQ(decoded->id, expected.id);
  EXPECT_EQ(decoded->video_id, expected.video_id);
  EXPECT_EQ(decoded->user_id, expected.user_id);
  EXPECT_EQ(decoded->parent_id, expected.parent_id);
  EXPECT_EQ(decoded->author_name, expected.author_name);
  EXPECT_EQ(decoded->author_display_name, expected.author_display_name);
  EXPECT_EQ(decoded->body, expected.body);
  EXPECT_EQ(decoded->replies, expected.replies);
  EXPECT_EQ(decoded->created_at, expected.created_at);
  EXPECT_EQ(decoded->edited_at, expected.edited_at);
}

TEST(CommunityCodec, GarbageIsNotAComment) {
  EXPECT_FALSE(community::decode_comment(""));
  EXPECT_FALSE(
      community::decode_comment("1\x1f"
                                "2"));
  std::string packed = community::encode_comment(sample_comment());
  packed[0] = 'x';
  EXPECT_FALSE(community::decode_comment(packed));
}

TEST(CommunityCodec, TopOrderIsRepliesThenNewest) {
  EXPECT_GT(community::top_score(1, 5), community::top_score(0, 900000));
  EXPECT_GT(community::top_score(2, 5), community::top_score(1, 9000000000));
  EXPECT_GT(community::top_score(0, 6), community::top_score(0, 5));
  EXPECT_GT(community::top_score(7, 8589934591), community::top_score(7, 8589934590));
  // Exact integers: no two (replies, id) pairs within the limits share a score.
  EXPECT_EQ(community::top_score(1, 1), 8589934593.0);
  EXPECT_EQ(community::top_score(1048575, 8589934591), 9007199254740991.0);  // 2^53 - 1
  EXPECT_EQ(community::top_score(-3, -1), 0.0);
}

TEST(CommunityCodec, RepliesSortByParentThenIdLexicographically) {
  std::vector<std::string> members = {community::reply_member(10, 11), community::reply_member(9, 100),
                                      community::reply_member(10, 9), community::reply_member(100, 1)};
  std::sort(members.begin(), members.end());
  EXPECT_EQ(members[0], community::reply_member(9, 100));
  EXPECT_EQ(members[1], community::reply_member(10, 9));
  EXPECT_EQ(members[2], community::reply_member(10, 11));
  // The bounds of parent 10 hold its replies and nothing else.
  const std::string from = community::replies_from(10).substr(1), to = community::replies_to(10).substr(1);
  for (const auto& member : members) {
    const bool of_ten = community::reply_member(10, community::reply_of(member)) == member;
    EXPECT_EQ(member >= from && member < to, of_ten) << member;
  }
  EXPECT_EQ(community::reply_of(community::reply_member(10, 11)), 11);
  EXPECT_EQ(community::reply_of("11"), 0);
}

TEST(CommunityCodec, DeltasRunUnderTheCardGuard) {
  std::vector<redis::Command> commands;
  commands.emplace_back("HSET", "v:1", "likes", 3);
  commands.emplace_back("HDEL", "uv:2", 1);
  const auto guarded = community::while_listed(1, commands);
  ASSERT_EQ(guarded.size(), 3u);
  EXPECT_EQ(guarded[0].args(),
            (std::vector<std::string>{std::string(codec::if_exists_op), keys::card(1), "2"}));
  EXPECT_EQ(guarded[1].args(), commands[0].args());
  EXPECT_EQ(guarded[2].args(), commands[1].args());
}

TEST(CommunityCodec, VoteDeltaSetsCountsRatingListsAndTheUsersVote) {
  auto commands = community::vote_commands(42, {"music"}, 3, 1, 7, 1);
  std::vector<std::string> names;
  for (const auto& command : commands) names.push_back(command.args()[0] + " " + command.args()[1]);
  EXPECT_EQ(names, (std::vector<std::string>{"HSET v:42", "SETRANGE card:42", "ZADD z:rating",
                                             "ZADD z:cat:music:rating", "HSET uv:7"}));
  EXPECT_EQ(commands[1].args()[2], "13");
  EXPECT_EQ(commands[1].args()[3], "075.0");
  auto removal = community::vote_commands(42, {}, 0, 0, 7, 0);
  EXPECT_EQ(removal.back().args()[0], "HDEL");
}

TEST(CommunityKeys, Names) {
  EXPECT_EQ(keys::user_votes(7), "uv:7");
  EXPECT_EQ(keys::comments(42), "cm:42");
  EXPECT_EQ(keys::comment_list(42, CommentSort::newest), "z:cm:42:new");
  EXPECT_EQ(keys::comment_list(42, CommentSort::top), "z:cm:42:top");
  EXPECT_EQ(keys::comment_replies(42), "z:cm:42:replies");
  EXPECT_EQ(parse_comment_sort("top"), CommentSort::top);
  EXPECT_EQ(parse_comment_sort("new"), CommentSort::newest);
  EXPECT_FALSE(parse_comment_sort("old"));
}

}  // namespace
}  // namespace reel::projection
