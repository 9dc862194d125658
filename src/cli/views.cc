#include "cli/views.h"

#include <fmt/format.h>

#include <charconv>
#include <thread>

#include "cli/data_dir.h"
#include "common/asio.h"
#include "common/clock.h"
#include "common/host_port.h"
#include "common/log_failure.h"
#include "common/periodic_thread.h"
#include "http/server.h"
#include "redis/connection.h"
#include "sql/catalog_store.h"
#include "sql/connection.h"
#include "views/aggregator.h"
#include "views/service.h"
#include "views/source.h"

namespace reel::cli {

Result<std::pair<uint32_t, uint32_t>> parse_partition(std::string_view text) {
  const size_t slash = text.find('/');
  uint32_t index = 0, count = 0;
  auto number = [](std::string_view part, uint32_t& out) {
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc{} && end == part.data() + part.size();
  };
  if (slash == std::string_view::npos || !number(text.substr(0, slash), index) ||
      !number(text.substr(slash + 1), count) || index < 1 || index > count || count > 1024) {
    return Error{fmt::format("--partition: expected I/N with 1 <= I <= N <= 1024, not '{}'", text)};
  }
  return std::pair{index - 1, count};
}

namespace {

void render_views_metrics(const views::Service& service, std::string& out) {
  out += fmt::format(
      "# HELP reel_views_udp_dropped_total Datagrams the kernel dropped on the aggregator's UDP inputs "
      "(receive buffer full; SO_MEMINFO).\n"
      "# TYPE reel_views_udp_dropped_total counter\nreel_views_udp_dropped_total {}\n",
      service.dropped_datagrams());
}

// Writes the aggregator's daily counts to SQL on a thread of its own, every `interval`, at once
// when a rebuild's hold is settled (the rebuild waits for that write), and once more when
// stopped. A failed write gives the rows back to the aggregator for the next round.
class DailyViewsWriter {
 public:
  DailyViewsWriter(std::unique_ptr<sql::Connection> db, views::Aggregator& aggregator,
                   std::chrono::milliseconds interval)
      : db_(std::move(db)),
        store_(*db_),
        aggregator_(aggregator),
        thread_(
            interval, [this] { return write_once(); }, PeriodicThread::Options{.tick_on_stop = true}) {
    aggregator_.on_hold_settled([this] { thread_.wake(); });
  }

  void stop() { thread_.stop(); }

 private:
  bool write_once() {
    std::string settled_hold;
    auto rows = aggregator_.drain_daily_views(&settled_hold);
    if (!rows.empty()) {
      Status written = db_->begin();
      if (written) written = store_.add_daily_views(rows);
      if (written) written = db_->commit();
      if (!written) {
        log_failure(store_.rollback(), "reel views: rolling back the daily counts");
        aggregator_.return_daily_views(rows);
        fmt::print(stderr, "reel views: writing {} daily counts to SQL failed (kept for the next try): {}\n",
                   rows.size(), written.error().message);
        return true;
      }
    }
    aggregator_.daily_views_written(settled_hold);
    return true;
  }

  std::unique_ptr<sql::Connection> db_;
  sql::CatalogStore store_;
  views::Aggregator& aggregator_;
  PeriodicThread thread_;  // last: starts once the rest is ready
};

// GET /metrics of `reel views --metrics`: the service's counters in Prometheus text.
Task<http::Response> metrics_page(const views::Service* service, const http::Request& request) {
  if (request.path() != "/metrics") co_return http::Response::text(404, "only /metrics here\n");
  std::string body;
  render_views_metrics(*service, body);
  auto response = http::Response::text(200, std::move(body));
  response.set("Content-Type", "text/plain; version=0.0.4");
  response.route = "metrics";
  co_return response;
}

Result<HostPort> listen_address(std::string_view flag, const std::string& text) {
  auto address = parse_host_port(text, /*allow_port_zero=*/true);
  if (!address) return Error{fmt::format("{}: {}", flag, address.error().message)};
  return address;
}

}  // namespace

struct ViewsPipeline::Impl {
  Impl(const config::Config& config, const ViewsInputs& inputs, redis::ConnectionOptions redis_options)
      : inputs(inputs),
        aggregator(clock, aggregator_options(config, inputs)),
        redis(io.get_executor(), std::move(redis_options)),
        service(io.get_executor(), clock, aggregator, redis, service_options(config)) {}

  static views::AggregatorOptions aggregator_options(const config::Config& config,
                                                     const ViewsInputs& inputs) {
    views::AggregatorOptions options;
    options.parser.viewer_secret = config.views.secret;
    options.dedupe_window_seconds = config.views.dedupe_minutes * 60;
    options.partition_index = inputs.partition_index;
    options.partition_count = inputs.partition_count;
    return options;
  }
  static views::ServiceOptions service_options(const config::Config& config) {
    views::ServiceOptions options;
    options.flush_interval = std::chrono::milliseconds(std::max<int64_t>(config.views.flush_ms, 10));
    return options;
  }

  // Starts the drain once (from stop(), a signal or the end of the inputs); the loop ends after.
  void begin_drain() {
    if (draining) return;
    draining = true;
    asio::co_spawn(
        io,
        [this]() -> Task<void> {
          drained = co_await service.drain(inputs.drain_timeout);
          redis.stop();
          if (signals) signals->cancel();
        },
        asio::detached);
  }

