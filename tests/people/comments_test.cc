// Comments through their deltas, against a real redis-server and SQLite: pages in both orders from
// Redis, replies one level deep, bodies kept as typed, edits and deletes by the author only, a
// parent's deletion taking its replies, counts on the watch page.
#include "people/comments.h"

#include <gtest/gtest.h>

#include "people/community_fixture.h"
#include "projection/community.h"
#include "projection/community_keys.h"
#include "projection/keys.h"
#include "sql/community_store.h"

namespace reel::people {
namespace {

namespace keys = projection::keys;
using projection::CommentPage;
using projection::CommentSort;

class CommentsTest : public testing::CommunityTest {
 protected:
  void SetUp() override {
    CommunityTest::SetUp();
    if (HasFatalFailure()) return;
    bob_ = add_user("bob", "Bob <b>");
    eve_ = add_user("eve", "Eve");
  }

  Result<catalog::Comment> post(int64_t user, int64_t video, std::string_view body, int64_t parent = 0) {
    return run_write(
        [&](writes::Transaction& tx) { return add_comment(tx, user, video, body, parent, now_); });
  }

  catalog::Comment posted(int64_t user, int64_t video, std::string_view body, int64_t parent = 0) {
    auto comment = post(user, video, body, parent);
    EXPECT_TRUE(comment) << comment.error().message;
    return comment ? *comment : catalog::Comment{};
  }

  Status remove(int64_t user, int64_t comment) {
    return run_write([&](writes::Transaction& tx) { return delete_comment(tx, user, comment); });
  }

  Result<catalog::Comment> edit(int64_t user, int64_t comment, std::string_view body) {
    return run_write(
        [&](writes::Transaction& tx) { return edit_comment(tx, user, comment, body, now_ + 60); });
  }

  static std::vector<int64_t> ids(const CommentPage& page) {
    std::vector<int64_t> out;
    for (const auto& comment : page.comments) out.push_back(comment.id);
    return out;
  }

  int64_t stored_count(int64_t video) {
    auto count = sql::CommunityStore(*db_).comment_count(video);
    EXPECT_TRUE(count);
    return count ? *count : -1;
  }

  int64_t projected_count(int64_t video) {
    return call(redis::Command("HGET", keys::video(video), "comments")).integer();
  }

