// search::shown_query: one spelling per query for popular searches, safe for any input.
#include "search/shown_query.h"

#include <gtest/gtest.h>

#include "common/text.h"

namespace reel::search {
namespace {

TEST(ShownQuery, FoldsCaseWidthAndLigaturesAndKeepsAccents) {
  EXPECT_EQ(shown_query("Funny CATS", 100), "funny cats");
  EXPECT_EQ(shown_query("ＦＵＮＮＹ ｃａｔｓ", 100), "funny cats");
  EXPECT_EQ(shown_query("Straße ﬁlm", 100), "strasse film");
  EXPECT_EQ(shown_query("CAFÉ Crème", 100), "café crème");
  EXPECT_EQ(shown_query("東京の夜景 🎬", 100), "東京の夜景 🎬");
  EXPECT_EQ(shown_query("zero\u200bwidth", 100), "zerowidth");
}

TEST(ShownQuery, CollapsesSpacesControlsAndBadBytesAndTrims) {
  EXPECT_EQ(shown_query("  a \t\r\n b\x7f c  ", 100), "a b c");
  EXPECT_EQ(shown_query("  é \t\r\n b\xc2\x85 c\u2028d  ", 100), "é b c d");
  EXPECT_EQ(shown_query("bad\xff\xfe bytes \xc3", 100), "bad bytes");
  EXPECT_EQ(shown_query("l\u202eeft \u2066iso", 100), "left iso");
  EXPECT_EQ(shown_query("", 100), "");
  EXPECT_EQ(shown_query(" \r\n\t\xff ", 100), "");
  EXPECT_EQ(shown_query("a=b %20 \"q\" \\ [x] *:{}", 100), "a=b %20 \"q\" \\ [x] *:{}");
}

TEST(ShownQuery, CutsAtACharacterBoundaryAndReadsLittleOfAHugeQuery) {
  EXPECT_EQ(shown_query(std::string(10240, 'X'), 100), std::string(100, 'x'));
  std::string accents;
  for (int i = 0; i < 5000; ++i) accents += "É";
  EXPECT_EQ(shown_query("a" + accents, 100).size(), 99u);                            // a + 49 × é (2 bytes)
  EXPECT_EQ(shown_query(std::string(99, 'a') + " bcd", 100), std::string(99, 'a'));  // no trailing space
  std::string mixed;
  while (mixed.size() < 10240) mixed += "Ünï \xff\t\u202e ";
  const std::string shown = shown_query(mixed, 100);
  EXPECT_LE(shown.size(), 100u);
  EXPECT_TRUE(user_text_chars(shown, Lines::one)) << shown;
}

}  // namespace
}  // namespace reel::search
