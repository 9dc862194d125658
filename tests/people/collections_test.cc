// Favorites and playlists against a real redis-server and SQLite: the writes' SQL and deltas, the
// reads, the video delete path, account deletion, and `reel rebuild` reproducing every key the
// deltas wrote.
#include "people/collections.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "people/collection_fixture.h"
#include "people/favorites.h"
#include "people/playlists.h"
#include "people/subscriptions.h"
#include "projection/collection_keys.h"
#include "projection/keys.h"
#include "sql/collection_store.h"

namespace reel::people {
namespace {

using catalog::VideoStatus;

std::vector<int64_t> ids_of(const std::vector<projection::Card>& cards) {
  std::vector<int64_t> ids;
  for (const auto& card : cards) ids.push_back(card.id);
  return ids;
}

class CollectionsTest : public testing::CollectionTest {
 protected:
  void SetUp() override {
    CollectionTest::SetUp();
    if (HasFatalFailure()) return;
    ann_ = channel("ann");
    bob_ = channel("bob");
    for (int i = 0; i < 6; ++i) videos_.push_back(video("bob", now - 100 + i));
    processing_ = video("bob", now, VideoStatus::processing);
    ASSERT_NO_FATAL_FAILURE(rebuild());
  }

  Result<bool> favorite(int64_t user, int64_t video_id, int64_t at) {
    return write([&](writes::Transaction& tx) { return add_favorite(tx, user, video_id, at); });
  }

  int64_t create(int64_t user, std::string_view title, bool is_public) {
    auto id =
        write([&](writes::Transaction& tx) { return create_playlist(tx, user, title, is_public, now); });
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }

  Result<bool> add(int64_t user, int64_t playlist, int64_t video_id) {
    return write([&](writes::Transaction& tx) { return add_to_playlist(tx, user, playlist, video_id, now); });
  }

  Status reorder(int64_t user, int64_t playlist, const std::vector<int64_t>& order) {
    return write([&](writes::Transaction& tx) { return reorder_playlist(tx, user, playlist, order, now); });
  }

  std::optional<PlaylistPage> playlist_page(int64_t playlist, int64_t viewer, int page = 1,
                                            int per_page = 30) {
    return read(read_playlist(*connection_, playlist, viewer, page, per_page));
  }

  std::vector<int64_t> sql_order(int64_t playlist) {
    auto items = sql::CollectionStore(*db_).items(playlist, false);
    EXPECT_TRUE(items);
    std::vector<int64_t> out;
    if (items) {
      for (const auto& item : *items) out.push_back(item.video_id);
    }
    return out;
  }

  int64_t ann_ = 0, bob_ = 0, processing_ = 0;
  std::vector<int64_t> videos_;
};

TEST_P(CollectionsTest, FavoritesAreIdempotentAndListedNewestFirst) {
  for (int i = 0; i < 3; ++i) {
    auto added = favorite(ann_, videos_[i], now + i);
    ASSERT_TRUE(added) << added.error().message;
    EXPECT_TRUE(*added);
  }
  auto again = favorite(ann_, videos_[1], now + 50);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);  // already one: its time stays, so it keeps its place

  CardPage page = read(read_favorites(*connection_, ann_, 1, 30));
  EXPECT_EQ(ids_of(page.cards), (std::vector<int64_t>{videos_[2], videos_[1], videos_[0]}));
  EXPECT_EQ(page.total, 3);
  EXPECT_TRUE(read(is_favorite(*connection_, ann_, videos_[1])));
  EXPECT_FALSE(read(is_favorite(*connection_, bob_, videos_[1])));

