#include "app/view_recorder.h"

#include "common/text.h"
#include "search/shown_query.h"

namespace reel::app {
namespace {

// The Host header without its port ("[::1]:8080" -> "::1").
std::string_view host_name(std::string_view host) {
  if (host.starts_with('[')) return host.substr(1, host.find(']') - 1);
  return host.substr(0, host.rfind(':'));
}

}  // namespace

std::string_view client_address(const http::Request& request, int hops) {
  if (hops <= 0) return request.remote_address;
  auto forwarded = request.header("X-Forwarded-For");
  if (!forwarded) return request.remote_address;
  std::string_view list = *forwarded;
  for (int hop = 1; !list.empty(); ++hop) {
    size_t comma = list.rfind(',');
    std::string_view entry = trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
    if (hop == hops) return entry.empty() ? std::string_view(request.remote_address) : entry;
    if (comma == std::string_view::npos) break;
    list = list.substr(0, comma);
  }
  return request.remote_address;
}

ViewRecorder::ViewRecorder(event_log::EventLog& log, const Clock& clock, ViewRecorderOptions options)
    : log_(log), clock_(clock), options_(std::move(options)), keyer_(options_.secret) {}

void ViewRecorder::write_viewer(const http::Request& request, std::string_view user_agent,
                                char out[16]) const {
  keyer_.write(client_address(request, options_.trusted_proxy_hops), user_agent, out);
}

bool ViewRecorder::record(const http::Request& request, int64_t video_id) const {
  const std::string_view user_agent = request.header("User-Agent").value_or("");
  char key[16];
  write_viewer(request, user_agent, key);
  views::ViewEvent event;
  event.time = clock_.unix_seconds();
  event.video_id = video_id;
  event.viewer = std::string_view(key, sizeof key);
  event.agent = views::classify_user_agent(user_agent);
  std::vector<std::string> own_hosts;
  if (auto host = request.header("Host")) own_hosts.emplace_back(host_name(*host));
  event.referrer = views::classify_referrer(request.header("Referer").value_or(""), own_hosts);
  std::string line;
  line.reserve(160);
  views::append_syslog_line(line, event, options_.hostname, "reel");
  return log_.write(line);
}

bool ViewRecorder::record_search(const http::Request& request, std::string_view query,
                                 int64_t results) const {
  const std::string shown = search::shown_query(query, views::max_query_bytes);
  if (shown.empty()) return false;
  const std::string_view user_agent = request.header("User-Agent").value_or("");
  char key[16];
  write_viewer(request, user_agent, key);
  views::SearchEvent event;
  event.time = clock_.unix_seconds();
  event.viewer = std::string_view(key, sizeof key);
  event.query = shown;
  event.results = results;
  event.agent = views::classify_user_agent(user_agent);
  std::string line;
  line.reserve(160 + 3 * shown.size());
  views::append_syslog_line(line, event, options_.hostname, "reel");
  return log_.write(line);
}

}  // namespace reel::app
