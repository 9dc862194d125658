// Fuzzes views/event.h's LineParser on any line: view events behind RFC 5424 or RFC 3164 headers
// or bare, and nginx "combined" access-log lines; plus parse_time_local on the same bytes.
// Invariants: strip_syslog_header returns a suffix of the line (or nothing); a counted event has a
// video id in (0, 2^53), a time in 0 .. max_event_time, and a viewer of 1 to 64 bytes without spaces; and a
// counted event written back with format_syslog_line parses to the same event (the line the beacon would
// write for it), control characters of the viewer aside, which the writer replaces with '_'. A counted
// search has a query of 1 to max_query_bytes of UTF-8 without control characters, and written back
// it parses to the same search.
#include <string>

#include "check.h"
#include "common/text.h"
#include "views/event.h"

namespace {

using namespace reel::views;

// What the writer makes of a viewer key (append_header_field): control characters become '_'.
std::string as_written(std::string_view viewer) {
  std::string out(viewer);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) c = '_';
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static LineParser parser(ParserOptions{{"reel.example", "localhost"}, "fuzz secret"});
  const std::string_view line = reel::fuzz::as_text(data, size);

  const std::string_view message = strip_syslog_header(line);
  FUZZ_CHECK(message.empty() ||
             (message.data() >= line.data() && message.data() + message.size() == line.data() + line.size()));
  int64_t time = 0;
  (void)parse_time_local(line, &time);

  Event any;
  if (parser.parse(line, &any) == Skip::search) {
    const SearchEvent& search = any.search;
    FUZZ_CHECK(search.time >= 0 && search.time <= max_event_time);
    FUZZ_CHECK(!search.viewer.empty() && search.viewer.size() <= max_viewer_bytes);
    FUZZ_CHECK(!search.query.empty() && search.query.size() <= max_query_bytes);
    FUZZ_CHECK(reel::user_text_chars(search.query, reel::Lines::one).has_value());
    const std::string viewer = as_written(search.viewer), query(search.query);  // the parser's buffer
    const std::string written = format_syslog_line(search, "web-1", "reel");
    Event again;
    FUZZ_CHECK(parser.parse(written, &again) == Skip::search);
    FUZZ_CHECK(again.search.time == search.time && again.search.viewer == viewer &&
               again.search.query == query && again.search.results == search.results &&
               again.search.agent == search.agent);
    return 0;
  }

  ViewEvent event;
  if (parser.parse(line, &event) != Skip::counted) return 0;
  FUZZ_CHECK(event.video_id > 0 && event.video_id < max_video_id);
  FUZZ_CHECK(event.time >= 0 && event.time <= max_event_time);
  FUZZ_CHECK(!event.viewer.empty() && event.viewer.size() <= max_viewer_bytes);
  FUZZ_CHECK(event.viewer.find(' ') == std::string_view::npos);

  const std::string viewer = as_written(event.viewer);  // the parser's buffer is reused below
  const std::string written = format_syslog_line(event, "web-1", "reel");
  ViewEvent again;
  FUZZ_CHECK(parser.parse(written, &again) == Skip::counted);
  FUZZ_CHECK(again.time == event.time && again.video_id == event.video_id && again.viewer == viewer &&
             again.referrer == event.referrer && again.agent == event.agent);
  return 0;
}