  for (bool expected : {true, false}) {
    auto removed = write([&](writes::Transaction& tx) { return remove_favorite(tx, ann_, videos_[1]); });
    ASSERT_TRUE(removed);
    EXPECT_EQ(*removed, expected);
  }
  page = read(read_favorites(*connection_, ann_, 1, 30));
  EXPECT_EQ(ids_of(page.cards), (std::vector<int64_t>{videos_[2], videos_[0]}));
  EXPECT_FALSE(read(is_favorite(*connection_, ann_, videos_[1])));
  auto time = sql::CollectionStore(*db_).favorite_time(ann_, videos_[1]);
  ASSERT_TRUE(time);
  EXPECT_FALSE(*time);
}

TEST_P(CollectionsTest, FavoritesArePaginated) {
  for (size_t i = 0; i < videos_.size(); ++i)
    ASSERT_TRUE(favorite(ann_, videos_[i], now + static_cast<int64_t>(i)));
  CardPage last = read(read_favorites(*connection_, ann_, 2, 4));
  EXPECT_EQ(last.total, 6);
  EXPECT_EQ(last.pages, 2);
  EXPECT_EQ(ids_of(last.cards), (std::vector<int64_t>{videos_[1], videos_[0]}));
  auto bad = testing::run_task(io_, read_favorites(*connection_, ann_, 0, 4));
  ASSERT_TRUE(bad);
  ASSERT_FALSE(*bad);
  EXPECT_EQ(bad->error().kind, ErrorKind::invalid_input);
}

TEST_P(CollectionsTest, AVideoThatIsNotReadyCannotBeCollected) {
  for (int64_t id : {processing_, int64_t{987654}}) {
    auto refused = favorite(ann_, id, now);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::not_found) << refused.error().message;
    const int64_t playlist = create(ann_, "Mix", true);
    auto not_added = add(ann_, playlist, id);
    ASSERT_FALSE(not_added);
    EXPECT_EQ(not_added.error().kind, ErrorKind::not_found);
  }
  EXPECT_EQ(read(read_favorites(*connection_, ann_, 1, 30)).total, 0);
}

TEST_P(CollectionsTest, PlaylistTitlesAreChecked) {
  const std::string long_title(151 * 2, 'x');
  for (std::string_view bad :
       {std::string_view(""), std::string_view("   "), std::string_view("a\nb"),
        std::string_view("bad \xff utf8"), std::string_view(long_title).substr(0, 151)}) {
    auto refused = write([&](writes::Transaction& tx) { return create_playlist(tx, ann_, bad, true, now); });
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().kind, ErrorKind::invalid_input);
  }
  std::string longest;
  for (int i = 0; i < 150; ++i) longest += "é";
  const int64_t id = create(ann_, "  " + longest + " ", false);
  auto page = playlist_page(id, ann_);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->playlist.title, longest);
  EXPECT_EQ(page->playlist.owner_name, "ann");
  EXPECT_FALSE(page->playlist.is_public);
}

TEST_P(CollectionsTest, PlaylistKeepsItsOrderAndReordersByPermutation) {
  const int64_t id = create(ann_, "Mix", true);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(add(ann_, id, videos_[i]));
  auto again = add(ann_, id, videos_[0]);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  auto page = playlist_page(id, 0);
  ASSERT_TRUE(page);
  EXPECT_EQ(ids_of(page->items.cards), (std::vector<int64_t>(videos_.begin(), videos_.begin() + 5)));

  const std::vector<int64_t> order{videos_[4], videos_[2], videos_[0], videos_[1], videos_[3]};
  auto reordered = reorder(ann_, id, order);
  ASSERT_TRUE(reordered) << reordered.error().message;
  EXPECT_EQ(ids_of(playlist_page(id, 0)->items.cards), order);
  EXPECT_EQ(sql_order(id), order);

  // Each is refused, and leaves the order as it was: one missing, one twice, one not in it, one extra.
  const std::vector<std::vector<int64_t>> bad{
      {videos_[4], videos_[2], videos_[0], videos_[1]},
      {videos_[4], videos_[2], videos_[0], videos_[1], videos_[1]},
      {videos_[4], videos_[2], videos_[0], videos_[1], videos_[5]},
      {videos_[4], videos_[2], videos_[0], videos_[1], videos_[3], videos_[5]},
      {}};
  for (const auto& wrong : bad) {
    auto refused = reorder(ann_, id, wrong);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::invalid_input) << refused.error().message;
  }
  EXPECT_EQ(ids_of(playlist_page(id, 0)->items.cards), order);
  EXPECT_EQ(sql_order(id), order);

  // A removal keeps the others' order; a later add goes last.
  ASSERT_TRUE(
      write([&](writes::Transaction& tx) { return remove_from_playlist(tx, ann_, id, videos_[2], now); }));
  ASSERT_TRUE(add(ann_, id, videos_[2]));
  const std::vector<int64_t> after{videos_[4], videos_[0], videos_[1], videos_[3], videos_[2]};
  EXPECT_EQ(ids_of(playlist_page(id, 0)->items.cards), after);
  EXPECT_EQ(sql_order(id), after);
  auto second = playlist_page(id, 0, 2, 2);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->items.total, 5);
  EXPECT_EQ(second->items.pages, 3);
  EXPECT_EQ(ids_of(second->items.cards), (std::vector<int64_t>{videos_[1], videos_[3]}));
}

