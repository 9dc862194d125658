#include "pages/format.h"

#include <gtest/gtest.h>

namespace reel::pages {
namespace {

TEST(FormatCount, SmallCountsAreExact) {
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(7), "7");
  EXPECT_EQ(format_count(950), "950");
  EXPECT_EQ(format_count(999), "999");
}

TEST(FormatCount, LargeCountsAreTruncatedNeverRoundedUp) {
  EXPECT_EQ(format_count(1000), "1K");
  EXPECT_EQ(format_count(1050), "1K");
  EXPECT_EQ(format_count(1234), "1.2K");
  EXPECT_EQ(format_count(1999), "1.9K");
  EXPECT_EQ(format_count(12'345), "12K");
  EXPECT_EQ(format_count(999'999), "999K");
  EXPECT_EQ(format_count(1'000'000), "1M");
  EXPECT_EQ(format_count(1'250'000), "1.2M");
  EXPECT_EQ(format_count(15'500'000), "15M");
  EXPECT_EQ(format_count(999'999'999), "999M");
  EXPECT_EQ(format_count(3'400'000'000), "3.4B");
}

TEST(FormatCount, NegativeShowsZero) {
  EXPECT_EQ(format_count(-5), "0");
}

TEST(FormatExactCount, GroupsThousands) {
  EXPECT_EQ(format_exact_count(0), "0");
  EXPECT_EQ(format_exact_count(999), "999");
  EXPECT_EQ(format_exact_count(1000), "1,000");
  EXPECT_EQ(format_exact_count(33'334), "33,334");
  EXPECT_EQ(format_exact_count(1'234'567), "1,234,567");
  EXPECT_EQ(format_exact_count(-1), "0");
}

TEST(FormatDuration, MinutesAndHours) {
  EXPECT_EQ(format_duration(0), "0:00");
  EXPECT_EQ(format_duration(7), "0:07");
  EXPECT_EQ(format_duration(59), "0:59");
  EXPECT_EQ(format_duration(754), "12:34");
  EXPECT_EQ(format_duration(3599), "59:59");
  EXPECT_EQ(format_duration(3600), "1:00:00");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(36'000 + 61), "10:01:01");
  EXPECT_EQ(format_duration(-3), "0:00");
}

TEST(FormatAge, UnitsAndPlurals) {
  constexpr int64_t now = 1'700'000'000, day = 86'400;
  EXPECT_EQ(format_age(now, now), "just now");
  EXPECT_EQ(format_age(now - 59, now), "just now");
  EXPECT_EQ(format_age(now - 60, now), "1 minute ago");
  EXPECT_EQ(format_age(now - 119, now), "1 minute ago");
  EXPECT_EQ(format_age(now - 120, now), "2 minutes ago");
  EXPECT_EQ(format_age(now - 3600, now), "1 hour ago");
  EXPECT_EQ(format_age(now - 23 * 3600, now), "23 hours ago");
  EXPECT_EQ(format_age(now - 3 * day, now), "3 days ago");
  EXPECT_EQ(format_age(now - 7 * day, now), "1 week ago");
  EXPECT_EQ(format_age(now - 29 * day, now), "4 weeks ago");
  EXPECT_EQ(format_age(now - 30 * day, now), "1 month ago");
  EXPECT_EQ(format_age(now - 364 * day, now), "12 months ago");
  EXPECT_EQ(format_age(now - 365 * day, now), "1 year ago");
  EXPECT_EQ(format_age(now - 800 * day, now), "2 years ago");
}

TEST(FormatAge, FutureIsJustNow) {
  EXPECT_EQ(format_age(1'700'000'500, 1'700'000'000), "just now");
}

TEST(UrlEncode, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(url_encode_path_segment("Cats-and_dogs.v2~"), "Cats-and_dogs.v2~");
  EXPECT_EQ(url_encode_path_segment("a b/c?d&e#f%"), "a%20b%2Fc%3Fd%26e%23f%25");
  EXPECT_EQ(url_encode_path_segment("café"), "caf%C3%A9");
  EXPECT_EQ(url_encode_path_segment(""), "");
}

TEST(WatchPath, IdAndSlug) {
  EXPECT_EQ(watch_path(123, "some-title"), "/watch/123-some-title");
  EXPECT_EQ(watch_path(123, ""), "/watch/123");
  EXPECT_EQ(watch_path(7, "a b"), "/watch/7-a%20b");
}

}  // namespace
}  // namespace reel::pages
