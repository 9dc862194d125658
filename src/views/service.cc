#include "views/service.h"

#include <spdlog/spdlog.h>

#include "common/asio.h"

namespace reel::views {

// Shared with the loops, so a loop resuming after the Service stopped them touches nothing else.
struct Service::Timers {
  explicit Timers(const asio::any_io_executor& executor) : flush(executor), maintenance(executor) {}
  void stop() {
    stopped = true;
    flush.cancel();
    maintenance.cancel();
  }
  asio::steady_timer flush;
  asio::steady_timer maintenance;
  bool stopped = false;
};

namespace {

Task<void> wait(asio::steady_timer& timer, std::chrono::steady_clock::duration how_long) {
  boost::system::error_code ec;
  timer.expires_after(how_long);
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// Logs the first failure of a streak and the recovery, not every retry.
void report(bool& failing, const Status& status, std::string_view what) {
  if (!status && !failing) spdlog::warn("reel views: {} failed, retrying: {}", what, status.error().message);
  if (status && failing) spdlog::info("reel views: {} works again", what);
  failing = !status;
}

}  // namespace

Service::Service(asio::any_io_executor executor, const Clock& clock, Aggregator& aggregator,
                 redis::Connection& redis, ServiceOptions options)
    : executor_(std::move(executor)),
      clock_(clock),
      aggregator_(aggregator),
      redis_(redis),
      options_(options),
      flusher_(aggregator, redis, options.flush),
      timers_(std::make_shared<Timers>(executor_)) {}

Service::~Service() {
  timers_->stop();
}

void Service::add_source(std::unique_ptr<Source> source) {
  sources_.push_back(std::move(source));
}

void Service::add_stream_source(StreamInput input, std::string partition) {
  journal_ = std::make_unique<StreamJournal>(std::move(partition), std::move(input.position));
  flusher_.use_journal(journal_.get());
  add_source(std::move(input.source));
}

uint64_t Service::oversized_lines() const {
  uint64_t n = 0;
  for (const auto& source : sources_) n += source->oversized_lines();
  return n;
}

uint64_t Service::dropped_datagrams() const {
  uint64_t n = 0;
  for (const auto& source : sources_) n += source->dropped_datagrams();
  return n;
}

void Service::start(std::function<void()> on_sources_ended) {
  on_sources_ended_ = std::move(on_sources_ended);
  sources_running_ = sources_.size();
  for (size_t i = 0; i < sources_.size(); ++i) {
    sources_[i]->start([this](std::string_view lines) { aggregator_.ingest_lines(lines); },
                       [this, i](Status status) { source_ended(i, status); });
  }
  asio::co_spawn(executor_, flush_loop(), asio::detached);
  asio::co_spawn(executor_, maintenance_loop(), asio::detached);
}

void Service::source_ended(size_t index, const Status& status) {
  if (!status) spdlog::error("reel views: {} ended: {}", sources_[index]->describe(), status.error().message);
  if (--sources_running_ == 0 && on_sources_ended_) on_sources_ended_();
}

Task<void> Service::flush_loop() {
  auto timers = timers_;
  bool failing = false;
  for (;;) {
    co_await wait(timers->flush, options_.flush_interval);
    if (timers->stopped) co_return;
    const Status flushed = co_await flusher_.flush();
    if (timers->stopped) co_return;
    report(failing, flushed, "flush to Redis");
  }
}

Task<void> Service::maintenance_loop() {
  auto timers = timers_;
  bool failing = false;
  for (;;) {
    const Result<WindowStats> done =
        co_await maintain(redis_, clock_.unix_seconds(), aggregator_.lambda(), options_.maintenance);
    if (timers->stopped) co_return;
    report(failing, done ? Status{} : Status{done.error()}, "view list upkeep");
    if (done && (done->days_retired > 0 || done->set_whole > 0)) {
      spdlog::info(
          "reel views: week and month windows moved on ({} day lists subtracted, {} lists set whole, "
          "{} script calls)",
          done->days_retired, done->set_whole, done->calls);
    }
    co_await wait(timers->maintenance, options_.maintenance_interval);
    if (timers->stopped) co_return;
  }
}

Task<Status> Service::drain(std::chrono::milliseconds timeout) {
  for (auto& source : sources_) source->stop();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(executor_);
  Status last;
  for (;;) {
    last = co_await flusher_.flush();
    if (aggregator_.idle()) break;
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      timers_->stop();
      co_return Error{"reel views: views not flushed before the deadline" +
                      (last ? std::string() : ": " + last.error().message)};
    }
    co_await wait(timer, std::min<std::chrono::steady_clock::duration>(options_.flush_interval, left));
  }
  timers_->stop();
  co_return Status{};
}

}  // namespace reel::views
