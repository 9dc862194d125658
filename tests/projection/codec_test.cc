#include "projection/codec.h"

#include <gtest/gtest.h>

#include "projection/keys.h"

namespace reel::projection {
namespace {

// Fields joined as a card packs them.
std::string fields(std::initializer_list<std::string_view> parts) {
  std::string out;
  bool first = true;
  for (std::string_view part : parts) {
    if (!first) out += '\x1f';
    out += part;
    first = false;
  }
  return out;
}

catalog::Video sample_video() {
  catalog::Video v;
  v.id = 42;
  v.title = "Cats & \"Dogs\" <live>\x1f\n日本";
  v.slug = "cats-dogs-live";
  v.description = "line one\nline two";
  v.duration_s = 754;
  v.published_at = 1795824000;
  v.channel_name = "aurora";
  v.tags = {"cats", "dogs"};
  v.categories = {"pets-animals", "comedy"};
  v.likes = 30;
  v.dislikes = 10;
  v.comments = 4;
  v.files = {{"mp4", 360, "demo/a-360.mp4", 10, "video/mp4"},
             {"mp4", 720, "demo/a-720.mp4", 10, "video/mp4"},
             {"thumb", 180, "demo/a-thumb.jpg", 1, "image/jpeg"},
             {"poster", 360, "demo/a-poster.jpg", 1, "image/jpeg"},
             {"hls", 720, "videos/42/hls/master.m3u8", 1, "application/vnd.apple.mpegurl"},
             {"sprite", 0, "videos/42/sprite.jpg", 1, "image/jpeg"},
             {"sprite", 0, "videos/42/sprite.vtt", 1, "text/vtt"},
             {"preview", 240, "videos/42/preview.mp4", 1, "video/mp4"}};
  return v;
}

TEST(Codec, CardRoundTripCleansControlCharacters) {
  auto card = codec::decode_card(codec::encode_card(sample_video(), "Aurora Studio"));
  ASSERT_TRUE(card);
  EXPECT_EQ(card->id, 42);
  EXPECT_EQ(card->title, "Cats & \"Dogs\" <live>  日本");
  EXPECT_EQ(card->slug, "cats-dogs-live");
  EXPECT_EQ(card->duration_s, 754);
  EXPECT_EQ(card->published_at, 1795824000);
  EXPECT_EQ(card->thumb_url, "/media/demo/a-thumb.jpg");
  EXPECT_EQ(card->channel_name, "aurora");
  EXPECT_EQ(card->channel_display_name, "Aurora Studio");
  EXPECT_DOUBLE_EQ(card->rating, 75.0);
  EXPECT_EQ(card->preview_url, "/media/videos/42/preview.mp4");
}

TEST(Codec, ViewCountIsAFixedWidthPrefixAnAggregatorCanOverwrite) {
  auto video = sample_video();
  video.views = 1234;
  std::string packed = codec::encode_card(video, "Aurora");
  EXPECT_EQ(packed.substr(0, codec::views_width), "000000001234");
  packed.replace(0, codec::views_width, codec::views_field(98765));  // what SETRANGE card 0 ... does
  auto card = codec::decode_card(packed);
  ASSERT_TRUE(card);
  EXPECT_EQ(card->views, 98765);
  EXPECT_EQ(card->title, "Cats & \"Dogs\" <live>  日本");
  EXPECT_EQ(codec::views_field(-5), "000000000000");
}

TEST(Codec, CardsCarryAStampOfTheirPackedValue) {
  auto video = sample_video();
  const std::string packed = codec::encode_card(video, "Aurora");
  auto card = codec::decode_card(packed);
  auto again = codec::decode_card(packed);
  video.views = 7;
  auto counted = codec::decode_card(codec::encode_card(video, "Aurora"));
  ASSERT_TRUE(card && again && counted);
  EXPECT_NE(card->stamp, 0u);
  EXPECT_EQ(card->stamp, again->stamp);
  EXPECT_TRUE(card->same_as(*again));
  EXPECT_NE(card->stamp, counted->stamp);
  EXPECT_FALSE(card->same_as(*counted));
  Card built = *card;
  built.stamp = 0;  // built by hand: compared field by field (a stamp counts as a field)
  Card twin = built;
  EXPECT_TRUE(built.same_as(twin));
  EXPECT_FALSE(built.same_as(*card));
  twin.title = "other";
  EXPECT_FALSE(built.same_as(twin));
}

TEST(Codec, RatingIsAFixedWidthFieldAVoteOverwritesInPlace) {
  auto video = sample_video();
  video.views = 1234;
  std::string packed = codec::encode_card(video, "Aurora");
  EXPECT_EQ(packed.substr(codec::rating_offset, codec::rating_width), "075.0");
  // What the vote's SETRANGE card rating_offset ... does, after the aggregator's SETRANGE card 0 ...
  packed.replace(0, codec::views_width, codec::views_field(98765));
  packed.replace(codec::rating_offset, codec::rating_width, codec::rating_field(2, 1));
  auto card = codec::decode_card(packed);
  ASSERT_TRUE(card);
  EXPECT_EQ(card->views, 98765);
  EXPECT_DOUBLE_EQ(card->rating, 66.6);  // truncated to one decimal
  EXPECT_EQ(card->title, "Cats & \"Dogs\" <live>  日本");
  video.likes = 2;
  video.dislikes = 1;
  video.views = 98765;
  EXPECT_EQ(packed, codec::encode_card(video, "Aurora")) << "in place is the same as re-encoded";

  packed.replace(codec::rating_offset, codec::rating_width, codec::rating_field(0, 0));
  EXPECT_EQ(codec::decode_card(packed)->rating, -1);
  packed.replace(codec::rating_offset, codec::rating_width, codec::rating_field(5, 0));
  EXPECT_DOUBLE_EQ(codec::decode_card(packed)->rating, 100.0);
  EXPECT_EQ(codec::rating_field(0, 9), "000.0");
}

TEST(Codec, GarbageAndOlderLayoutsAreNotACard) {
  EXPECT_FALSE(codec::decode_card(""));
  EXPECT_FALSE(
      codec::decode_card("1\x1f"
                         "2"));
  // One field too many.
  EXPECT_FALSE(codec::decode_card(
      fields({"000000000007", "075.0", "1", "t", "s", "3", "4", "u", "c", "d", "p", "x"})));
  // The layout before the rating moved next to the count: the id stands where the rating is.
  EXPECT_FALSE(
      codec::decode_card(fields({"000000000007", "1", "t", "s", "3", "4", "u", "c", "d", "-10", "p"})));
  EXPECT_FALSE(
      codec::decode_card(fields({"000000000007", "12345", "t", "s", "3", "4", "u", "c", "d", "750", "p"})));
  auto card =
      codec::decode_card(fields({"000000000007", "-----", "1", "t", "s", "3", "4", "u", "c", "d", ""}));
  ASSERT_TRUE(card);
  EXPECT_EQ(card->id, 1);
  EXPECT_EQ(card->rating, -1);
  EXPECT_EQ(card->preview_url, "");
}

TEST(Codec, NavRoundTrip) {
  std::vector<catalog::Category> categories{{1, "music", "Music", 0},
                                            {2, "science-tech", "Science & Tech", 1}};
  auto nav = codec::decode_nav(codec::encode_nav(categories));
  ASSERT_EQ(nav.size(), 2u);
  EXPECT_EQ(nav[1].slug, "science-tech");
  EXPECT_EQ(nav[1].name, "Science & Tech");
  EXPECT_TRUE(codec::decode_nav("").empty());
}

TEST(Codec, VideoHashRoundTrip) {
  std::vector<std::string> flat;
  for (auto& [field, value] : codec::video_hash(sample_video(), "Aurora Studio")) {
    flat.push_back(field);
    flat.push_back(value);
  }
  std::vector<std::string_view> views(flat.begin(), flat.end());
  auto page = codec::decode_video_hash(views, {{"comedy", "Comedy"}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->id, 42);
  EXPECT_EQ(page->description, "line one\nline two");
  EXPECT_EQ(page->channel_display_name, "Aurora Studio");
  EXPECT_EQ(page->tags, (std::vector<std::string>{"cats", "dogs"}));
  ASSERT_EQ(page->categories.size(), 2u);
  EXPECT_EQ(page->categories[0].name, "pets-animals");  // not in nav: the slug stands in
  EXPECT_EQ(page->categories[1].name, "Comedy");
  ASSERT_EQ(page->files.size(), 2u);
  EXPECT_EQ(page->files[0].height, 720);  // highest first
  EXPECT_EQ(page->files[0].url, "/media/demo/a-720.mp4");
  EXPECT_EQ(page->poster_url, "/media/demo/a-poster.jpg");
  EXPECT_EQ(page->hls_url, "/media/videos/42/hls/master.m3u8");
  EXPECT_EQ(page->sprite_vtt_url, "/media/videos/42/sprite.vtt");
  EXPECT_EQ(page->preview_url, "/media/videos/42/preview.mp4");
  EXPECT_DOUBLE_EQ(page->rating, 75.0);
  EXPECT_EQ(page->likes, 30);
  EXPECT_EQ(page->comments, 4);
}

TEST(Codec, EmptyHashIsNoVideo) {
  EXPECT_FALSE(codec::decode_video_hash({}, {}));
}

TEST(Codec, RatingWithoutVotesIsUnknown) {
  EXPECT_EQ(codec::rating(0, 0), -1);
  EXPECT_DOUBLE_EQ(codec::rating(1, 3), 25.0);
  EXPECT_EQ(codec::rating_score(0, 0), -1);
}

TEST(Codec, RatingScoreIsTheWilsonLowerBound) {
  // Reference values: (p + z²/2n − z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.96.
  EXPECT_NEAR(codec::rating_score(3, 0), 0.43850, 1e-5);
  EXPECT_NEAR(codec::rating_score(9000, 100), 0.98665, 1e-5);
  EXPECT_NEAR(codec::rating_score(1, 0), 0.20655, 1e-5);
  EXPECT_NEAR(codec::rating_score(30, 10), 0.59806, 1e-5);
  EXPECT_DOUBLE_EQ(codec::rating_score(0, 5), 0.0);
  // Few votes do not outrank many: 3/0 below 9,000/100, though it is 100% liked.
  EXPECT_LT(codec::rating_score(3, 0), codec::rating_score(9000, 100));
  EXPECT_GT(codec::rating(3, 0), codec::rating(9000, 100));
  // More evidence for the same share ranks higher; any vote ranks above none.
  EXPECT_LT(codec::rating_score(8, 2), codec::rating_score(80, 20));
  EXPECT_GT(codec::rating_score(0, 1), codec::rating_score(0, 0));
  for (int64_t likes : {0, 1, 7, 500, 1000000}) {
    for (int64_t dislikes : {0, 1, 3, 900, 2000000}) {
      if (likes + dislikes == 0) continue;
      const double score = codec::rating_score(likes, dislikes);
      EXPECT_GE(score, 0.0);
      EXPECT_LE(score, codec::rating(likes, dislikes) / 100 + 1e-12) << likes << "/" << dislikes;
    }
  }
}

TEST(Keys, ListNames) {
  using keys::list;
  EXPECT_EQ(list({ListKind::all, {}}, Sort::newest), "z:new");
  EXPECT_EQ(list({ListKind::all, {}}, Sort::views, Period::day, 20261128), "z:views:day:20261128");
  EXPECT_EQ(list({ListKind::category, "music"}, Sort::views, Period::week), "z:cat:music:views:week");
  EXPECT_EQ(list({ListKind::tag, "cats"}, Sort::newest), "z:tag:cats:new");
  EXPECT_EQ(list({ListKind::channel, "bob"}, Sort::rating), "z:ch:bob:rating");
}

}  // namespace
}  // namespace reel::projection
