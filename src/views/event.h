// The view event: what the beacon writes for one playback and what `reel views` reads back; and
// the search event, what a search page writes for one search, through the same pipeline.
//
// Wire format (one line, no trailing newline; the sink adds its framing):
//   <134>1 2026-11-28T12:00:00Z web-1 reel - view - t=1795867200 v=123 k=0a1b2c3d4e5f6789 r=search u=mobile
// an RFC 5424 header (facility local0, severity info, MSGID "view", no structured data) and a
// message of space-separated key=value fields: t (Unix seconds), v (video id), k (viewer key),
// r (referrer class), u (user-agent class). The time inside the message is the one that counts,
// so the header may be rewritten or stripped by syslog-ng. Unknown fields are ignored (newer
// writers may add some); t, v and k are required; a missing r is `direct`, a missing u `other`,
// an unknown r is `external` and an unknown u `other`.
//
// LineParser accepts such a line with the RFC 5424 header, with an RFC 3164-style header
// ("<13>Nov 28 12:00:00 host reel[42]: ..." or syslog-ng's "Nov 28 12:00:00 host reel: ..."), or
// the bare message; and access-log lines in nginx's "combined" format (as varnishncsa writes),
// bare or behind the same headers, where `GET /watch/{id}...` and `POST /api/v1/videos/{id}/view`
// with a 2xx status are views, the viewer key is a keyed hash of IP and user agent, and the
// referrer and agent classes come from the Referer and User-Agent.
//
// The search event (one per search a visitor made, for popular searches):
//   <134>1 2026-11-28T12:00:00Z web-1 reel - search - t=1795867200 k=0a1b2c3d4e5f6789 q=funny%20cats n=42
//   u=mobile
// MSGID "search" (for people and syslog filters; syslog-ng's redis() destination keeps only the
// message), fields t, k and u as in a view, q the query as shown (see SearchEvent) percent-encoded,
// n the result count. A message is a search when it has a q field and no v field: a view line
// stays a view whatever fields a newer writer adds. t, k and q are required; a missing or
// malformed n is unknown (-1).
// The query encoding: every byte but printable ASCII (0x21..0x7e) and every '%', '=', '"', '\\',
// '[' and ']' is written as %XX (upper-case hex), so the value has no spaces, no line breaks and no
// characters a syslog relay or the key=value split could act on, and the line is plain ASCII. The
// parser decodes %XX in either case; a '%' without two hex digits is Skip::bad_query.
//
// Thread-safety: the free functions are pure; a LineParser or ViewerKeyer is used by one thread
// at a time (ViewerKeyer's const methods may be shared).
// Failure: parsing never throws or allocates; a line that is neither a view nor a search yields
// the Skip reason.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reel::views {

enum class Referrer : uint8_t { direct, internal, search, social, external };
enum class Agent : uint8_t { desktop, mobile, tablet, bot, other };

std::string_view to_string(Referrer referrer);
std::string_view to_string(Agent agent);
// False (and *out unchanged) for any other text.
bool parse_referrer(std::string_view text, Referrer* out);
bool parse_agent(std::string_view text, Agent* out);

struct ViewEvent {
  int64_t time = 0;      // Unix seconds
  int64_t video_id = 0;  // > 0
  // Opaque and short (at most max_viewer_bytes, no spaces): a session id or viewer_key()'s hex.
  // Borrowed: points into the parsed line, the parser, or the caller's storage.
  std::string_view viewer;
  Referrer referrer = Referrer::direct;
  Agent agent = Agent::other;
};

// One search: `query` is what popular searches count and show, one spelling per search (the web
// server folds, trims and collapses it: search/shown_query.h): at most max_query_bytes of UTF-8
// without control characters, not empty.
struct SearchEvent {
  int64_t time = 0;         // Unix seconds
  std::string_view viewer;  // as ViewEvent::viewer
  // Decoded. Borrowed: points into the parser or the caller's storage.
  std::string_view query;
  int64_t results = -1;  // how many videos matched; -1: unknown
  Agent agent = Agent::other;
};

// What a line held: a view or a search (`kind` says which member is set).
struct Event {
  enum class Kind : uint8_t { view, search };
  Kind kind = Kind::view;
  ViewEvent view;
  SearchEvent search;
};

constexpr size_t max_viewer_bytes = 64;
constexpr size_t max_query_bytes = 100;
constexpr size_t max_field_bytes = 2048;  // an access log's referrer or user agent
constexpr size_t max_line_bytes = 8192;
constexpr int64_t max_video_id = int64_t{1} << 53;  // ids must survive a round trip through a double score
// The latest event time, 9999-12-31T23:59:59Z: RFC 5424 timestamps have four-digit years. A parsed
// time outside 0 .. max_event_time is Skip::bad_time (the writer's date arithmetic overflows near
// the ends of int64; found by fuzz/view_line).
constexpr int64_t max_event_time = 253'402'300'799;

