// End to end: `reel views --stream` SIGKILLed again and again while events keep arriving counts
// every event exactly once. A real redis-server and SQLite; a feeder XADDs view lines to the views
// stream as syslog-ng's redis() destination does; the aggregator is killed as soon as it has
// applied views since it started (so kills land between and inside its flushes), and restarted.
// Once the feeder is done, the last aggregator catches up: every list total must equal what was
// fed, neither less (a lost generation or cursor) nor more (a generation applied twice).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "process/child.h"
#include "projection/keys.h"
#include "redis/blocking_client.h"
#include "support/fixtures.h"
#include "support/http_client.h"  // eventually
#include "support/reel_up.h"      // reel_binary, read_file
#include "support/suite_redis.h"

namespace reel {
namespace {

namespace fs = std::filesystem;
namespace keys = projection::keys;
using namespace std::chrono_literals;
using testing::eventually;
using testing::read_file;
using testing::reel_binary;

constexpr int videos = 300;  // more than a chunk's 200 entries: a generation is several chunks

class ViewsKill : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.start().ok()) << "redis-server did not start";
    config_ = dir_.path() / "reel.toml";
    std::ofstream(config_) << "[redis]\nwrite = \"127.0.0.1:" << redis_.server()->endpoint().port << "\"\n"
                           << "[sql]\nurl = \"sqlite:" << (dir_.path() / "reel.db").string() << "\"\n"
                           << "[paths]\nmedia = \"" << (dir_.path() / "media").string() << "\"\n"
                           << "[views]\nsink = \"none\"\nflush_ms = 20\n";
    ASSERT_EQ(run({"migrate"}), 0) << read_file(dir_.path() / "setup.log");
    ASSERT_EQ(run({"seed", "--videos", std::to_string(videos)}), 0) << read_file(dir_.path() / "setup.log");
    client_ = connect();
    ASSERT_TRUE(client_);
  }

  void TearDown() override {
    aggregator_.reset();
    EXPECT_TRUE(redis_.stop().ok());
  }

  std::optional<redis::BlockingClient> connect() {
    redis::ConnectionOptions connection;
    connection.endpoint = redis_.server()->endpoint();
    auto client = redis::BlockingClient::connect(connection);
    EXPECT_TRUE(client) << client.error().message;
    if (!client) return std::nullopt;
    return std::move(*client);
  }

  int run(std::vector<std::string> args) {
    std::vector<std::string> argv{reel_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", config_.string()});
    const std::string log = (dir_.path() / "setup.log").string();
    auto child = process::Child::spawn({.argv = argv, .stdout_path = log, .stderr_path = log});
    if (!child) return -1;
    auto status = child->wait_for(5min);
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }

  void start_aggregator() {
    const std::string log = (dir_.path() / "views.log").string();
    auto child =
        process::Child::spawn({.argv = {reel_binary(), "views", "--stream", "--config", config_.string()},
                               .stdout_path = log,
                               .stderr_path = log});
    ASSERT_TRUE(child) << child.error().message;
    aggregator_.emplace(std::move(*child));
  }

  // The sum of every score in z:views:all: the seeded counts plus every view applied.
  int64_t total_views(redis::BlockingClient& client) {
    auto all = client.execute(redis::Command(
        "ZRANGE",
        keys::list({projection::ListKind::all, {}}, projection::Sort::views, projection::Period::all), 0, -1,
        "WITHSCORES"));
    EXPECT_TRUE(all && all->is_array());
    if (!all || !all->is_array()) return -1;
    int64_t total = 0;
    for (size_t i = 1; i < all->elements().size(); i += 2) total += all->elements()[i].integer();
    return total;
  }

  testing::TempDir dir_;
  testing::SuiteRedis redis_;
  fs::path config_;
  std::optional<redis::BlockingClient> client_;
  std::optional<process::Child> aggregator_;
};

