#include "pages/format.h"

#include <array>
#include <charconv>

namespace reel::pages {

namespace {

void append_int(std::string& out, int64_t n) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

// n in 0..99, always two digits.
void append_two_digits(std::string& out, int64_t n) {
  out.push_back(static_cast<char>('0' + n / 10));
  out.push_back(static_cast<char>('0' + n % 10));
}

void append_amount(std::string& out, int64_t amount, std::string_view unit) {
  append_int(out, amount);
  out.push_back(' ');
  out.append(unit);
  if (amount != 1) out.push_back('s');
  out.append(" ago");
}

template <class Append>
std::string to_string(Append&& append) {
  std::string out;
  append(out);
  return out;
}

}  // namespace

void append_count(std::string& out, int64_t n) {
  if (n < 1000) {
    append_int(out, n < 0 ? 0 : n);
    return;
  }
  struct Unit {
    int64_t size;
    char suffix;
  };
  constexpr Unit units[] = {{1'000'000'000, 'B'}, {1'000'000, 'M'}, {1'000, 'K'}};
  for (const Unit& unit : units) {
    if (n < unit.size) continue;
    int64_t whole = n / unit.size;
    append_int(out, whole);
    int64_t tenth = n % unit.size / (unit.size / 10);
    if (whole < 10 && tenth != 0) {
      out.push_back('.');
      out.push_back(static_cast<char>('0' + tenth));
    }
    out.push_back(unit.suffix);
    return;
  }
}

std::string format_count(int64_t n) {
  return to_string([n](std::string& out) { append_count(out, n); });
}

void append_exact_count(std::string& out, int64_t n) {
  char digits[24];
  char* end = std::to_chars(digits, digits + sizeof digits, n < 0 ? 0 : n).ptr;
  auto length = end - digits;
  for (auto i = 0; i < length; ++i) {
    if (i != 0 && (length - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
}

std::string format_exact_count(int64_t n) {
  return to_string([n](std::string& out) { append_exact_count(out, n); });
}

void append_duration(std::string& out, int32_t seconds) {
  int64_t s = seconds < 0 ? 0 : seconds;
  if (s >= 3600) {
    append_int(out, s / 3600);
    out.push_back(':');
    append_two_digits(out, s / 60 % 60);
  } else {
    append_int(out, s / 60);
  }
  out.push_back(':');
  append_two_digits(out, s % 60);
}

std::string format_duration(int32_t seconds) {
  return to_string([seconds](std::string& out) { append_duration(out, seconds); });
}

void append_age(std::string& out, int64_t then, int64_t now) {
  constexpr int64_t minute = 60, hour = 60 * minute, day = 24 * hour, week = 7 * day, month = 30 * day,
                    year = 365 * day;
  int64_t age = now - then;
  if (age < minute) {
    out.append("just now");
  } else if (age < hour) {
    append_amount(out, age / minute, "minute");
  } else if (age < day) {
    append_amount(out, age / hour, "hour");
  } else if (age < week) {
    append_amount(out, age / day, "day");
  } else if (age < month) {
    append_amount(out, age / week, "week");
  } else if (age < year) {
    append_amount(out, age / month, "month");
  } else {
    append_amount(out, age / year, "year");
  }
}

std::string format_age(int64_t then, int64_t now) {
  return to_string([then, now](std::string& out) { append_age(out, then, now); });
}

namespace {

constexpr auto unreserved_bytes = [] {
  std::array<bool, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    table[byte] = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                  (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' || byte == '_' || byte == '~';
  }
  return table;
}();

bool is_unreserved(char c) {
  return unreserved_bytes[static_cast<unsigned char>(c)];
}

}  // namespace

void append_url_encoded(std::string& out, std::string_view s) {
  constexpr char hex[] = "0123456789ABCDEF";
  while (!s.empty()) {
    // Slugs and names are mostly unreserved: copy runs of them at once.
    size_t run = 0;
    while (run < s.size() && is_unreserved(s[run])) ++run;
    out.append(s.data(), run);
    if (run == s.size()) return;
    auto byte = static_cast<unsigned char>(s[run]);
    const char encoded[3] = {'%', hex[byte >> 4], hex[byte & 0xF]};
    out.append(encoded, 3);
    s.remove_prefix(run + 1);
  }
}

std::string url_encode_path_segment(std::string_view s) {
  return to_string([s](std::string& out) { append_url_encoded(out, s); });
}

void append_watch_path(std::string& out, int64_t id, std::string_view slug) {
  out.append("/watch/");
  append_int(out, id);
  if (!slug.empty()) {
    out.push_back('-');
    append_url_encoded(out, slug);
  }
}

std::string watch_path(int64_t id, std::string_view slug) {
  return to_string([id, slug](std::string& out) { append_watch_path(out, id, slug); });
}

}  // namespace reel::pages
