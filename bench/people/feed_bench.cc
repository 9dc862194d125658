// The subscription feed for a user following many channels (people/feed.h), against a private
// redis-server: the cost of building the merged feed (cache missing) and of reading a page from the
// cache, seen by the client (latency of read_feed) and by Redis (INFO commandstats: µs per call of
// the script).
//   reel_people_feed_bench [--channels N] [--videos-per-channel N] [--reps N]
// The catalog is written straight into Redis: each channel's newest list and each video's card,
// publication times spread over 30 days.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "people/feed.h"
#include "projection/collection_keys.h"
#include "projection/keys.h"
#include "projection/projector.h"
#include "redis/blocking_client.h"
#include "redis/connection.h"
#include "redis/server.h"
#include "shared/private_redis.h"

namespace {

using namespace reel;
using Clock = std::chrono::steady_clock;

struct Flags {
  int channels = 1000;
  int videos_per_channel = 100;
  int reps = 200;
};

Flags parse(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view name = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (name == "--channels") flags.channels = value;
    if (name == "--videos-per-channel") flags.videos_per_channel = value;
    if (name == "--reps") flags.reps = value;
  }
  return flags;
}

Status check(const Result<std::vector<redis::Reply>>& replies) {
  if (!replies) return replies.error();
  for (const auto& reply : *replies) {
    if (reply.is_error()) return Error{std::string(reply.str())};
  }
  return {};
}

Status seed(redis::BlockingClient& client, const Flags& flags, int64_t user) {
  std::mt19937_64 random(42);
  const int64_t now = 1795824000;
  std::vector<redis::Command> batch;
  int64_t id = 0;
  redis::Command follow("ZADD", projection::keys::subscriptions(user));
  for (int c = 0; c < flags.channels; ++c) {
    const std::string name = fmt::format("channel{}", c);
    follow.arg(now + c).arg(name);
    redis::Command newest(
        "ZADD", projection::keys::list({projection::ListKind::channel, name}, projection::Sort::newest));
    for (int v = 0; v < flags.videos_per_channel; ++v) {
      catalog::Video video;
      video.id = ++id;
      video.title = fmt::format("Video {}", id);
      video.slug = "video";
      video.channel_name = name;
      video.published_at = now - static_cast<int64_t>(random() % (30 * 86400));
      newest.arg(video.published_at).arg(video.id);
      for (auto& command : projection::video_object_commands(video, name))
        batch.push_back(std::move(command));
    }
    batch.push_back(std::move(newest));
    if (batch.size() > 10000) {
      if (Status sent = check(client.execute(std::move(batch))); !sent) return sent;
      batch.clear();
    }
  }
  batch.push_back(std::move(follow));
  return check(client.execute(std::move(batch)));
}

// µs per call of EVALSHA and EVAL since the last CONFIG RESETSTAT, from INFO commandstats.
double script_usec_per_call(redis::BlockingClient& client) {
  auto info = client.execute(redis::Command("INFO", "commandstats"));
  if (!info) return -1;
  const std::string_view text = info->str();
  double usec = 0, calls = 0;
  for (std::string_view command : {"cmdstat_evalsha:", "cmdstat_eval:"}) {
    const size_t at = text.find(command);
    if (at == std::string_view::npos) continue;
    calls += std::strtod(text.data() + text.find("calls=", at) + 6, nullptr);
    usec += std::strtod(text.data() + text.find("usec=", at) + 5, nullptr);
  }
  return calls > 0 ? usec / calls : -1;
}

Task<void> measure(redis::Connection& connection, redis::BlockingClient& client, const Flags& flags,
                   int64_t user, bool cold, std::vector<double>& micros, std::string& failure, bool& done) {
  for (int rep = 0; rep < flags.reps; ++rep) {
    if (cold) {
      if (auto dropped = client.execute(redis::Command("DEL", projection::keys::feed(user))); !dropped) {
        failure = dropped.error().message;
        break;
      }
    }
    const auto start = Clock::now();
    auto page = co_await people::read_feed(connection, user, cold ? 1 : 1 + rep % 10, 30);
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    if (!page || page->cards.size() != 30) {
      failure = page ? fmt::format("{} cards on a page", page->cards.size()) : page.error().message;
      break;
    }
  }
  done = true;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = parse(argc, argv);
  auto own = bench::start_private_redis("/tmp/reel-people-feed-bench", std::chrono::seconds(60));
  if (!own) {
    std::fprintf(stderr, "%s\n", own.error().message.c_str());
    return 1;
  }
  redis::BlockingClient* client = &own->client;
  const redis::ConnectionOptions& options = own->options;
  const int64_t user = 1;
  if (Status seeded = seed(*client, flags, user); !seeded) {
    std::fprintf(stderr, "seeding: %s\n", seeded.error().message.c_str());
    return 1;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("%d channels followed, %d videos each, %d reps\n", flags.channels, flags.videos_per_channel,
              flags.reps);
  asio::io_context io;
  redis::Connection connection(io.get_executor(), options);
  connection.start();
  for (bool cold : {true, false}) {
    if (auto reset = client->execute(redis::Command("CONFIG", "RESETSTAT")); !reset) return 1;
    std::vector<double> micros;
    std::string failure;
    bool done = false;
    asio::co_spawn(io, measure(connection, *client, flags, user, cold, micros, failure, done),
                   asio::detached);
    io.restart();
    while (!done) io.run_one();  // the connection keeps the loop busy: run until the task ends
    if (!failure.empty()) {
      std::fprintf(stderr, "%s\n", failure.c_str());
      return 1;
    }
    std::printf("%-36s client p50 %8.0f us  p99 %8.0f us   redis %8.0f us per script call\n",
                cold ? "build (no cache) + page 1:" : "page 1..10 from the cache:", percentile(micros, 0.5),
                percentile(micros, 0.99), script_usec_per_call(*client));
  }
  connection.stop();
  if (Status stopped = own->server.stop(); !stopped)
    std::fprintf(stderr, "%s\n", stopped.error().message.c_str());
  return 0;
}
