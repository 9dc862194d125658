#include "views/event.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>

#include "common/text.h"

namespace reel::views {
namespace {

constexpr std::string_view referrer_names[] = {"direct", "internal", "search", "social", "external"};
constexpr std::string_view agent_names[] = {"desktop", "mobile", "tablet", "bot", "other"};
constexpr std::string_view skip_names[] = {
    "counted",   "search",    "malformed",  "bad_time",       "bad_video_id",
    "bad_query", "oversized", "not_a_view", "failed_request", "too_old",
    "in_future", "not_owned", "bot",        "duplicate",      "pending_full"};
static_assert(std::size(skip_names) == skip_reasons);

constexpr char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}
constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

template <class Int>
bool parse_int(std::string_view text, Int* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool valid_time(int64_t unix_seconds) {
  return unix_seconds >= 0 && unix_seconds <= max_event_time;
}

// The text up to the first space, and the rest after that space (empty when there is none).
std::string_view next_token(std::string_view* s) {
  const size_t space = s->find(' ');
  std::string_view token = s->substr(0, space);
  s->remove_prefix(space == std::string_view::npos ? s->size() : space + 1);
  return token;
}

void append_digits(std::string& out, unsigned value, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

void append_header_field(std::string& out, std::string_view text, size_t max) {
  if (text.empty()) {
    out.push_back('-');
    return;
  }
  text = text.substr(0, max);
  for (char c : text) out.push_back(static_cast<unsigned char>(c) <= 0x20 || c == 0x7f ? '_' : c);
}

// "2026-11-28T12:00:00Z"
void append_timestamp(std::string& out, int64_t unix_seconds) {
  using namespace std::chrono;
  const sys_seconds t{seconds{unix_seconds}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  append_digits(out, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  out.push_back('-');
  append_digits(out, static_cast<unsigned>(ymd.month()), 2);
  out.push_back('-');
  append_digits(out, static_cast<unsigned>(ymd.day()), 2);
  out.push_back('T');
  append_digits(out, static_cast<unsigned>(hms.hours().count()), 2);
  out.push_back(':');
  append_digits(out, static_cast<unsigned>(hms.minutes().count()), 2);
  out.push_back(':');
  append_digits(out, static_cast<unsigned>(hms.seconds().count()), 2);
  out.push_back('Z');
}

template <class Int>
void append_int(std::string& out, Int value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

// "<134>1 TIMESTAMP HOSTNAME APP-NAME - MSGID - t=TIME": facility local0 (16) * 8 + severity info (6).
void append_header(std::string& out, int64_t time, std::string_view hostname, std::string_view app_name,
                   std::string_view msgid) {
  out.append("<134>1 ");
  append_timestamp(out, time);
  out.push_back(' ');
  append_header_field(out, hostname, 255);
  out.push_back(' ');
  append_header_field(out, app_name, 48);
  out.append(" - ");
  out.append(msgid);
  out.append(" - t=");
  append_int(out, time);
}

// 0..15 for a hex digit of either case, else -1.
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  const char l = lower(c);
  return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
}

// Skips an RFC 5424 STRUCTURED-DATA field ("-" or one or more [id param="value"...] elements,
// where a value may hold an escaped \"), and the space after it. False when it is cut short.
bool skip_structured_data(std::string_view* s) {
  if (s->starts_with('-')) {
    s->remove_prefix(std::min<size_t>(2, s->size()));
    return true;
  }
  while (s->starts_with('[')) {
    size_t i = 1;
    bool quoted = false;
    for (; i < s->size(); ++i) {
      const char c = (*s)[i];
      if (quoted && c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && c == ']') {
        break;
      }
    }
    if (i >= s->size()) return false;
    s->remove_prefix(i + 1);
  }
  if (!s->starts_with(' ')) return s->empty();
  s->remove_prefix(1);
  return true;
}

// "Nov 28 12:00:00 " or "Nov  8 12:00:00 " (RFC 3164), optionally with a year ("Nov 28 2026 ...")
// which some relays add; returns its length, or 0.
size_t bsd_timestamp_length(std::string_view s) {
  if (s.size() < 16 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':' || s[15] != ' ') return 0;
  if (!(s[0] >= 'A' && s[0] <= 'Z') || !is_digit(s[5]) || !is_digit(s[7]) || !is_digit(s[14])) return 0;
  return 16;
}

// "2026-11-28T12:00:00..." up to the next space (syslog-ng's ISO dates), or 0.
size_t iso_timestamp_length(std::string_view s) {
  if (s.size() < 20 || !is_digit(s[0]) || !is_digit(s[3]) || s[4] != '-' || s[10] != 'T') return 0;
  const size_t space = s.find(' ');
  return space == std::string_view::npos ? 0 : space + 1;
}

// Finds the closing quote of a quoted access-log field starting after its opening quote, with
// backslash escapes (varnishncsa writes \" inside). Returns npos when unterminated.
size_t closing_quote(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i;
    }
  }
  return std::string_view::npos;
}

// The video id of a view address, or 0. "/watch/123", "/watch/123-slug", "/watch/123/..." for
// GET; "/api/v1/videos/123/view" for POST; a query string is allowed after either.
int64_t view_id(std::string_view method, std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::string_view rest;
  bool api = false;
  if (method == "GET" && target.starts_with("/watch/")) {
    rest = target.substr(7);
  } else if (method == "POST" && target.starts_with("/api/v1/videos/")) {
    rest = target.substr(15);
    api = true;
  } else {
    return 0;
  }
  size_t digits = 0;
  while (digits < rest.size() && is_digit(rest[digits])) ++digits;
  if (digits == 0 || digits > 16) return -1;
  const std::string_view after = rest.substr(digits);
  if (api ? after != "/view" : !(after.empty() || after[0] == '-' || after[0] == '/')) return 0;
  int64_t id = 0;
  parse_int(rest.substr(0, digits), &id);
  return id > 0 && id < max_video_id ? id : -1;
}

bool contains(std::string_view haystack, std::initializer_list<std::string_view> needles) {
  for (auto needle : needles) {
    if (haystack.find(needle) != std::string_view::npos) return true;
  }
  return false;
}

// True when `host` is `domain` or ends with "." + domain.
bool host_is(std::string_view host, std::string_view domain) {
  return host == domain || (host.size() > domain.size() && host.ends_with(domain) &&
                            host[host.size() - domain.size() - 1] == '.');
}

}  // namespace

std::string_view to_string(Referrer referrer) {
  return referrer_names[static_cast<int>(referrer)];
}
std::string_view to_string(Agent agent) {
  return agent_names[static_cast<int>(agent)];
}
std::string_view to_string(Skip reason) {
  return skip_names[static_cast<int>(reason)];
}

bool parse_referrer(std::string_view text, Referrer* out) {
  for (size_t i = 0; i < std::size(referrer_names); ++i) {
    if (text == referrer_names[i]) {
      *out = static_cast<Referrer>(i);
      return true;
    }
  }
  return false;
}

bool parse_agent(std::string_view text, Agent* out) {
  for (size_t i = 0; i < std::size(agent_names); ++i) {
    if (text == agent_names[i]) {
      *out = static_cast<Agent>(i);
      return true;
    }
  }
  return false;
}

void append_syslog_line(std::string& out, const ViewEvent& event, std::string_view hostname,
                        std::string_view app_name) {
  append_header(out, event.time, hostname, app_name, "view");
  out.append(" v=");
  append_int(out, event.video_id);
  out.append(" k=");
  append_header_field(out, event.viewer.substr(0, max_viewer_bytes), max_viewer_bytes);
  out.append(" r=");
  out.append(to_string(event.referrer));
  out.append(" u=");
  out.append(to_string(event.agent));
}

std::string format_syslog_line(const ViewEvent& event, std::string_view hostname, std::string_view app_name) {
  std::string out;
  out.reserve(128);
  append_syslog_line(out, event, hostname, app_name);
  return out;
}

void append_syslog_line(std::string& out, const SearchEvent& event, std::string_view hostname,
                        std::string_view app_name) {
  append_header(out, event.time, hostname, app_name, "search");
  out.append(" k=");
  append_header_field(out, event.viewer.substr(0, max_viewer_bytes), max_viewer_bytes);
  out.append(" q=");
  append_query_encoded(out, utf8_prefix(event.query, max_query_bytes));
  if (event.results >= 0) {
    out.append(" n=");
    append_int(out, event.results);
  }
  out.append(" u=");
  out.append(to_string(event.agent));
}

std::string format_syslog_line(const SearchEvent& event, std::string_view hostname,
                               std::string_view app_name) {
  std::string out;
  out.reserve(160);
  append_syslog_line(out, event, hostname, app_name);
  return out;
}

void append_query_encoded(std::string& out, std::string_view query) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char c : query) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7f && std::string_view("%=\"\\[]").find(c) == std::string_view::npos) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 15]);
    }
  }
}