TEST_P(CollectionsTest, APrivatePlaylistIsReadableAndChangeableOnlyByItsOwner) {
  const int64_t id = create(ann_, "Secret", false);
  ASSERT_TRUE(add(ann_, id, videos_[0]));
  EXPECT_TRUE(playlist_page(id, ann_));
  EXPECT_FALSE(playlist_page(id, bob_));
  EXPECT_FALSE(playlist_page(id, 0));
  EXPECT_EQ(read(read_user_playlists(*connection_, ann_, ann_, 1, 30)).total, 1);
  EXPECT_EQ(read(read_user_playlists(*connection_, ann_, bob_, 1, 30)).total, 0);

  auto hidden = add(bob_, id, videos_[1]);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().kind, ErrorKind::not_found);

  ASSERT_TRUE(write([&](writes::Transaction& tx) { return set_playlist_public(tx, ann_, id, true, now); }));
  auto shown = playlist_page(id, bob_);
  ASSERT_TRUE(shown);
  EXPECT_EQ(ids_of(shown->items.cards), std::vector<int64_t>{videos_[0]});
  PlaylistList listed = read(read_user_playlists(*connection_, ann_, bob_, 1, 30));
  ASSERT_EQ(listed.playlists.size(), 1u);
  EXPECT_EQ(listed.playlists[0].playlist.title, "Secret");
  EXPECT_EQ(listed.playlists[0].items, 1);

  for (auto attempt : std::vector<std::function<Status(writes::Transaction&)>>{
           [&](writes::Transaction& tx) { return rename_playlist(tx, bob_, id, "Mine now", now); },
           [&](writes::Transaction& tx) { return reorder_playlist(tx, bob_, id, {videos_[0]}, now); },
           [&](writes::Transaction& tx) { return delete_playlist(tx, bob_, id); }}) {
    auto refused = write(attempt);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::forbidden);
  }
  EXPECT_EQ(playlist_page(id, bob_)->playlist.title, "Secret");

  ASSERT_TRUE(write([&](writes::Transaction& tx) { return rename_playlist(tx, ann_, id, "Open", now); }));
  EXPECT_EQ(playlist_page(id, bob_)->playlist.title, "Open");
  ASSERT_TRUE(write([&](writes::Transaction& tx) { return delete_playlist(tx, ann_, id); }));
  EXPECT_FALSE(playlist_page(id, ann_));
  EXPECT_EQ(read(read_user_playlists(*connection_, ann_, ann_, 1, 30)).total, 0);
  EXPECT_TRUE(zrange(projection::keys::playlist_items(id)).empty());
}

