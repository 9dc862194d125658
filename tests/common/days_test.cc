#include "common/days.h"

#include <gtest/gtest.h>

namespace reel {
namespace {

TEST(Days, UtcDayOfUnixTime) {
  EXPECT_EQ(utc_day(0), 19700101);
  EXPECT_EQ(utc_day(1795824000), 20261128);      // 2026-11-28 00:00:00 UTC
  EXPECT_EQ(utc_day(1795824000 - 1), 20261127);  // one second earlier
}

TEST(Days, DayStartIsInverseOfUtcDay) {
  EXPECT_EQ(day_start(20261128), 1795824000);
  EXPECT_EQ(utc_day(day_start(20240229)), 20240229);
}

TEST(Days, DaysBeforeCrossesMonthsAndYears) {
  EXPECT_EQ(days_before(20260301, 1), 20260228);
  EXPECT_EQ(days_before(20240301, 1), 20240229);
  EXPECT_EQ(days_before(20260105, 6), 20251230);
  EXPECT_EQ(days_before(20261128, 0), 20261128);
}

}  // namespace
}  // namespace reel