bool decode_query(std::string_view encoded, std::string* out) {
  out->clear();
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      out->push_back(encoded[i]);
      continue;
    }
    int high = 0, low = 0;
    if (i + 2 >= encoded.size()) return false;
    if ((high = hex_value(encoded[i + 1])) < 0 || (low = hex_value(encoded[i + 2])) < 0) return false;
    out->push_back(static_cast<char>(high << 4 | low));
    i += 2;
  }
  return true;
}

std::string_view strip_syslog_header(std::string_view line) {
  std::string_view s = line;
  bool has_pri = false;
  if (s.starts_with('<')) {
    const size_t close = s.find('>');
    if (close == std::string_view::npos || close < 2 || close > 4) return line;
    for (size_t i = 1; i < close; ++i) {
      if (!is_digit(s[i])) return line;
    }
    s.remove_prefix(close + 1);
    has_pri = true;
    if (s.starts_with("1 ")) {  // RFC 5424: VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]
      s.remove_prefix(2);
      for (int field = 0; field < 5; ++field) {
        const size_t space = s.find(' ');
        if (space == std::string_view::npos) return {};
        s.remove_prefix(space + 1);
      }
      if (!skip_structured_data(&s)) return {};
      if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);  // the BOM of a UTF-8 MSG
      return s;
    }
  }
  size_t stamp = bsd_timestamp_length(s);
  if (stamp == 0) stamp = iso_timestamp_length(s);
  if (stamp == 0 && !has_pri) return line;
  s.remove_prefix(stamp);
  if (stamp != 0) next_token(&s);  // HOSTNAME
  // TAG ("reel:", "reel[42]:"), when there is one.
  const size_t space = s.find(' ');
  if (space != std::string_view::npos && space > 0 && s[space - 1] == ':') s.remove_prefix(space + 1);
  return s;
}