TEST_P(CollectionsTest, APlaylistHoldsAtMostItsCap) {
  std::vector<int64_t> many;
  ASSERT_TRUE(db_->begin());
  for (int64_t i = 0; i <= max_playlist_items; ++i) many.push_back(video("ann", now - 10000 + i));
  ASSERT_TRUE(db_->commit());
  const int64_t id = create(ann_, "Huge", true);
  auto filled = write([&](writes::Transaction& tx) -> Status {
    for (int64_t i = 0; i < max_playlist_items; ++i) {
      if (auto added = add_to_playlist(tx, ann_, id, many[static_cast<size_t>(i)], now); !added) {
        return added.error();
      }
    }
    return {};
  });
  ASSERT_TRUE(filled) << filled.error().message;
  auto refused = add(ann_, id, many.back());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(refused.error().message.find("full"), std::string::npos);
  EXPECT_EQ(static_cast<int64_t>(zrange(projection::keys::playlist_items(id)).size()), max_playlist_items);
}

TEST_P(CollectionsTest, ADeletedVideoLeavesCollectionsAndReadsSkipMissingCards) {
  const int64_t id = create(ann_, "Mix", true);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(add(ann_, id, videos_[i]));
    ASSERT_TRUE(favorite(ann_, videos_[i], now + i));
    ASSERT_TRUE(favorite(bob_, videos_[i], now + i));
  }
  // The card is gone (the delete path's withdraw) before the lists are cleaned: reads skip it.
  ASSERT_TRUE(redis_->execute(redis::Command("DEL", projection::keys::card(videos_[1]))));
  CardPage favorites = read(read_favorites(*connection_, ann_, 1, 30));
  EXPECT_EQ(ids_of(favorites.cards), (std::vector<int64_t>{videos_[2], videos_[0]}));
  EXPECT_EQ(ids_of(playlist_page(id, 0)->items.cards), (std::vector<int64_t>{videos_[0], videos_[2]}));

  auto commands = video_removal_commands(*db_, videos_[1]);
  ASSERT_TRUE(commands) << commands.error().message;
  EXPECT_EQ(commands->size(), 3u);  // two favorites, one playlist
  ASSERT_TRUE(redis_->execute(std::move(*commands)));
  auto deleted = store_->delete_video(videos_[1]);
  ASSERT_TRUE(deleted && *deleted);
  EXPECT_EQ(read(read_favorites(*connection_, ann_, 1, 30)).total, 2);
  EXPECT_EQ(read(read_favorites(*connection_, bob_, 1, 30)).total, 2);
  EXPECT_EQ(playlist_page(id, 0)->items.total, 2);
  EXPECT_EQ(sql_order(id), (std::vector<int64_t>{videos_[0], videos_[2]}));  // the cascade
}

TEST_P(CollectionsTest, AccountDeletionTakesEveryCollectionAway) {
  const int64_t cat = channel("cat");
  ASSERT_TRUE(favorite(ann_, videos_[0], now));
  const int64_t playlist = create(ann_, "Mix", true);
  ASSERT_TRUE(add(ann_, playlist, videos_[0]));
  ASSERT_TRUE(write([&](writes::Transaction& tx) { return subscribe(tx, ann_, "bob", now); }));
  ASSERT_TRUE(write([&](writes::Transaction& tx) { return subscribe(tx, cat, "ann", now); }));
  ASSERT_TRUE(write([&](writes::Transaction& tx) { return subscribe(tx, cat, "bob", now); }));

  auto removed = write([&](writes::Transaction& tx) { return remove_user_collections(tx, ann_); });
  ASSERT_TRUE(removed) << removed.error().message;

  sql::CollectionStore collections(*db_);
  EXPECT_EQ(*collections.count_playlists(ann_), 0);
  EXPECT_EQ(*collections.count_subscriptions(ann_), 0);
  EXPECT_TRUE(collections.subscriptions_to(ann_)->empty());
  EXPECT_EQ(*collections.subscribers(bob_), 1);
  EXPECT_EQ(*collections.subscribers(ann_), 0);
  EXPECT_EQ(read(read_favorites(*connection_, ann_, 1, 30)).total, 0);
  EXPECT_FALSE(playlist_page(playlist, ann_));
  EXPECT_EQ(read(read_user_playlists(*connection_, ann_, ann_, 1, 30)).total, 0);
  EXPECT_EQ(read(read_subscribers(*connection_, "bob")), 1);
  EXPECT_EQ(read(read_subscribers(*connection_, "ann")), 0);
  EXPECT_EQ(zrange(projection::keys::subscriptions(cat)), std::vector<std::string>{"bob"});
  EXPECT_TRUE(zrange(projection::keys::subscriptions(ann_)).empty());
}

