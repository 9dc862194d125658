#include "http/date.h"

#include <array>

namespace reel::http {

namespace {

constexpr std::array<std::string_view, 7> weekday_names = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

void put_two_digits(char* out, int value) {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
}

// A cursor over the text being parsed; every method fails (returns false) without consuming on a
// mismatch, so a parse is a chain of `&&`.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool literal(std::string_view expected) {
    if (text_.substr(0, expected.size()) != expected) return false;
    text_.remove_prefix(expected.size());
    return true;
  }
  // Exactly `digits` decimal digits; a leading space counts as a zero when `space_padded`.
  bool number(size_t digits, int& value, bool space_padded = false) {
    if (text_.size() < digits) return false;
    value = 0;
    for (size_t i = 0; i < digits; ++i) {
      char c = text_[i];
      if (space_padded && i == 0 && c == ' ') c = '0';
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    text_.remove_prefix(digits);
    return true;
  }
  bool month(int& value) {
    for (size_t i = 0; i < month_names.size(); ++i) {
      if (literal(month_names[i])) {
        value = static_cast<int>(i) + 1;
        return true;
      }
    }
    return false;
  }
  // A day name: three letters, or the full name (RFC 850) followed by ','.
  bool skip_weekday() {
    size_t end = 0;
    while (end < text_.size() &&
           ((text_[end] >= 'A' && text_[end] <= 'Z') || (text_[end] >= 'a' && text_[end] <= 'z'))) {
      ++end;
    }
    if (end < 3) return false;
    text_.remove_prefix(end);
    return true;
  }
  bool time_of_day(int& hour, int& minute, int& second) {
    return number(2, hour) && literal(":") && number(2, minute) && literal(":") && number(2, second);
  }
  bool at_end() const { return text_.empty(); }

 private:
  std::string_view text_;
};

std::optional<std::time_t> to_time(int year, int month, int day, int hour, int minute, int second) {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  const int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return static_cast<std::time_t>(days * 86400 + hour * 3600 + minute * 60 + second);
}

}  // namespace

void format_http_date(std::time_t t, char* out) {
  std::tm utc{};
  gmtime_r(&t, &utc);
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  std::string_view weekday = weekday_names[static_cast<size_t>(utc.tm_wday)];
  std::string_view month = month_names[static_cast<size_t>(utc.tm_mon)];
  const int year = utc.tm_year + 1900;
  out[0] = weekday[0], out[1] = weekday[1], out[2] = weekday[2], out[3] = ',', out[4] = ' ';
  put_two_digits(out + 5, utc.tm_mday);
  out[7] = ' ', out[8] = month[0], out[9] = month[1], out[10] = month[2], out[11] = ' ';
  put_two_digits(out + 12, year / 100 % 100);
  put_two_digits(out + 14, year % 100);
  out[16] = ' ';
  put_two_digits(out + 17, utc.tm_hour);
  out[19] = ':';
  put_two_digits(out + 20, utc.tm_min);
  out[22] = ':';
  put_two_digits(out + 23, utc.tm_sec);
  out[25] = ' ', out[26] = 'G', out[27] = 'M', out[28] = 'T';
}

std::string format_http_date(std::time_t t) {
  std::string text(http_date_size, ' ');
  format_http_date(t, text.data());
  return text;
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  if (Scanner s(text); s.skip_weekday() && s.literal(", ") && s.number(2, day) && s.literal(" ") &&
                       s.month(month) && s.literal(" ") && s.number(4, year) && s.literal(" ") &&
                       s.time_of_day(hour, minute, second) && s.literal(" GMT") && s.at_end()) {
    return to_time(year, month, day, hour, minute, second);
  }
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year below 70 is in the 2000s.
  if (Scanner s(text); s.skip_weekday() && s.literal(", ") && s.number(2, day) && s.literal("-") &&
                       s.month(month) && s.literal("-") && s.number(2, year) && s.literal(" ") &&
                       s.time_of_day(hour, minute, second) && s.literal(" GMT") && s.at_end()) {
    return to_time(year < 70 ? 2000 + year : 1900 + year, month, day, hour, minute, second);
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (Scanner s(text); s.skip_weekday() && s.literal(" ") && s.month(month) && s.literal(" ") &&
                       s.number(2, day, /*space_padded=*/true) && s.literal(" ") &&
                       s.time_of_day(hour, minute, second) && s.literal(" ") && s.number(4, year) &&
                       s.at_end()) {
    return to_time(year, month, day, hour, minute, second);
  }
  return std::nullopt;
}

}  // namespace reel::http
