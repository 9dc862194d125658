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
  EXPECT_EQ(cache.find(card(1), "1 day ago", 100), nullptr);
  cache.store(card(1), "1 day ago", 100, "<html 1>");
  cache.begin_page(1);
  EXPECT_EQ(cache.find(card(1), "1 day ago", 100), nullptr);  // shown once: not kept
  cache.store(card(1), "1 day ago", 100, "<html 1>");
  cache.begin_page(1);
  const std::string* hit = cache.find(card(1), "1 day ago", 100);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(*hit, "<html 1>");
  EXPECT_EQ(cache.find(card(1), "2 days ago", 100), nullptr);  // the age text moved on
  EXPECT_EQ(cache.find(card(1), "1 day ago", 3700), nullptr);  // its signed links were renewed
  EXPECT_EQ(cache.find(card(1, "Renamed"), "1 day ago", 100), nullptr);
  auto more_views = card(1);
  more_views.views = 11;
  EXPECT_EQ(cache.find(more_views, "1 day ago", 100), nullptr);
  EXPECT_EQ(cache.hits(), 1u);
}

TEST(CardCache, AnotherRendererStartsEmpty) {
  CardCache cache(100);
  cache.begin_page(1);
  cache.store(card(1), "now", 100, "<from renderer 1>");
  cache.store(card(1), "now", 100, "<from renderer 1>");
  cache.begin_page(2);
  EXPECT_EQ(cache.find(card(1), "now", 100), nullptr);
}

TEST(CardCache, EmptiesBetweenPagesWhenOverCapacity) {
  CardCache cache(2);
  cache.begin_page(1);
  for (int64_t id = 1; id <= 3; ++id) {
    cache.store(card(id), "now", 100, "x");
    cache.store(card(id), "now", 100, "x");
  }
  EXPECT_EQ(cache.size(), 3u);  // never emptied in the middle of a page
  cache.begin_page(1);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(CardCache, ViewsHandedOutDuringAPageStayValid) {
  CardCache cache(100);
  cache.begin_page(1);
  const std::string& first = cache.store(card(1), "now", 100, "<first>");
  // The same video again on this page, with other fields: the first view must not change.
  const std::string& second = cache.store(card(1, "Other"), "now", 100, "<second>");
  EXPECT_EQ(first, "<first>");
  EXPECT_EQ(second, "<second>");
  // Now kept: a page that found the entry and then stores another version keeps the found one.
  cache.begin_page(1);
  const std::string* found = cache.find(card(1, "Other"), "now", 100);
  ASSERT_NE(found, nullptr);
  const std::string& third = cache.store(card(1, "Third"), "now", 100, "<third>");
  EXPECT_EQ(*found, "<second>");
  EXPECT_EQ(third, "<third>");
}

TEST(CardCache, KeepsACardFromItsSecondRenderingOn) {
  CardCache cache(100);
  cache.begin_page(1);
  cache.store(card(1), "now", 100, "<once>");
  EXPECT_EQ(cache.size(), 0u);
  cache.begin_page(1);
  cache.store(card(1), "now", 100, "<twice>");
  EXPECT_EQ(cache.size(), 1u);
}

// The search page's marked cards: one entry per card and variant (its query's terms), apart from
// the plain card and from other queries' renderings.
TEST(CardCache, KeepsEachVariantOfACardApart) {
  CardCache cache(100);
  for (int shown = 0; shown < 2; ++shown) {
    cache.begin_page(1);
    cache.store(card(1), "now", 100, "<plain>");
    cache.store(card(1), "now", 100, "<marked cat>", "cat\n");
  }
  cache.begin_page(1);
  const std::string* plain = cache.find(card(1), "now", 100);
  const std::string* marked = cache.find(card(1), "now", 100, "cat\n");
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(marked, nullptr);
  EXPECT_EQ(*plain, "<plain>");
  EXPECT_EQ(*marked, "<marked cat>");
  EXPECT_EQ(cache.find(card(1), "now", 100, "dog\n"), nullptr);
  EXPECT_EQ(cache.find(card(1, "Renamed"), "now", 100, "cat\n"), nullptr);
  EXPECT_EQ(cache.size(), 2u);
}

}  // namespace
}  // namespace reel::pages