TEST_P(CollectionsTest, RebuildReproducesWhatTheDeltasWrote) {
  const int64_t cat = channel("cat");
  const int64_t dan = channel("dan");
  ASSERT_NO_FATAL_FAILURE(rebuild());  // the new channels' hashes
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(favorite(ann_, videos_[i], now + i));
    ASSERT_TRUE(favorite(cat, videos_[i], now + 10 - i));
  }
  ASSERT_TRUE(write([&](writes::Transaction& tx) { return remove_favorite(tx, ann_, videos_[2]); }));
  const int64_t mix = create(ann_, "Mix", true);
  const int64_t secret = create(ann_, "Secret", false);
  const int64_t gone = create(cat, "Gone", true);
  const int64_t flipped = create(cat, "Flipped", true);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(add(ann_, mix, videos_[i]));
    ASSERT_TRUE(add(ann_, secret, videos_[5 - i]));
    ASSERT_TRUE(add(cat, gone, videos_[i]));
  }
  ASSERT_TRUE(reorder(ann_, mix, {videos_[3], videos_[1], videos_[4], videos_[0], videos_[2]}));
  ASSERT_TRUE(write(
      [&](writes::Transaction& tx) { return remove_from_playlist(tx, ann_, secret, videos_[3], now); }));
  ASSERT_TRUE(
      write([&](writes::Transaction& tx) { return rename_playlist(tx, ann_, secret, "Renamed", now); }));
  ASSERT_TRUE(
      write([&](writes::Transaction& tx) { return set_playlist_public(tx, cat, flipped, false, now); }));
  ASSERT_TRUE(write([&](writes::Transaction& tx) { return delete_playlist(tx, cat, gone); }));
  for (int64_t user : {ann_, cat, dan}) {
    ASSERT_TRUE(write([&](writes::Transaction& tx) { return subscribe(tx, user, "bob", now + user); }));
  }
  ASSERT_TRUE(write([&](writes::Transaction& tx) { return subscribe(tx, ann_, "cat", now); }));
  ASSERT_TRUE(write([&](writes::Transaction& tx) { return subscribe(tx, dan, "ann", now); }));
  ASSERT_TRUE(write([&](writes::Transaction& tx) { return unsubscribe(tx, cat, "bob"); }));
  ASSERT_TRUE(write([&](writes::Transaction& tx) { return remove_user_collections(tx, dan); }));

  const auto written = snapshot("feed:");
  EXPECT_GT(written.size(), 20u);
  // Stale keys of every family, and a list that lost a member: the rebuild puts each right.
  ASSERT_TRUE(redis_->execute(std::vector<redis::Command>{
      redis::Command("ZADD", projection::keys::favorites(999), 1, 1),
      redis::Command("SET", projection::keys::playlist(999), "x"),
      redis::Command("ZADD", projection::keys::playlist_items(999), 1, 1),
      redis::Command("ZADD", projection::keys::user_playlists(999), 1, 999),
      redis::Command("ZADD", projection::keys::subscriptions(999), 1, "bob"),
      redis::Command("ZREM", projection::keys::playlist_items(mix), videos_[4]),
      redis::Command("HSET", projection::keys::channel("bob"), "subscribers", 77)}));
  ASSERT_NO_FATAL_FAILURE(rebuild());
  EXPECT_EQ(snapshot("feed:"), written);
}

INSTANTIATE_TEST_SUITE_P(Backends, CollectionsTest, sql::testing::all_backends(),
                         sql::testing::backend_test_name);

}  // namespace
}  // namespace reel::people