  int64_t bob_ = 0, eve_ = 0;
};

TEST_P(CommentsTest, PagesInBothOrdersWithRepliesOneLevelDeep) {
  std::vector<int64_t> top;  // top-level comments, oldest first
  for (int i = 0; i < 25; ++i)
    top.push_back(posted(i % 2 ? bob_ : eve_, video_, "comment " + std::to_string(i)).id);
  // Replies: three to top[3], one to top[7], two to top[20].
  std::vector<int64_t> replies_of_3;
  for (int i = 0; i < 3; ++i)
    replies_of_3.push_back(posted(bob_, video_, "reply " + std::to_string(i), top[3]).id);
  posted(eve_, video_, "reply to 7", top[7]);
  posted(eve_, video_, "first reply to 20", top[20]);
  posted(bob_, video_, "second reply to 20", top[20]);
  posted(bob_, other_, "elsewhere");

  testing::CommunityTest::Readers readers(server().endpoint());
  auto newest = readers.run(readers.community.comments(video_, CommentSort::newest, 1, 10));
  ASSERT_TRUE(newest) << newest.error().message;
  EXPECT_EQ(newest->total, 25);
  EXPECT_EQ(newest->pages, 3);
  EXPECT_EQ(ids(*newest), std::vector<int64_t>(top.rbegin(), top.rbegin() + 10));
  auto last = readers.run(readers.community.comments(video_, CommentSort::newest, 3, 10));
  ASSERT_TRUE(last);
  EXPECT_EQ(ids(*last), std::vector<int64_t>(top.rbegin() + 20, top.rend()));
  auto past = readers.run(readers.community.comments(video_, CommentSort::newest, 4, 10));
  ASSERT_TRUE(past);
  EXPECT_TRUE(past->comments.empty());
  EXPECT_EQ(past->total, 25);

  // Top: most replies first, then newest.
  auto best = readers.run(readers.community.comments(video_, CommentSort::top, 1, 5));
  ASSERT_TRUE(best);
  EXPECT_EQ(ids(*best), (std::vector<int64_t>{top[3], top[20], top[7], top[24], top[23]}));
  EXPECT_EQ(best->comments[0].replies, 3);
  EXPECT_EQ(best->comments[0].body, "comment 3");
  EXPECT_EQ(best->comments[0].author_name, "bob");
  EXPECT_EQ(best->comments[0].author_display_name, "Bob <b>");
  auto rest = readers.run(readers.community.comments(video_, CommentSort::top, 2, 5));
  ASSERT_TRUE(rest);
  EXPECT_EQ(ids(*rest), (std::vector<int64_t>{top[22], top[21], top[19], top[18], top[17]}));

  // Replies: oldest first, paginated; a reply to a reply joins the top-level comment's thread.
  const int64_t nested = posted(eve_, video_, "reply to a reply", replies_of_3[1]).id;
  auto thread = readers.run(readers.community.replies(video_, top[3], 1, 3));
  ASSERT_TRUE(thread);
  EXPECT_EQ(thread->total, 4);
  EXPECT_EQ(thread->pages, 2);
  EXPECT_EQ(ids(*thread), replies_of_3);
  EXPECT_EQ(thread->comments[0].parent_id, top[3]);
  auto thread_end = readers.run(readers.community.replies(video_, top[3], 2, 3));
  ASSERT_TRUE(thread_end);
  EXPECT_EQ(ids(*thread_end), std::vector<int64_t>{nested});
  EXPECT_EQ(thread_end->comments[0].parent_id, top[3]);

  // Counts: every comment and reply, on the watch page.
  EXPECT_EQ(stored_count(video_), 25 + 7);
  auto page = readers.run(readers.videos.video(video_));
  ASSERT_TRUE(page && *page);
  EXPECT_EQ((*page)->comments, 32);
  EXPECT_EQ(projected_count(other_), 1);
  auto one = readers.run(readers.community.comment(video_, nested));
  ASSERT_TRUE(one && *one);
  EXPECT_EQ((*one)->body, "reply to a reply");
  EXPECT_FALSE(*readers.run(readers.community.comment(other_, nested)));
}

TEST_P(CommentsTest, BodiesAreKeptExactlyAsTyped) {
  const std::string typed = "  <script>alert('x')</script> & \"quotes\"\n\tsecond line, 日本語 🎬 \r\n";
  const int64_t id = posted(bob_, video_, typed).id;
  auto stored = sql::CommunityStore(*db_).find_comment(id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->body, typed);
  testing::CommunityTest::Readers readers(server().endpoint());
  auto read = readers.run(readers.community.comment(video_, id));
  ASSERT_TRUE(read && *read);
  EXPECT_EQ((*read)->body, typed);
  EXPECT_EQ((*read)->author_display_name, "Bob <b>");

  // 5,000 characters (of three bytes each) are fine; 5,001 are not.
  std::string longest;
  for (size_t i = 0; i < max_comment_chars; ++i) longest += "語";
  EXPECT_TRUE(post(bob_, video_, longest));
  for (const std::string& bad :
       {std::string(), std::string(" \n\t "), longest + "a", std::string("bell\x07"), std::string("\xff\xfe"),
        std::string("unit\x1fseparator"), std::string("bidi \xe2\x80\xae override")}) {
    SCOPED_TRACE(bad);
    expect_refused(post(bob_, video_, bad), ErrorKind::invalid_input);
  }
  EXPECT_EQ(stored_count(video_), 2);
  EXPECT_EQ(projected_count(video_), 2);
}

TEST_P(CommentsTest, OnlyTheAuthorEditsOrDeletes) {
  const int64_t id = posted(bob_, video_, "original").id;
  const auto before = testing::dump_redis(*redis_);
  auto edited = edit(eve_, id, "defaced");
  expect_refused(edited, ErrorKind::forbidden);
  Status deleted = remove(eve_, id);
  expect_refused(deleted, ErrorKind::forbidden);
  EXPECT_EQ(testing::dump_redis(*redis_), before);
  auto stored = sql::CommunityStore(*db_).find_comment(id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->body, "original");

  auto own = edit(bob_, id, "corrected");
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ(own->edited_at, now_ + 60);
  testing::CommunityTest::Readers readers(server().endpoint());
  auto read = readers.run(readers.community.comment(video_, id));
  ASSERT_TRUE(read && *read);
  EXPECT_EQ((*read)->body, "corrected");
  EXPECT_EQ((*read)->edited_at, now_ + 60);
  EXPECT_FALSE(edit(bob_, id, ""));  // the same checks as a new comment

  ASSERT_TRUE(remove(bob_, id));
  EXPECT_FALSE(*readers.run(readers.community.comment(video_, id)));
  EXPECT_EQ(projected_count(video_), 0);
  auto again = remove(bob_, id);
  expect_refused(again, ErrorKind::not_found);
}

TEST_P(CommentsTest, DeletingAParentDeletesItsReplies) {
  const int64_t parent = posted(bob_, video_, "parent").id;
  const int64_t kept = posted(eve_, video_, "another").id;
  std::vector<int64_t> replies;
  for (int i = 0; i < 3; ++i) replies.push_back(posted(i == 1 ? bob_ : eve_, video_, "reply", parent).id);
  const int64_t other_reply = posted(bob_, video_, "reply elsewhere", kept).id;
  EXPECT_EQ(projected_count(video_), 6);

  // A reply deleted: its parent's count goes down, and the top order with it.
  ASSERT_TRUE(remove(eve_, replies[2]));
  testing::CommunityTest::Readers readers(server().endpoint());
  auto thread = readers.run(readers.community.replies(video_, parent, 1, 10));
  ASSERT_TRUE(thread);
  EXPECT_EQ(ids(*thread), (std::vector<int64_t>{replies[0], replies[1]}));
  auto parent_read = readers.run(readers.community.comment(video_, parent));
  ASSERT_TRUE(parent_read && *parent_read);
  EXPECT_EQ((*parent_read)->replies, 2);

  ASSERT_TRUE(remove(bob_, parent));
  sql::CommunityStore store(*db_);
  for (int64_t id : {parent, replies[0], replies[1]}) {
    EXPECT_FALSE(store.find_comment(id).value()) << id;
    EXPECT_TRUE(call(redis::Command("HGET", keys::comments(video_), id)).is_nil()) << id;
  }
  auto gone = readers.run(readers.community.replies(video_, parent, 1, 10));
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->total, 0);
  auto left = readers.run(readers.community.comments(video_, CommentSort::top, 1, 10));
  ASSERT_TRUE(left);
  EXPECT_EQ(ids(*left), std::vector<int64_t>{kept});
  EXPECT_EQ(left->comments[0].replies, 1);
  auto elsewhere = readers.run(readers.community.replies(video_, kept, 1, 10));
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(ids(*elsewhere), std::vector<int64_t>{other_reply});
  EXPECT_EQ(stored_count(video_), 2);
  EXPECT_EQ(projected_count(video_), 2);
}

TEST_P(CommentsTest, RefusedComments) {
  const int64_t on_other = posted(bob_, other_, "on the other video").id;
  const auto before = testing::dump_redis(*redis_);
  auto processing = post(bob_, processing_, "early");
  expect_refused(processing, ErrorKind::invalid_input);
  auto missing = post(bob_, 999999, "nowhere");
  expect_refused(missing, ErrorKind::not_found);
  auto no_parent = post(bob_, video_, "orphan", 999999);
  expect_refused(no_parent, ErrorKind::not_found);
  auto cross = post(bob_, video_, "cross", on_other);
  expect_refused(cross, ErrorKind::invalid_input);
  auto no_comment = edit(bob_, 999999, "x");
  expect_refused(no_comment, ErrorKind::not_found);
  EXPECT_EQ(testing::dump_redis(*redis_), before);
  EXPECT_EQ(stored_count(video_), 0);
  testing::CommunityTest::Readers readers(server().endpoint());
  auto bad_page = readers.run(readers.community.comments(video_, CommentSort::newest, 0, 10));
  expect_refused(bad_page, ErrorKind::invalid_input);
}

INSTANTIATE_TEST_SUITE_P(Backends, CommentsTest, sql::testing::all_backends(),
                         sql::testing::backend_test_name);

}  // namespace
}  // namespace reel::people
