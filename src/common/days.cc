#include "common/days.h"

#include <chrono>

namespace reel {

int32_t utc_day(int64_t unix_seconds) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(sys_seconds{seconds{unix_seconds}})};
  return static_cast<int>(ymd.year()) * 10000 + static_cast<int>(static_cast<unsigned>(ymd.month())) * 100 +
         static_cast<int>(static_cast<unsigned>(ymd.day()));
}

int64_t day_start(int32_t day) {
  using namespace std::chrono;
  const year_month_day ymd{year{day / 10000}, month{static_cast<unsigned>(day / 100 % 100)},
                           std::chrono::day{static_cast<unsigned>(day % 100)}};
  return duration_cast<seconds>(sys_days{ymd}.time_since_epoch()).count();
}

int32_t days_before(int32_t day, int n) {
  return utc_day(day_start(day) - int64_t{n} * 86400);
}

int32_t days_after(int32_t day, int n) {
  return days_before(day, -n);
}

}  // namespace reel