bool parse_time_local(std::string_view text, int64_t* out) {
  // 28/Nov/2026:13:00:00 +0100
  static constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (text.size() != 26 || text[2] != '/' || text[6] != '/' || text[11] != ':' || text[14] != ':' ||
      text[17] != ':' || text[20] != ' ' || (text[21] != '+' && text[21] != '-')) {
    return false;
  }
  unsigned d = 0, y = 0, hh = 0, mm = 0, ss = 0, oh = 0, om = 0;
  if (!parse_int(text.substr(0, 2), &d) || !parse_int(text.substr(7, 4), &y) ||
      !parse_int(text.substr(12, 2), &hh) || !parse_int(text.substr(15, 2), &mm) ||
      !parse_int(text.substr(18, 2), &ss) || !parse_int(text.substr(22, 2), &oh) ||
      !parse_int(text.substr(24, 2), &om)) {
    return false;
  }
  const size_t m = months.find(text.substr(3, 3));
  if (m == std::string_view::npos || m % 3 != 0 || hh > 23 || mm > 59 || ss > 60 || oh > 23 || om > 59) {
    return false;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{static_cast<int>(y)}, month{static_cast<unsigned>(m / 3 + 1)}, day{d}};
  if (!ymd.ok()) return false;
  const int64_t offset = (int64_t{oh} * 3600 + int64_t{om} * 60) * (text[21] == '-' ? -1 : 1);
  *out = sys_days{ymd}.time_since_epoch().count() * int64_t{86400} + hh * 3600 + mm * 60 + ss - offset;
  return true;
}

Agent classify_user_agent(std::string_view user_agent) {
  if (user_agent.empty() || user_agent == "-") return Agent::bot;
  char buf[max_field_bytes];
  const size_t n = std::min(user_agent.size(), sizeof buf);
  for (size_t i = 0; i < n; ++i) buf[i] = lower(user_agent[i]);
  const std::string_view ua(buf, n);
  if (contains(ua, {"bot",       "crawl",      "spider",   "slurp",      "curl",
                    "wget",      "python-",    "headless", "httpclient", "go-http-client",
                    "java/",     "libwww",     "scrapy",   "okhttp",     "facebookexternalhit",
                    "phantomjs", "lighthouse", "pingdom",  "uptime",     "monitor"})) {
    return Agent::bot;
  }
  if (contains(ua, {"ipad", "tablet", "kindle", "silk/", "playbook"})) return Agent::tablet;
  if (ua.find("android") != std::string_view::npos) {
    return ua.find("mobile") != std::string_view::npos ? Agent::mobile : Agent::tablet;
  }
  if (contains(ua, {"mobile", "iphone", "ipod", "windows phone", "opera mini"})) return Agent::mobile;
  if (contains(ua, {"windows", "macintosh", "mac os x", "x11", "linux", "cros"})) return Agent::desktop;
  return Agent::other;
}