  ViewsInputs inputs;
  asio::io_context io{1};
  SystemClock clock;
  views::Aggregator aggregator;
  redis::Connection redis;
  views::Service service;
  std::vector<uint16_t> ports;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<DailyViewsWriter> sql_writer;
  std::unique_ptr<http::Server> metrics;  // with metrics_listen
  bool draining = false;
  Status drained;
};

ViewsPipeline::ViewsPipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ViewsPipeline::~ViewsPipeline() = default;

Result<std::unique_ptr<ViewsPipeline>> ViewsPipeline::open(const config::Config& config,
                                                           const ViewsInputs& inputs) {
  const bool other_inputs = inputs.from_stdin || !inputs.udp.empty() || !inputs.tcp.empty() ||
                            !inputs.follow.empty() || inputs.queue;
  if (!inputs.from_stream && !other_inputs)
    return Error{"no input: give --stream, --stdin, --udp, --tcp or --follow"};
  // The stream's cursor covers every view the aggregator holds; a second input's would be lost in a
  // crash all the same, and silently.
  if (inputs.from_stream && other_inputs) return Error{"--stream takes no other input"};
  auto endpoint = redis::parse_endpoint(config.redis.write);
  if (!endpoint) return Error{"[redis] write: " + endpoint.error().message};
  auto impl = std::make_unique<Impl>(config, inputs, redis_connection_options(config, *endpoint));
  auto executor = impl->io.get_executor();
  if (inputs.from_stream) {
    views::StreamSourceOptions options;
    options.partition = fmt::format("{}/{}", inputs.partition_index + 1, inputs.partition_count);
    std::string partition = options.partition;
    impl->service.add_stream_source(
        views::open_stream_source(executor, redis_connection_options(config, *endpoint), std::move(options)),
        std::move(partition));
  }
  auto add = [&](Result<std::unique_ptr<views::Source>> source) -> Status {
    if (!source) return source.error();
    if (uint16_t port = (*source)->port(); port != 0) impl->ports.push_back(port);
    impl->service.add_source(std::move(*source));
    return {};
  };
  if (inputs.from_stdin) {
    if (auto s = add(views::open_fd_source(executor, 0)); !s) return s.error();
  }
  for (const auto& text : inputs.udp) {
    auto address = listen_address("--udp", text);
    if (!address) return address.error();
    if (auto s = add(views::open_udp_source(executor, *address)); !s) return s.error();
  }
  for (const auto& text : inputs.tcp) {
    auto address = listen_address("--tcp", text);
    if (!address) return address.error();
    if (auto s = add(views::open_tcp_source(executor, *address)); !s) return s.error();
  }
  for (const auto& path : inputs.follow) {
    if (auto s = add(views::open_follow_source(executor, path)); !s) return s.error();
  }
  if (inputs.queue) impl->service.add_source(views::open_queue_source(executor, inputs.queue));
  if (!inputs.metrics_listen.empty()) {
    auto address = listen_address("--metrics", inputs.metrics_listen);
    if (!address) return address.error();
    http::ServerOptions options;
    options.host = address->host;
    options.port = address->port;
    options.threads = 1;
    impl->metrics =
        std::make_unique<http::Server>(options, [service = &impl->service](asio::io_context&, int) {
          return [service](const http::Request& request) { return metrics_page(service, request); };
        });
    if (auto bound = impl->metrics->bind(); !bound) return Error{"--metrics: " + bound.error().message};
  }
  auto db = sql::open({config.sql.url});
  if (!db) return Error{"[sql] url: " + db.error().message};
  if (auto version = sql::migrate(**db); !version) return version.error();
  impl->sql_writer =
      std::make_unique<DailyViewsWriter>(std::move(*db), impl->aggregator, inputs.sql_interval);
  return std::unique_ptr<ViewsPipeline>(new ViewsPipeline(std::move(impl)));
}

Status ViewsPipeline::run() {
  Impl& p = *impl_;
  if (p.inputs.handle_signals) {
    p.signals = std::make_unique<asio::signal_set>(p.io, SIGTERM, SIGINT);
    p.signals->async_wait([&p](const boost::system::error_code& ec, int) {
      if (!ec) p.begin_drain();
    });
  }
  p.redis.start();
  p.service.start([&p] { p.begin_drain(); });
  std::thread metrics_thread;
  if (p.metrics) {
    metrics_thread = std::thread([&p] {
      if (auto s = p.metrics->run(); !s) fmt::print(stderr, "reel views: --metrics: {}\n", s.error().message);
    });
  }
  p.io.run();
  if (p.metrics) {
    p.metrics->stop();
    metrics_thread.join();
  }
  p.sql_writer->stop();  // its last round writes what the final flush applied
  auto counters = p.aggregator.counters();
  fmt::print(stderr,
             "reel views: {} lines, {} views counted, {} searches counted, {} duplicates, {} bots, {} "
             "malformed, {} datagrams dropped by "
             "the kernel\n",
             counters.lines, counters.views(), counters.searches(), counters.of(views::Skip::duplicate),
             counters.of(views::Skip::bot), counters.of(views::Skip::malformed),
             p.service.dropped_datagrams());
  return p.drained;
}

void ViewsPipeline::stop() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->begin_drain(); });
}

std::vector<uint16_t> ViewsPipeline::ports() const {
  return impl_->ports;
}

void ViewsPipeline::render_metrics(std::string& out) const {
  render_views_metrics(impl_->service, out);
}

}  // namespace reel::cli
