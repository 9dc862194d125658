// The people's writes on a real data dir (bench/people.sh drives it; docs/benchmarks.md):
//   reel_people_bench users  --data-dir D --count N           N accounts "benchu1".."benchuN", all
//                                                              with the password "bench password"
//   reel_people_bench follow --data-dir D --user NAME --channels N   NAME follows N channels
//   reel_people_bench writes --data-dir D --kind vote|comment --threads T --count N [--users U]
//                                                              (U: how many bench users there are)
// Every write goes through the write path (writes::write_blocking: the SQL transaction with its
// outbox rows, then the delta applied to the data dir's Redis), as the HTTP handlers run it, minus
// HTTP, sessions and rate limits. `users` hashes the password once and stores that hash for every
// account (Argon2id would otherwise be the whole cost: docs/benchmarks.md §10); `writes` runs T
// threads, each with its own SQL connection and Redis client, on random bench users and random
// ready videos, and prints writes/s and the latency of one write (p50, p99).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/accounts.h"
#include "auth/password.h"
#include "cli/data_dir.h"
#include "people/comments.h"
#include "people/subscriptions.h"
#include "people/votes.h"
#include "sql/catalog_store.h"
#include "sql/connection.h"
#include "sql/user_store.h"
#include "writes/write_path.h"

namespace {

using namespace reel;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view user_prefix = "benchu";
constexpr std::string_view bench_password = "bench password";

struct Flags {
  std::string command;
  std::string data_dir;
  std::string kind = "vote";
  std::string user;
  int64_t count = 10000;
  int64_t channels = 1000;
  int64_t users = 100000;
  int threads = 2;
};

Flags parse(int argc, char** argv) {
  Flags flags;
  if (argc > 1) flags.command = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view name = argv[i];
    const std::string value = argv[i + 1];
    if (name == "--data-dir") flags.data_dir = value;
    if (name == "--kind") flags.kind = value;
    if (name == "--user") flags.user = value;
    if (name == "--count") flags.count = std::atoll(value.c_str());
    if (name == "--channels") flags.channels = std::atoll(value.c_str());
    if (name == "--users") flags.users = std::atoll(value.c_str());
    if (name == "--threads") flags.threads = std::atoi(value.c_str());
  }
  return flags;
}

[[noreturn]] void die(const Error& error) {
  fmt::print(stderr, "reel_people_bench: {}\n", error.message);
  std::exit(1);
}

template <class T>
T must(Result<T> result) {
  if (!result.ok()) die(result.error());
  return std::move(*result);
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What one thread of the bench works with: the data dir's SQL store and Redis.
struct Stores {
  std::unique_ptr<sql::Connection> sql;
  cli::RedisLease redis;
};

Stores open_stores(const cli::DataDir& dir) {
  Stores stores;
  stores.sql = must(sql::open({dir.config().sql.url}));
  must(sql::migrate(*stores.sql));
  stores.redis = must(cli::connect_redis(dir.config(), &dir));
  return stores;
}

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

double percentile_ms(std::vector<double>& latencies, double p) {
  if (latencies.empty()) return 0;
  const size_t at =
      std::min(latencies.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies.size())));
  std::nth_element(latencies.begin(), latencies.begin() + static_cast<std::ptrdiff_t>(at), latencies.end());
  return latencies[at] * 1000;
}

void report(std::string_view what, int64_t done, int64_t failed, double seconds,
            std::vector<double>& latencies) {
  fmt::print("{}: {} in {:.1f} s = {:.0f}/s, p50 {:.2f} ms, p99 {:.2f} ms, {} failed\n", what, done, seconds,
             static_cast<double>(done) / seconds, percentile_ms(latencies, 0.5),
             percentile_ms(latencies, 0.99), failed);
}

void users(const cli::DataDir& dir, const Flags& flags) {
  Stores stores = open_stores(dir);
  auto hasher = must(auth::PasswordHasher::create(auth::default_password_cost));
  const std::string hash = must(hasher.hash(bench_password));
  std::vector<double> latencies;
  int64_t failed = 0;
  const auto start = SteadyClock::now();
  for (int64_t i = 1; i <= flags.count; ++i) {
    const std::string name = fmt::format("{}{}", user_prefix, i);
    auto account = must(auth::prepare_registration(name, name + "@bench.example", bench_password));
    const auto began = SteadyClock::now();
    auto written = writes::write_blocking<auth::Registered>(
        *stores.sql, *stores.redis.client,
        [&](writes::Transaction& tx) { return auth::register_account(tx, account, hash, unix_now()); },
        unix_now());
    latencies.push_back(seconds_since(began));
    if (!written.ok() || !written->value.user) ++failed;  // taken: made by an earlier run
  }
  report("accounts through the write path (hash excluded)", flags.count - failed, failed,
         seconds_since(start), latencies);
}