Referrer classify_referrer(std::string_view referer, const std::vector<std::string>& own_hosts) {
  if (referer.empty() || referer == "-") return Referrer::direct;
  const size_t scheme = referer.find("://");
  if (scheme == std::string_view::npos)
    return referer.starts_with('/') ? Referrer::internal : Referrer::external;
  std::string_view host = referer.substr(scheme + 3);
  host = host.substr(0, host.find_first_of("/?#"));
  if (const size_t at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
  if (!host.starts_with('[')) host = host.substr(0, host.find(':'));
  char buf[256];
  if (host.size() > sizeof buf) return Referrer::external;
  for (size_t i = 0; i < host.size(); ++i) buf[i] = lower(host[i]);
  host = std::string_view(buf, host.size());
  for (const auto& own : own_hosts) {
    if (own.size() == host.size() &&
        std::equal(own.begin(), own.end(), host.begin(), [](char a, char b) { return lower(a) == b; })) {
      return Referrer::internal;
    }
  }
  if (contains(host, {"google.", "bing.", "duckduckgo.", "yahoo.", "yandex.", "baidu.", "ecosia.", "search.",
                      "qwant.", "startpage."})) {
    return Referrer::search;
  }
  if (contains(host, {"facebook.", "twitter.", "reddit.", "instagram.", "tiktok.", "linkedin.", "pinterest.",
                      "tumblr.", "whatsapp.", "telegram.", "discord.", "mastodon."}) ||
      host_is(host, "t.co") || host_is(host, "x.com") || host_is(host, "vk.com") || host_is(host, "t.me") ||
      host_is(host, "fb.com") || host_is(host, "lnkd.in")) {
    return Referrer::social;
  }
  return Referrer::external;
}

ViewerKeyer::ViewerKeyer(std::string_view secret) {
  if (sodium_init() < 0) std::abort();  // libsodium cannot work on this machine: nothing can
  crypto_generichash(key_.data(), key_.size(), reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size(), nullptr, 0);
}

void ViewerKeyer::write(std::string_view ip, std::string_view user_agent, char out[16]) const {
  static_assert(crypto_shorthash_BYTES == 8 && crypto_shorthash_KEYBYTES == 16);
  unsigned char input[max_viewer_bytes + 1 + max_field_bytes];
  ip = ip.substr(0, max_viewer_bytes);
  user_agent = user_agent.substr(0, max_field_bytes);
  std::memcpy(input, ip.data(), ip.size());
  input[ip.size()] = '\n';
  std::memcpy(input + ip.size() + 1, user_agent.data(), user_agent.size());
  unsigned char hash[crypto_shorthash_BYTES];
  crypto_shorthash(hash, input, ip.size() + 1 + user_agent.size(), key_.data());
  write_hex(hash, out);
}

std::string ViewerKeyer::key(std::string_view ip, std::string_view user_agent) const {
  std::string out(16, '0');
  write(ip, user_agent, out.data());
  return out;
}

std::string viewer_key(std::string_view secret, std::string_view ip, std::string_view user_agent) {
  return ViewerKeyer(secret).key(ip, user_agent);
}

LineParser::LineParser(ParserOptions options) : options_(std::move(options)), keyer_(options_.viewer_secret) {
  query_buf_.reserve(3 * max_query_bytes);  // so parsing never allocates
}

Skip LineParser::parse(std::string_view line, ViewEvent* out) {
  Event event;
  const Skip outcome = parse(line, &event);
  if (outcome == Skip::search) return Skip::not_a_view;
  if (outcome == Skip::counted) *out = event.view;
  return outcome;
}

Skip LineParser::parse(std::string_view line, Event* out) {
  if (line.size() > max_line_bytes) return Skip::oversized;
  const std::string_view message = strip_syslog_header(line);
  if (message.size() < 2) return Skip::malformed;
  if (message[1] != '=') {
    out->kind = Event::Kind::view;
    return parse_access_log(message, &out->view);
  }

  ViewEvent event;
  bool have_time = false, have_video = false, have_query = false;
  std::string_view query;  // encoded
  int64_t results = -1;
  std::string_view rest = message;
  while (!rest.empty()) {
    const std::string_view field = next_token(&rest);
    if (field.empty()) continue;
    const size_t equals = field.find('=');
    if (equals == 0 || equals == std::string_view::npos) return Skip::malformed;
    if (equals != 1) continue;  // a longer name: a field a newer writer added
    const std::string_view value = field.substr(2);
    switch (field[0]) {
      case 't':
        if (!parse_int(value, &event.time) || !valid_time(event.time)) return Skip::bad_time;
        have_time = true;
        break;
      case 'v':
        if (!parse_int(value, &event.video_id) || event.video_id <= 0 || event.video_id >= max_video_id) {
          return Skip::bad_video_id;
        }
        have_video = true;
        break;
      case 'k':
        if (value.size() > max_viewer_bytes) return Skip::oversized;
        event.viewer = value;
        break;
      case 'r':
        if (!parse_referrer(value, &event.referrer)) event.referrer = Referrer::external;
        break;
      case 'u':
        if (!parse_agent(value, &event.agent)) event.agent = Agent::other;
        break;
      case 'q':
        query = value;
        have_query = true;
        break;
      case 'n':
        if (!parse_int(value, &results) || results < 0) results = -1;
        break;
      default:
        break;  // a field a newer writer added
    }
  }
  if (!have_time || !(have_video || have_query) || event.viewer.empty()) return Skip::malformed;
  if (have_video) {
    out->kind = Event::Kind::view;
    out->view = event;
    return Skip::counted;
  }
  // A query is at most 3 bytes a byte encoded, so the decoded text fits the buffer reserved for it.
  if (query.size() > 3 * max_query_bytes || !decode_query(query, &query_buf_) || query_buf_.empty() ||
      query_buf_.size() > max_query_bytes || !user_text_chars(query_buf_, Lines::one)) {
    return Skip::bad_query;
  }
  out->kind = Event::Kind::search;
  out->search = SearchEvent{event.time, event.viewer, query_buf_, results, event.agent};
  return Skip::search;
}

Skip LineParser::parse_access_log(std::string_view line, ViewEvent* out) {
  // $remote_addr - $remote_user [$time_local] "$request" $status $bytes "$http_referer" "$http_user_agent"
  std::string_view s = line;
  const std::string_view ip = next_token(&s);
  if (ip.empty() || ip.size() > max_viewer_bytes) return ip.empty() ? Skip::malformed : Skip::oversized;
  const size_t open = s.find('[');
  const size_t close = s.find(']');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return Skip::malformed;
  const std::string_view time_local = s.substr(open + 1, close - open - 1);
  s.remove_prefix(close + 1);
  if (!s.starts_with(" \"")) return Skip::malformed;
  s.remove_prefix(2);
  const size_t request_end = closing_quote(s);
  if (request_end == std::string_view::npos) return Skip::malformed;
  std::string_view request = s.substr(0, request_end);
  s.remove_prefix(request_end + 1);
  const std::string_view method = next_token(&request);
  const std::string_view target = next_token(&request);
  const int64_t id = view_id(method, target);
  if (id == 0) return Skip::not_a_view;
  if (id < 0) return Skip::bad_video_id;

  if (!s.starts_with(' ')) return Skip::malformed;
  s.remove_prefix(1);
  const std::string_view status = next_token(&s);
  if (status.size() != 3 || !is_digit(status[0]) || !is_digit(status[1]) || !is_digit(status[2])) {
    return Skip::malformed;
  }
  if (status[0] != '2') return Skip::failed_request;
  next_token(&s);              // $body_bytes_sent
  std::string_view quoted[2];  // referer, user agent
  for (auto& field : quoted) {
    if (!s.starts_with('"')) return Skip::malformed;
    s.remove_prefix(1);
    const size_t end = closing_quote(s);
    if (end == std::string_view::npos) return Skip::malformed;
    field = s.substr(0, end);
    if (field.size() > max_field_bytes) return Skip::oversized;
    s.remove_prefix(std::min(end + 2, s.size()));
  }
  ViewEvent event;
  if (!parse_time_local(time_local, &event.time) || !valid_time(event.time)) return Skip::bad_time;
  event.video_id = id;
  keyer_.write(ip, quoted[1], viewer_buf_);
  event.viewer = std::string_view(viewer_buf_, sizeof viewer_buf_);
  event.referrer = classify_referrer(quoted[0], options_.own_hosts);
  event.agent = classify_user_agent(quoted[1]);
  *out = event;
  return Skip::counted;
}

}  // namespace reel::views
