#include "cluster/load.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "support/http_client.h"

namespace reel::testing {
namespace {

// Long enough for a failover, short enough that a hung request is counted rather than waited out.
constexpr auto request_timeout = std::chrono::seconds(15);

std::string cookie_of(const HttpReply& reply) {
  std::string cookie = reply.header("set-cookie");
  return cookie.substr(0, cookie.find(';'));
}

}  // namespace

Result<Writer> sign_up(uint16_t site_port, const std::string& name) {
  const std::string json = "Content-Type: application/json\r\n";
  const std::string credentials = R"({"username":")" + name + R"(","password":"correct horse battery")";
  auto registered = http_call(site_port, "POST", "/api/v1/users", json,
                              credentials + R"(,"email":")" + name + R"(@example.com"})");
  if (!registered) return registered.error();
  if (registered->status != 201)
    return Error{fmt::format("register: {} {}", registered->status, registered->body)};
  auto signed_in = http_call(site_port, "POST", "/api/v1/session", json, credentials + "}");
  if (!signed_in) return signed_in.error();
  if (signed_in->status != 200)
    return Error{fmt::format("sign in: {} {}", signed_in->status, signed_in->body)};
  auto document = nlohmann::json::parse(signed_in->body, nullptr, false);
  if (!document.is_object() || !document.contains("csrf"))
    return Error{"sign in: no csrf in " + signed_in->body};
  return Writer{cookie_of(*signed_in), document["csrf"].get<std::string>()};
}

std::string describe(const LoadFigures& figures, size_t writes_found) {
  return fmt::format(
      "requests sent {}, failed {} ({} started after the fault), time to recover {:.1f} s, writes "
      "acknowledged {}, "
      "found afterwards {}",
      figures.sent, figures.failed, figures.failed_started_after_fault, figures.seconds_to_recover,
      figures.writes_acknowledged, writes_found);
}

Load::Load(Options options) : options_(std::move(options)) {
  for (int reader = 0; reader < options_.readers; ++reader)
    threads_.emplace_back([this, reader] { read_loop(reader); });
  if (!options_.writer.cookie.empty()) threads_.emplace_back([this] { write_loop(); });
}

Load::~Load() {
  stop();
}

void Load::record(Steady::time_point started, bool ok, bool write, const std::string& failure) {
  std::lock_guard lock(mutex_);
  outcomes_.push_back({started, Steady::now(), ok, write});
  if (!ok && a_failure_.empty()) a_failure_ = failure;
}

void Load::read_loop(int reader) {
  size_t next = static_cast<size_t>(reader);
  while (!stopping_) {
    std::string target = options_.targets[next++ % options_.targets.size()];
    if (const size_t at = target.find("{n}"); at != std::string::npos)
      target.replace(at, 3, std::to_string(counter_++));
    const auto started = Steady::now();
    auto reply = http_request(options_.port, "GET", target, "", request_timeout);
    const bool ok = reply && reply->status == 200;
    record(started, ok, false,
           reply
               ? fmt::format("GET {}: {} (server {}, x-varnish {}) {}", target, reply->status,
                             reply->header("server"), reply->header("x-varnish"), reply->body.substr(0, 300))
               : "GET " + target + ": " + reply.error().message);
    std::this_thread::sleep_for(options_.pace);
  }
}

void Load::write_loop() {
  const std::string headers = "Content-Type: application/json\r\nCookie: " + options_.writer.cookie +
                              "\r\nX-CSRF-Token: " + options_.writer.csrf + "\r\n";
  while (!stopping_) {
    const std::string title = options_.title_prefix + std::to_string(counter_++);
    const auto started = Steady::now();
    auto reply = http_call(options_.port, "POST", "/api/v1/playlists", headers,
                           R"({"title":")" + title + R"(","public":false})", request_timeout);
    const bool ok = reply && reply->status == 201;
    if (ok) {
      std::lock_guard lock(mutex_);
      titles_.push_back(title);
    }
    record(started, ok, true,
           reply ? fmt::format("POST playlist: {} {}", reply->status, reply->body) : reply.error().message);
    std::this_thread::sleep_for(options_.pace);
  }
}

void Load::mark_fault() {
  std::lock_guard lock(mutex_);
  fault_ = Steady::now();
}

int64_t Load::ok_since_fault(bool write) const {
  std::lock_guard lock(mutex_);
  int64_t count = 0;
  for (const Outcome& outcome : outcomes_) {
    if (outcome.ok && outcome.write == write && (!fault_ || outcome.at >= *fault_)) ++count;
  }
  return count;
}

int64_t Load::reads_ok_since_fault() const {
  return ok_since_fault(false);
}

int64_t Load::writes_ok_since_fault() const {
  return ok_since_fault(true);
}

int64_t Load::reads_ok() const {
  std::lock_guard lock(mutex_);
  int64_t count = 0;
  for (const Outcome& outcome : outcomes_) count += outcome.ok && !outcome.write;
  return count;
}

LoadFigures Load::stop() {
  if (!stopped_) {
    stopping_ = true;
    for (std::thread& thread : threads_) thread.join();
    stopped_ = true;
  }
  std::lock_guard lock(mutex_);
  LoadFigures figures;
  std::optional<Steady::time_point> last_failure;
  for (const Outcome& outcome : outcomes_) {
    ++figures.sent;
    figures.failed += !outcome.ok;
    figures.failed_started_after_fault += !outcome.ok && fault_ && outcome.started >= *fault_;
    figures.writes_sent += outcome.write;
    figures.writes_acknowledged += outcome.write && outcome.ok;
    if (!outcome.ok && (!last_failure || outcome.at > *last_failure)) last_failure = outcome.at;
  }
  if (fault_ && last_failure && *last_failure >= *fault_) {
    std::optional<Steady::time_point> recovered;
    for (const Outcome& outcome : outcomes_) {
      if (outcome.ok && outcome.at > *last_failure && (!recovered || outcome.at < *recovered))
        recovered = outcome.at;
    }
    if (recovered) figures.seconds_to_recover = std::chrono::duration<double>(*recovered - *fault_).count();
  }
  figures.acknowledged_titles = titles_;
  figures.a_failure = a_failure_;
  return figures;
}

}  // namespace reel::testing