void follow(const cli::DataDir& dir, const Flags& flags) {
  Stores stores = open_stores(dir);
  auto user = must(sql::UserStore(*stores.sql).find_by_name(flags.user));
  if (!user) die(Error{"no user " + flags.user});
  auto channels = must(sql::CatalogStore(*stores.sql).channels());
  int64_t followed = 0;
  std::vector<double> latencies;
  const auto start = SteadyClock::now();
  for (const catalog::Channel& channel : channels) {
    if (followed == flags.channels) break;
    if (channel.id == user->id) continue;
    const auto began = SteadyClock::now();
    auto written = writes::write_blocking<int64_t>(
        *stores.sql, *stores.redis.client,
        [&](writes::Transaction& tx) { return people::subscribe(tx, user->id, channel.name, unix_now()); },
        unix_now());
    latencies.push_back(seconds_since(began));
    if (written.ok()) ++followed;
  }
  report("subscriptions through the write path", followed, 0, seconds_since(start), latencies);
}

void run_writes(const cli::DataDir& dir, const Flags& flags) {
  Stores probe = open_stores(dir);
  const auto first = must(sql::UserStore(*probe.sql).find_by_name(fmt::format("{}1", user_prefix)));
  if (!first) die(Error{"no bench users: run `users` first"});
  const int64_t videos = must(sql::CatalogStore(*probe.sql).count_videos());
  const bool comments = flags.kind == "comment";
  std::atomic<int64_t> next{0}, failed{0};
  std::mutex merge;
  std::vector<double> latencies;
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < flags.threads; ++t) {
    threads.emplace_back([&, t] {
      Stores stores = open_stores(dir);
      std::mt19937_64 random(static_cast<uint64_t>(t) * 7919 + 1);
      std::vector<double> mine;
      while (next.fetch_add(1) < flags.count) {
        // Bench users were registered one after the other: their ids follow the first one's.
        const int64_t user = first->id + static_cast<int64_t>(random() % static_cast<uint64_t>(flags.users));
        const int64_t video = 1 + static_cast<int64_t>(random() % static_cast<uint64_t>(videos));
        const int value = random() % 2 == 0 ? 1 : -1;
        const auto began = SteadyClock::now();
        Result<bool> landed = Error{"not run"};
        if (comments) {
          landed = writes::run_blocking(
              *stores.sql, *stores.redis.client,
              [&](writes::Transaction& tx) -> Status {
                auto added = people::add_comment(tx, user, video, "A comment from the bench.", 0, unix_now());
                return added.ok() ? Status{} : Status{added.error()};
              },
              unix_now());
        } else {
          landed = writes::run_blocking(
              *stores.sql, *stores.redis.client,
              [&](writes::Transaction& tx) -> Status {
                auto voted = people::vote(tx, user, video, value, unix_now());
                return voted.ok() ? Status{} : Status{voted.error()};
              },
              unix_now());
        }
        mine.push_back(seconds_since(began));
        if (!landed.ok()) failed.fetch_add(1);  // e.g. a video not ready, or a user not there
      }
      std::lock_guard lock(merge);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& thread : threads) thread.join();
  report(fmt::format("{}s through the write path, {} threads", flags.kind, flags.threads),
         flags.count - failed.load(), failed.load(), seconds_since(start), latencies);
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = parse(argc, argv);
  if (flags.data_dir.empty() ||
      (flags.command != "users" && flags.command != "follow" && flags.command != "writes")) {
    fmt::print(stderr,
               "usage: reel_people_bench users|follow|writes --data-dir DIR [options] (see the source)\n");
    return 2;
  }
  const cli::DataDir dir = must(cli::DataDir::open(flags.data_dir));
  if (flags.command == "users") users(dir, flags);
  if (flags.command == "follow") follow(dir, flags);
  if (flags.command == "writes") run_writes(dir, flags);
  return 0;
}
