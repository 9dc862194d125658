#include "pages/card_cache.h"

#include <gtest/gtest.h>

namespace reel::pages {
namespace {

projection::Card card(int64_t id, std::string title = "A title") {
  projection::Card c;
  c.id = id;
  c.title = std::move(title);
  c.views = 10;
  return c;
}

TEST(CardCache, ReusesHtmlOnlyForTheSameFieldsAndAge) {
  CardCache cache(100);
  cache.begin_page(1);
  EXPECT_EQ(cache.find(card(1), "1 day ago"), nullptr);
  cache.store(card(1), "1 day ago", "<html 1>");
  cache.begin_page(1);
  const std::string* hit = cache.find(card(1), "1 day ago");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(*hit, "<html 1>");
  EXPECT_EQ(cache.find(card(1), "2 days ago"), nullptr);  // the age text moved on
  EXPECT_EQ(cache.find(card(1, "Renamed"), "1 day ago"), nullptr);
  auto more_views = card(1);
  more_views.views = 11;
  EXPECT_EQ(cache.find(more_views, "1 day ago"), nullptr);
  EXPECT_EQ(cache.hits(), 1u);
}

TEST(CardCache, AnotherRendererStartsEmpty) {
  CardCache cache(100);
  cache.begin_page(1);
  cache.store(card(1), "now", "<from renderer 1>");
  cache.begin_page(2);
  EXPECT_EQ(cache.find(card(1), "now"), nullptr);
}

TEST(CardCache, EmptiesBetweenPagesWhenOverCapacity) {
  CardCache cache(2);
  cache.begin_page(1);
  for (int64_t id = 1; id <= 3; ++id) cache.store(card(id), "now", "x");
  EXPECT_EQ(cache.size(), 3u);  // never emptied in the middle of a page
  cache.begin_page(1);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(CardCache, ViewsHandedOutDuringAPageStayValid) {
  CardCache cache(100);
  cache.begin_page(1);
  const std::string& first = cache.store(card(1), "now", "<first>");
  // The same video again on this page, with other fields: the first view must not change.
  const std::string& second = cache.store(card(1, "Other"), "now", "<second>");
  EXPECT_EQ(first, "<first>");
  EXPECT_EQ(second, "<second>");
}

}  // namespace
}  // namespace reel::pages
