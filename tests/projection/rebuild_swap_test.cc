// The rebuild's swap, watched from the read side: listing pages read in a loop through the real
// read model (RedisReadModel on an event loop of its own) while `reel rebuild` rebuilds a
// 100,000-video catalog (seeded through the seed code into SQLite) in a real redis-server. Every
// page must come back without an error and full: 30 cards, or the true remainder on the last page.
// A list that was missing or half built at some moment shows as a short page or a wrong total.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/asio.h"  // before any other Asio header
#include "common/clock.h"
#include "common/days.h"
#include "projection/rebuild.h"
#include "projection/redis_read_model.h"
#include "support/redis_sqlite_test.h"
#include "support/synthetic_catalog.h"

namespace reel::projection {
namespace {

using namespace std::chrono_literals;

constexpr int64_t catalog_size = 100'000;

std::string describe(const ListQuery& q) {
  return fmt::format("{}:{} {} {} page {}", static_cast<int>(q.kind), q.name, sort_name(q.sort),
                     period_name(q.period), q.page);
}

class RebuildSwap : public reel::testing::RedisSqliteTest {
 protected:
  Status rebuild_now(std::vector<std::string> projections) {
    RebuildOptions options;
    options.projections = std::move(projections);
    options.now = SystemClock().unix_seconds();
    auto stats = rebuild(*store_, *redis_, options);
    if (!stats) return stats.error();
    return {};
  }
};

TEST_F(RebuildSwap, PagesReadDuringARebuildAreAlwaysFull) {
  ASSERT_TRUE(reel::testing::insert_synthetic_catalog(*store_, catalog_size));
  // The lists pages read (related lists, which no listing reads, come with the rebuild below).
  auto first = rebuild_now({"videos", "channels", "nav", "newest", "views", "rating", "duration"});
  ASSERT_TRUE(first) << first.error().message;

  catalog::Video sample;
  ASSERT_TRUE(store_->for_each_video(catalog::VideoStatus::ready, [&](const catalog::Video& v) {
    if (sample.id == 0) sample = v;
  }));
  ASSERT_FALSE(sample.tags.empty());
  ASSERT_FALSE(sample.categories.empty());

  // The lists to read: every sort and period of the global list, and lists of a category, a tag
  // and a channel.
  std::vector<ListQuery> lists;
  for (Sort sort : all_sorts) {
    if (sort == Sort::views) {
      for (Period period : all_periods) lists.push_back({ListKind::all, {}, sort, period});
    } else {
      lists.push_back({ListKind::all, {}, sort});
    }
  }
  for (Sort sort : {Sort::newest, Sort::views, Sort::rating}) {
    lists.push_back({ListKind::category, sample.categories[0], sort});
  }
  lists.push_back({ListKind::category, sample.categories[0], Sort::views, Period::month});
  lists.push_back({ListKind::tag, sample.tags[0], Sort::views});
  lists.push_back({ListKind::channel, sample.channel_name, Sort::newest});

  std::atomic<bool> rebuilding{false};
  std::atomic<bool> done{false};
  std::mutex mutex;
  std::vector<std::string> problems;
  uint64_t pages_during = 0;
  std::map<std::string, int64_t> totals;  // per list, from the first read (before the rebuild)
  auto problem = [&](std::string text) {
    std::lock_guard lock(mutex);
    if (problems.size() < 20) problems.push_back(std::move(text));
  };

  std::thread reader([&] {
    asio::io_context io;
    redis::Connection connection(io.get_executor(),
                                 redis::ConnectionOptions{.endpoint = server().endpoint()});
    connection.start();
    SystemClock clock;
    // A read model of its own for every read, so no page or card is kept: each read goes to Redis.
    std::optional<RedisReadModel> model;
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
          model.emplace(connection, clock);
          co_await model->ready();
          // Pages 1, 2, one in the middle and the last of each list.
          std::vector<ListQuery> queries;
          for (const ListQuery& list : lists) {
            model.emplace(connection, clock);
            auto listing = co_await model->listing(list);
            if (!listing || !(*listing)->found || (*listing)->total == 0) {
              problem("before the rebuild: no list " + describe(list));
              continue;
            }
            totals[describe(list)] = (*listing)->total;
            const int pages = (*listing)->pages;
            for (int page : {1, 2, pages / 2, pages}) {
              if (page < 1) continue;
              ListQuery q = list;
              q.page = page;
              queries.push_back(q);
            }
          }
          rebuilding = true;
          while (!done) {
            for (ListQuery q : queries) {
              model.emplace(connection, clock);
              auto listing = co_await model->listing(q);
              if (!done) ++pages_during;
              const ListQuery as_list{q.kind, q.name, q.sort, q.period};
              const int64_t total = totals[describe(as_list)];
              const size_t expected = static_cast<size_t>(std::min<int64_t>(30, total - (q.page - 1) * 30));
              if (!listing) {
                problem(describe(q) + ": " + listing.error().message);
              } else if (!(*listing)->found || (*listing)->total != total) {
                problem(fmt::format("{}: found {}, total {} (expected {})", describe(q), (*listing)->found,
                                    (*listing)->total, total));
              } else if ((*listing)->cards.size() != expected) {
                problem(fmt::format("{}: {} cards (expected {})", describe(q), (*listing)->cards.size(),
                                    expected));
              }
            }
          }
          connection.stop();
        },
        asio::detached);
    io.run();
  });

  // The rebuild starts once the reader reads the pages it checks.
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (!rebuilding && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  if (!rebuilding) {
    done = true;
    reader.join();
    FAIL() << "the reader never started";
  }
  auto second = rebuild_now({});
  done = true;
  reader.join();

  for (const auto& text : problems) ADD_FAILURE() << text;
  EXPECT_TRUE(problems.empty());
  ASSERT_TRUE(second) << second.error().message;
  // The reader did read while the lists were swapped (else this proves nothing).
  EXPECT_GT(pages_during, 100u);
}

}  // namespace
}  // namespace reel::projection