// Appends the syslog line for `event` to `out` (no newline). `hostname` and `app_name` are
// written as RFC 5424 header fields: empty becomes "-", spaces and control characters "_", and
// they are cut to 255 and 48 bytes. Can't fail.
void append_syslog_line(std::string& out, const ViewEvent& event, std::string_view hostname,
                        std::string_view app_name);
std::string format_syslog_line(const ViewEvent& event, std::string_view hostname, std::string_view app_name);
// The same for a search (MSGID "search"). A query longer than max_query_bytes is cut at a UTF-8
// character boundary; one the parser refuses (empty, control characters, invalid UTF-8) makes a
// line the aggregator skips as Skip::bad_query, so pass search::shown_query()'s text. Can't fail.
void append_syslog_line(std::string& out, const SearchEvent& event, std::string_view hostname,
                        std::string_view app_name);
std::string format_syslog_line(const SearchEvent& event, std::string_view hostname,
                               std::string_view app_name);

// The query encoding of the search line (see the file comment), appended to `out`; and back: false
// (and *out in an unspecified state) for a '%' without two hex digits.
void append_query_encoded(std::string& out, std::string_view query);
bool decode_query(std::string_view encoded, std::string* out);

// Why a line was not counted as a view. The first group comes from parsing; the rest from the
// aggregator (aggregator.h), which counts every line under exactly one of them or `counted`.
enum class Skip : uint8_t {
  counted,         // not skipped: a view
  search,          // not skipped: a search, counted into popular searches
  malformed,       // neither a view or search event nor an access-log line, or a required field missing
  bad_time,        // a time that does not parse
  bad_video_id,    // not a positive integer below 2^53
  bad_query,       // a search's query that does not decode, is empty, too long, not UTF-8 or has controls
  oversized,       // the line or a field over its limit
  not_a_view,      // an access-log line for another address or method
  failed_request,  // an access-log view whose status is not 2xx
  too_old,         // older than the aggregator's max age
  in_future,       // further ahead of the clock than the aggregator allows
  not_owned,       // another partition's viewer
  bot,             // user-agent class bot
  duplicate,       // the same viewer and video (or search query) within the dedupe window
  pending_full,    // the aggregator's pending table was full (counted drop)
};
constexpr size_t skip_reasons = 15;
std::string_view to_string(Skip reason);

// User-agent class from a User-Agent header: bot for crawlers, HTTP libraries, headless browsers
// and an empty or "-" agent; then tablet, mobile, desktop by platform tokens; other otherwise.
Agent classify_user_agent(std::string_view user_agent);
// Referrer class from a Referer header: direct when empty or "-"; internal for one of
// `own_hosts` (exact host, ASCII case-insensitive) or a relative reference; search and social
// for well-known engines and networks; external otherwise.
Referrer classify_referrer(std::string_view referer, const std::vector<std::string>& own_hosts);

// Keyed hash of IP and user agent as 16 lower-case hex digits (SipHash-2-4 via libsodium's
// crypto_shorthash), so logs and Redis never hold an address. The key is derived from `secret`
// with BLAKE2b, so any length of secret works; the same secret gives the same keys in every
// process (beacon and aggregator agree).
class ViewerKeyer {
 public:
  explicit ViewerKeyer(std::string_view secret);
  // Writes 16 hex digits to `out`.
  void write(std::string_view ip, std::string_view user_agent, char out[16]) const;
  std::string key(std::string_view ip, std::string_view user_agent) const;

 private:
  std::array<unsigned char, 16> key_{};
};
std::string viewer_key(std::string_view secret, std::string_view ip, std::string_view user_agent);

struct ParserOptions {
  std::vector<std::string> own_hosts;  // the site's host names, for the internal referrer class
  std::string viewer_secret;           // keys access-log viewers (ViewerKeyer)
};

class LineParser {
 public:
  explicit LineParser(ParserOptions options);

  // Parses one line (without its newline). On Skip::counted, *out holds the view; a search event
  // is Skip::not_a_view. Its viewer points into `line` or into this parser (valid until the next
  // call).
  Skip parse(std::string_view line, ViewEvent* out);
  // Views and searches: Skip::counted with out->view, or Skip::search with out->search (its query
  // points into this parser, valid until the next call).
  Skip parse(std::string_view line, Event* out);

 private:
  Skip parse_access_log(std::string_view line, ViewEvent* out);

  ParserOptions options_;
  ViewerKeyer keyer_;
  char viewer_buf_[16];
  std::string query_buf_;
};

// The message part of a syslog line: `line` without an RFC 5424 or RFC 3164-style header; the
// line itself when it has none. Empty when an RFC 5424 header is cut short.
std::string_view strip_syslog_header(std::string_view line);

// Unix time of an access log's $time_local ("28/Nov/2026:13:00:00 +0100"); false when malformed.
bool parse_time_local(std::string_view text, int64_t* out);

}  // namespace reel::views
