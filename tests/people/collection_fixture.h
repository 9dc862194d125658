// The fixture of the collection suites: the suite's redis-server and a fresh database on either
// backend (PeopleWriteTest: SQLite and MariaDB), channels and ready videos projected by `reel
// rebuild`, an event loop with a redis::Connection for the reads, and write(): a write through the
// write path (people/write_fixture.h).
// Thread-safety: run_write_at() may be called from several threads, each with its own Connection
// and client; the rest is for the test's thread.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/asio.h"
#include "people/write_fixture.h"
#include "projection/rebuild.h"
#include "redis/blocking_client.h"
#include "redis/connection.h"
#include "sql/catalog_store.h"
#include "support/event_loop.h"
#include "writes/transaction.h"

namespace reel::testing {

class CollectionTest : public PeopleWriteTest {
 protected:
  static constexpr int64_t now = 1795824000;  // 2026-11-28 00:00 UTC; Redis never sees it as a time

  void SetUp() override {
    PeopleWriteTest::SetUp();
    if (HasFatalFailure()) return;
    connection_.emplace(io_.get_executor(), connection_options());
    connection_->start();
  }

  void TearDown() override {
    connection_.reset();
    PeopleWriteTest::TearDown();
  }

  // A channel (a users row); returns its id.
  int64_t channel(const std::string& name) {
    auto id = store_->ensure_channel(name, "Display " + name);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }

  // A video of `channel_name`, published at `published_at`; returns its id.
  int64_t video(const std::string& channel_name, int64_t published_at,
                catalog::VideoStatus status = catalog::VideoStatus::ready) {
    catalog::Video v;
    v.channel_id = channel(channel_name);
    v.channel_name = channel_name;
    v.title = "Video of " + channel_name;
    v.slug = "video";
    v.status = status;
    v.published_at = published_at;
    v.created_at = published_at;
    v.files = {{"thumb", 180, "demo/x.jpg", 1, "image/jpeg"}};
    auto id = store_->insert_video(v);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }

  // Projects what SQL holds (all projections).
  void rebuild() {
    projection::RebuildOptions options;
    options.now = now;
    auto rebuilt = projection::rebuild(*store_, *redis_, options);
    ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  }

  template <class Write>
  auto write(Write&& fn) {
    return run_write_at(*db_, *redis_, now, std::forward<Write>(fn));
  }

  // Runs a read on the test's event loop.
  template <class T>
  T read(Task<Result<T>> task) {
    auto result = run_task(io_, std::move(task));
    EXPECT_TRUE(result && *result) << (result && !*result ? result->error().message : "no result");
    return result && *result ? std::move(**result) : T{};
  }

  // Every key of Redis with its value, as text (lists with scores, hashes sorted by field).
  std::map<std::string, std::string> snapshot(std::string_view skip_prefix = {}) {
    std::map<std::string, std::string> out;
    std::string cursor = "0";
    do {
      auto scanned = redis_->execute(redis::Command("SCAN", cursor, "COUNT", 1000));
      EXPECT_TRUE(scanned);
      if (!scanned) return out;
      cursor = std::string(scanned->elements()[0].str());
      for (const auto& key : scanned->elements()[1].elements()) {
        std::string name(key.str());
        if (!skip_prefix.empty() && name.starts_with(skip_prefix)) continue;
        out[name] = value_of(name);
      }
    } while (cursor != "0");
    return out;
  }

  std::vector<std::string> zrange(const std::string& key) {
    auto reply = redis_->execute(redis::Command("ZRANGE", key, 0, -1));
    EXPECT_TRUE(reply);
    std::vector<std::string> out;
    if (reply) {
      for (const auto& e : reply->elements()) out.emplace_back(e.str());
    }
    return out;
  }

  asio::io_context io_;
  std::optional<redis::Connection> connection_;

 private:
  std::string value_of(const std::string& key) {
    auto type = redis_->execute(redis::Command("TYPE", key));
    EXPECT_TRUE(type);
    if (!type) return {};
    std::string text = std::string(type->str()) + ":";
    redis::Command read;
    if (type->str() == "string") read = redis::Command("GET", key);
    if (type->str() == "hash") read = redis::Command("HGETALL", key);
    if (type->str() == "zset") read = redis::Command("ZRANGE", key, 0, -1, "WITHSCORES");
    if (type->str() == "set") read = redis::Command("SMEMBERS", key);
    if (read.args().empty()) return text + "(not compared)";
    auto value = redis_->execute(std::move(read));
    EXPECT_TRUE(value);
    if (!value) return text;
    if (!value->is_array()) return text + std::string(value->str());
    std::vector<std::string> parts;
    const auto& elements = value->elements();
    const size_t step = type->str() == "hash" ? 2 : 1;
    for (size_t i = 0; i < elements.size(); i += step) {
      std::string part(elements[i].str());
      if (step == 2) part += "=" + std::string(elements[i + 1].str());
      parts.push_back(std::move(part));
    }
    if (type->str() != "zset") std::sort(parts.begin(), parts.end());
    for (const auto& part : parts) text += part + "|";
    return text;
  }
};

}  // namespace reel::testing
