// The API's documents with cards: written directly (api/json.cc), they must be the bytes nlohmann
// writes for the same objects, which is what the API answered before and what clients read.
#include "api/json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "pages/renderer.h"

namespace reel::api {
namespace {

using nlohmann::json;

// The cards as nlohmann objects: the writing the direct one replaced, kept here as the oracle.
json oracle_cards(const std::vector<projection::Card>& cards) {
  json out = json::array();
  for (const auto& card : cards) {
    out.push_back({{"id", card.id},
                   {"title", card.title},
                   {"slug", card.slug},
                   {"url", pages::watch_path(card.id, card.slug)},
                   {"duration", card.duration_s},
                   {"views", card.views},
                   {"rating", card.rating < 0 ? json(nullptr) : json(card.rating)},
                   {"published_at", card.published_at},
                   {"thumbnail", card.thumb_url},
                   {"channel", {{"name", card.channel_name}, {"display_name", card.channel_display_name}}}});
  }
  return out;
}

std::string oracle_dump(const json& document) {
  return document.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Text of every kind a title or a name can hold: plain, quotes and backslashes, control
// characters, DEL, UTF-8 (accents, RTL, CJK, emoji, combining marks) and invalid UTF-8.
std::vector<std::string> texts() {
  return {"",
          "Funny cats",
          "say \"hi\" \\ back/slash",
          "tab\there\nnew line\r\x01\x1f",
          "del\x7f",
          "Café crème – été",
          "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",
          "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe5\x8b\x95\xe7\x94\xbb",
          "\xf0\x9f\x8e\xb8 guitar",
          "e\xcc\x81",
          "bad \xff\xfe utf8 \xc3",
          "\xe2\x80\xae reversed",
          "<script>alert(1)</script>"};
}

std::vector<projection::Card> cards() {
  const std::vector<std::string> text = texts();
  const std::vector<double> ratings = {-1, 0, 50, 100, 66.66666666666667, 33.3, 99.99, 1e-7, 12.5};
  std::mt19937 pick(7);
  std::vector<projection::Card> out;
  for (size_t i = 0; i < 60; ++i) {
    projection::Card card;
    card.id = i == 0 ? INT64_MAX : static_cast<int64_t>(i * 7919);
    card.title = text[i % text.size()];
    card.slug = i % 3 == 0 ? "funny-cats" : text[pick() % text.size()];
    card.duration_s = i == 1 ? INT32_MAX : static_cast<int32_t>(i * 61);
    card.views = i == 2 ? 0 : static_cast<int64_t>(pick());
    card.rating = ratings[i % ratings.size()];
    card.published_at = 1'800'000'000 + static_cast<int64_t>(i);
    card.thumb_url = i % 2 ? "/media/thumbs/1/thumb.jpg" : text[pick() % text.size()];
    card.channel_name = text[pick() % text.size()];
    card.channel_display_name = text[(i + 3) % text.size()];
    out.push_back(std::move(card));
  }
  return out;
}

TEST(ApiJson, CardsAreWrittenAsNlohmannWritesThem) {
  const auto all = cards();
  // One card at a time, so a difference names its card.
  for (size_t i = 0; i < all.size(); ++i) {
    const std::vector<projection::Card> one{all[i]};
    EXPECT_EQ(cards_document(one, 1, 1, 1),
              oracle_dump({{"videos", oracle_cards(one)}, {"total", 1}, {"page", 1}, {"pages", 1}}))
        << "card " << i << ": " << all[i].title;
  }
  EXPECT_EQ(cards_document(all, 60, 2, 3),
            oracle_dump({{"videos", oracle_cards(all)}, {"total", 60}, {"page", 2}, {"pages", 3}}));
  EXPECT_EQ(cards_document({}, 0, 1, 0),
            oracle_dump({{"videos", json::array()}, {"total", 0}, {"page", 1}, {"pages", 0}}));
}

TEST(ApiJson, EveryDocumentWithCardsKeepsItsFields) {
  const auto all = cards();
  projection::Listing listing;
  listing.cards = all;
  listing.page = 2;
  listing.pages = 9;
  listing.total = 500;
  projection::ListQuery query;
  EXPECT_EQ(listing_document(listing, query), oracle_dump({{"sort", projection::sort_name(query.sort)},
                                                           {"period", projection::period_name(query.period)},
                                                           {"page", 2},
                                                           {"pages", 9},
                                                           {"total", 500},
                                                           {"per_page", query.per_page},
                                                           {"videos", oracle_cards(all)}}));

  projection::SearchResults results;
  results.cards = all;
  results.total = 6400;
  results.approximate = true;
  results.page = 1;
  results.pages = 42;
  for (const std::optional<std::string>& suggestion :
       {std::optional<std::string>(), std::optional<std::string>("guitar \"lessons\"")}) {
    EXPECT_EQ(search_document(results, suggestion),
              oracle_dump({{"videos", oracle_cards(all)},
                           {"total", 6400},
                           {"total_approximate", true},
                           {"page", 1},
                           {"pages", 42},
                           {"suggestion", suggestion ? json(*suggestion) : json(nullptr)}}));
  }

  catalog::Playlist playlist;
  playlist.id = 5;
  playlist.title = "Mix \"one\"";
  playlist.is_public = true;
  playlist.owner_name = "ann";
  playlist.created_at = 1'800'000'000;
  const json about = {{"id", 5},
                      {"title", playlist.title},
                      {"public", true},
                      {"owner", "ann"},
                      {"created_at", 1'800'000'000}};
  EXPECT_EQ(
      playlist_document(playlist, all, 60, 1, 3),
      oracle_dump(
          {{"playlist", about}, {"videos", oracle_cards(all)}, {"total", 60}, {"page", 1}, {"pages", 3}}));

  projection::VideoPage video;
  video.id = 9;
  video.title = "A \"video\"";
  video.related = all;
  const json document = json::parse(video_document(video));
  EXPECT_EQ(oracle_dump(document.at("related")), oracle_dump(oracle_cards(all)));
}

}  // namespace
}  // namespace reel::api
