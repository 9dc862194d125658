#include "common/text.h"

#include <gtest/gtest.h>

namespace reel {
namespace {

TEST(UserText, CountsCharactersNotBytes) {
  EXPECT_EQ(user_text_chars("Café ☕ 🎬", Lines::one), 8u);
  EXPECT_EQ(user_text_chars("", Lines::one), 0u);
}

TEST(UserText, LineBreaksOnlyWhereAllowed) {
  EXPECT_EQ(user_text_chars("a\nb\r\n\tc", Lines::many), 7u);
  EXPECT_FALSE(user_text_chars("a\nb", Lines::one));
  EXPECT_FALSE(user_text_chars("a\tb", Lines::one));
}

TEST(UserText, RefusesControlCharacters) {
  EXPECT_FALSE(user_text_chars(std::string_view("a\0b", 3), Lines::many));
  EXPECT_FALSE(user_text_chars("a\x1b[31mb", Lines::many));
  EXPECT_FALSE(user_text_chars("a\x7f", Lines::many));
  EXPECT_FALSE(user_text_chars("a\xc2\x85", Lines::many));  // U+0085, a C1 control
}

TEST(UserText, RefusesBidiOverridesAndIsolates) {
  EXPECT_FALSE(
      user_text_chars("abc\xe2\x80\xae"
                      "fdp.exe",
                      Lines::one));                                                // U+202E
  EXPECT_FALSE(user_text_chars("\xe2\x81\xa6x", Lines::one));                      // U+2066
  EXPECT_EQ(user_text_chars("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", Lines::one), 4u);  // Hebrew text is fine
}

TEST(UserText, RefusesInvalidUtf8) {
  EXPECT_FALSE(user_text_chars("\xc0\xaf", Lines::one));          // overlong '/'
  EXPECT_FALSE(user_text_chars("\xe0\x80\xaf", Lines::one));      // overlong, three bytes
  EXPECT_FALSE(user_text_chars("\xed\xa0\x80", Lines::one));      // a surrogate
  EXPECT_FALSE(user_text_chars("\xf4\x90\x80\x80", Lines::one));  // past U+10FFFF
  EXPECT_FALSE(user_text_chars("\xe2\x82", Lines::one));          // truncated
  EXPECT_FALSE(user_text_chars("\x80", Lines::one));              // a lone continuation byte
  EXPECT_EQ(user_text_chars("e\xcc\x81", Lines::one), 2u);        // a combining mark is a character
}

}  // namespace
TEST(Hex, TwoLowercaseDigitsPerByte) {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(to_hex(bytes), "000fa5ff");
  EXPECT_EQ(to_hex({}), "");
  char out[4] = {'x', 'x', 'x', 'x'};
  write_hex(std::span<const unsigned char>(bytes + 2, 1), out + 1);
  EXPECT_EQ(std::string_view(out, 4), "xa5x");  // exactly two characters written
}

}  // namespace reel