TEST_F(ViewsKill, EveryEventIsCountedOnceThroughRepeatedKills) {
  const int64_t seeded = total_views(*client_);
  ASSERT_GE(seeded, 0);

  // The feeder: batches of XADDs, each line a new viewer (nothing is a duplicate), all of them
  // timed now (within the aggregator's age window whatever the date). It feeds at least
  // `min_batches`, and goes on until the aggregator has been killed `min_kills` times, however
  // slowly a loaded machine restarts it (`max_batches` bounds it should the kills stall).
  constexpr int min_batches = 60, max_batches = 2'000, per_batch = 250, min_kills = 3;
  std::atomic<bool> fed{false};
  std::atomic<int> kills{0};
  std::atomic<int64_t> sent{0}, acknowledged{0};
  // A jthread: should an assertion below return early, its destructor stops and joins the feeder.
  std::jthread feeder([&](std::stop_token stop) {
    auto client = connect();
    if (!client) return;
    for (int b = 0; b < max_batches && (b < min_batches || kills < min_kills) && !stop.stop_requested();
         ++b) {
      std::vector<redis::Command> adds;
      const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      for (int i = 0; i < per_batch; ++i) {
        const int n = b * per_batch + i;
        adds.emplace_back("XADD", keys::views_stream(), "*", "l",
                          "t=" + std::to_string(now) + " v=" + std::to_string(1 + n % videos) + " k=viewer" +
                              std::to_string(n) + " r=search u=desktop");
      }
      sent += per_batch;
      auto replies = client->execute(std::move(adds));
      if (replies) {
        for (const auto& reply : *replies) acknowledged += reply.is_error() ? 0 : 1;
      }
      std::this_thread::sleep_for(15ms);  // pacing, so kills land while events keep coming
    }
    fed = true;
  });

  while (!fed) {
    const int64_t before = total_views(*client_);
    start_aggregator();
    // Kill it once it has applied views of its own, or the feeder is done.
    ASSERT_TRUE(eventually([&] { return total_views(*client_) > before || fed; }, 120s))
        << read_file(dir_.path() / "views.log");
    if (fed) break;
    ASSERT_EQ(::kill(aggregator_->pid(), SIGKILL), 0);
    ASSERT_TRUE(aggregator_->wait_for(60s));
    aggregator_.reset();
    ++kills;
  }
  feeder.join();
  ASSERT_EQ(acknowledged.load(), sent.load()) << "an XADD was refused";
  ASSERT_GE(kills, min_kills) << "the aggregator stalled for " << max_batches << " batches";

  if (!aggregator_) start_aggregator();
  const int64_t expected = seeded + acknowledged.load();
  ASSERT_TRUE(eventually([&] { return total_views(*client_) >= expected; }, 120s))
      << "counted " << total_views(*client_) - seeded << " of " << acknowledged.load() << "\n"
      << read_file(dir_.path() / "views.log");
  // A clean stop applies everything and brings the cursor to the end of the stream.
  ASSERT_EQ(::kill(aggregator_->pid(), SIGTERM), 0);
  auto status = aggregator_->wait_for(60s);
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << read_file(dir_.path() / "views.log");
  aggregator_.reset();
  EXPECT_EQ(total_views(*client_), expected) << "views counted twice after " << kills.load() << " kills";
  std::printf("events fed %lld, aggregator killed %d times, views counted %lld\n",
              static_cast<long long>(acknowledged.load()), kills.load(),
              static_cast<long long>(total_views(*client_) - seeded));

  // Nothing is left in flight, the cursor is at the stream's last entry, and the stream is
  // trimmed to about it (XTRIM ~ keeps at most a node of entries).
  auto generation = client_->execute(redis::Command("EXISTS", keys::views_generation("1/1")));
  ASSERT_TRUE(generation);
  EXPECT_EQ(generation->integer(), 0);
  auto cursor = client_->execute(redis::Command("HGET", keys::views_cursors(), "1/1"));
  auto last = client_->execute(redis::Command("XREVRANGE", keys::views_stream(), "+", "-", "COUNT", 1));
  ASSERT_TRUE(cursor && last && last->is_array() && last->elements().size() == 1);
  EXPECT_EQ(cursor->str(), last->elements()[0].elements()[0].str());
  auto length = client_->execute(redis::Command("XLEN", keys::views_stream()));
  ASSERT_TRUE(length);
  EXPECT_LT(length->integer(), acknowledged.load() / 2);
}

}  // namespace
}  // namespace reel
