// A fixture for the community writes against the suite's redis-server and a fresh database on
// either backend (PeopleWriteTest: SQLite and MariaDB): a small catalog (three ready videos in two
// categories, one processing), projected into Redis by a rebuild, so cards exist as they do on a live site;
// run_write() and converge() as in people/write_fixture.h. Thread-safety: run_write() may be called from
// several threads, each with its own connection and client; the rest is for the test's thread.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/asio.h"  // before any other Asio header
#include "common/clock.h"
#include "people/write_fixture.h"
#include "projection/keys.h"
#include "projection/rebuild.h"
#include "projection/redis_community_read_model.h"
#include "projection/redis_read_model.h"
#include "redis/blocking_client.h"
#include "sql/outbox_store.h"
#include "support/event_loop.h"
#include "writes/relay.h"
#include "writes/transaction.h"
#include "writes/write_path.h"

namespace reel::testing {

// Everything in Redis but the write path's watermarks (its bookkeeping, not a projection), as
// comparable text per key: a string's value, a hash's fields sorted, a sorted set's members with
// their scores in order (TTLs are left out).
inline std::map<std::string, std::string> dump_redis(redis::BlockingClient& redis) {
  std::map<std::string, std::string> out;
  std::string cursor = "0";
  do {
    auto scan = redis.execute(redis::Command("SCAN", cursor, "COUNT", 1000));
    if (!scan) {
      ADD_FAILURE() << scan.error().message;
      return out;
    }
    cursor = std::string(scan->elements()[0].str());
    std::string watermarks = projection::keys::write_seq_pattern();
    watermarks.pop_back();  // the prefix before '*'
    for (const auto& key : scan->elements()[1].elements()) {
      if (!key.str().starts_with(watermarks)) out[std::string(key.str())];
    }
  } while (cursor != "0");
  for (auto& [key, text] : out) {
    auto type = redis.execute(redis::Command("TYPE", key));
    if (!type) continue;
    const std::string kind(type->str());
    redis::Command read;
    if (kind == "string") read = redis::Command("GET", key);
    if (kind == "hash") read = redis::Command("HGETALL", key);
    if (kind == "zset") read = redis::Command("ZRANGE", key, 0, -1, "WITHSCORES");
    if (kind == "set") read = redis::Command("SMEMBERS", key);
    if (read.args().empty()) {
      text = kind;
      continue;
    }
    auto value = redis.execute(std::move(read));
    if (!value) continue;
    text = kind + ":";
    if (!value->is_array()) {
      text += value->str();
      continue;
    }
    std::vector<std::string> parts;
    const auto& items = value->elements();
    const size_t step = kind == "hash" || kind == "zset" ? 2 : 1;
    for (size_t i = 0; i + step <= items.size(); i += step) {
      std::string part(items[i].str());
      if (step == 2) part += "=" + std::string(items[i + 1].str());
      parts.push_back(std::move(part));
    }
    if (kind != "zset") std::sort(parts.begin(), parts.end());  // a zset's order is its content
    for (const auto& part : parts) text += "\n  " + part;
  }
  return out;
}

class CommunityTest : public PeopleWriteTest {
 protected:
  void SetUp() override {
    PeopleWriteTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(store_->ensure_category("music", "Music", 0));
    ASSERT_TRUE(store_->ensure_category("sports", "Sports", 1));
    owner_ = add_user("ann", "Ann");
    video_ = add_video({"music"});
    other_ = add_video({"sports", "music"});
    third_ = add_video({"sports"});
    processing_ = add_video({}, catalog::VideoStatus::processing);
    ASSERT_FALSE(HasFatalFailure());
    rebuild_all();
  }

  int64_t add_user(const std::string& name, const std::string& display_name) {
    auto id = store_->ensure_channel(name, display_name);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }

  int64_t add_video(std::vector<std::string> categories,
                    catalog::VideoStatus status = catalog::VideoStatus::ready) {
    catalog::Video video;
    video.channel_id = owner_;
    video.channel_name = "ann";
    video.title = "Clip";
    video.slug = "clip";
    video.status = status;
    video.created_at = video.published_at = now_ - 3600;
    video.categories = std::move(categories);
    auto id = store_->insert_video(video);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }

  void rebuild_all() {
    projection::RebuildOptions options;
    options.now = now_;
    auto rebuilt = projection::rebuild(*store_, *redis_, options);
    ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  }

  // Runs `write(tx)` through the write path on `db` and `redis` (run_write_at, at now_).
  template <class Write>
  auto run_write(sql::Connection& db, redis::BlockingClient& redis, Write&& write, bool* landed = nullptr) {
    return run_write_at(db, redis, now_, std::forward<Write>(write), landed);
  }

  // On the test's connections, where writes come one at a time: every delta lands at once.
  template <class Write>
  auto run_write(Write&& write) {
    bool landed = false;
    auto result = run_write(*db_, *redis_, std::forward<Write>(write), &landed);
    EXPECT_TRUE(!result || landed) << "a delta did not land at once";
    return result;
  }

  // The write was refused with `kind`.
  template <class T>
  static void expect_refused(const Result<T>& result, ErrorKind kind) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, kind) << result.error().message;
  }

  // Redis reads for the checks.
  redis::Reply call(redis::Command command) {
    auto reply = redis_->execute(std::move(command));
    EXPECT_TRUE(reply) << reply.error().message;
    return reply ? std::move(*reply) : redis::Reply{};
  }

  // The read models on an event loop of their own, as a server loop runs them.
  struct Readers {
    explicit Readers(const redis::Endpoint& endpoint)
        : connection(io.get_executor(), redis::ConnectionOptions{.endpoint = endpoint}),
          community(connection),
          videos(connection, clock) {
      connection.start();
    }
    template <class T>
    T run(Task<T> task) {
      auto result = run_task(io, std::move(task));
      return result ? std::move(*result) : T(Error{"the read did not finish"});
    }
    asio::io_context io;
    redis::Connection connection;
    SystemClock clock;
    projection::RedisCommunityReadModel community;
    projection::RedisReadModel videos;
  };

  const int64_t now_ = SystemClock().unix_seconds();
  int64_t owner_ = 0;
  int64_t video_ = 0, other_ = 0, third_ = 0, processing_ = 0;
};

}  // namespace reel::testing
