// `reel backup` and `reel restore` end to end, on SQLite and on MariaDB: a site on `reel up` with
// people's activity and counted views is backed up while it runs; restored onto a fresh data dir
// and started, it holds every Redis key (every list with its scores, every hash, string, set and
// stream, and whether it expires) and every SQL row of every table the original held as of the
// backup. A backup taken while writes go on restores to a node whose Redis agrees with its SQL.
// Bad input (no backup, a damaged one, a target that holds data, a backup that fails to load)
// ends with a clear error and a node that is restored completely or refuses to run.
#include "sql/backup.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "config/config.h"
#include "process/child.h"
#include "projection/account_keys.h"
#include "projection/collection_keys.h"
#include "projection/keys.h"
#include "redis/blocking_client.h"
#include "redis/server.h"
#include "sql/connection.h"
#include "sql/test_database.h"
#include "support/http_client.h"
#include "support/reel_up.h"

namespace reel {
namespace {

namespace fs = std::filesystem;
using sql::testing::Backend;
using testing::http_call;
using testing::HttpReply;

constexpr std::string_view json_type = "Content-Type: application/json\r\n";

// What a node holds: every Redis key rendered as text, every table's rows (sorted).
struct NodeState {
  std::map<std::string, std::string> redis;
  std::map<std::string, std::vector<std::string>> sql;
};

// Keys a running node writes by itself (the view aggregators' presence and chunk tokens; the week
// and month lists with their windows, which its upkeep moves on by itself at the start of each UTC
// day, views/windows.h, so they differ when the test spans midnight), or that expire within the
// test's span (rate-limit windows, cached feeds): not compared. The day lists the week and month
// lists are sums of are compared.
bool volatile_key(const std::string& key) {
  auto suffix_of = [](const std::string& global) { return global.substr(global.find(':')); };
  static const std::vector<std::string> suffixes = {
      suffix_of(projection::keys::list({}, projection::Sort::views, projection::Period::week)),
      suffix_of(projection::keys::list({}, projection::Sort::views, projection::Period::month))};
  if (std::any_of(suffixes.begin(), suffixes.end(), [&](const std::string& s) { return key.ends_with(s); }))
    return true;
  auto prefix_of = [](const std::string& sample) { return sample.substr(0, sample.find(':') + 1); };
  static const std::vector<std::string> prefixes = {
      projection::keys::views_aggregator(""), projection::keys::views_batch(""),
      prefix_of(projection::account_keys::rate_window("s", "c", 0)), prefix_of(projection::keys::feed(0))};
  if (key == projection::keys::views_aggregators() || key == projection::keys::views_hold() ||
      key == projection::keys::views_windows())
    return true;
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& p) { return key.starts_with(p); });
}

std::string render(const redis::Reply& reply) {
  if (reply.is_nil()) return "nil";
  if (!reply.is_array())
    return std::string(reply.str()) +
           (reply.type() == redis::Reply::Type::integer ? std::to_string(reply.integer()) : "");
  std::string out = "[";
  for (const redis::Reply& element : reply.elements()) out += render(element) + ",";
  return out + "]";
}

Result<std::map<std::string, std::string>> dump_redis(const std::string& endpoint) {
  auto parsed = redis::parse_endpoint(endpoint);
  if (!parsed) return parsed.error();
  redis::ConnectionOptions options;
  options.endpoint = *parsed;
  options.command_timeout = std::chrono::seconds(30);
  auto client = redis::BlockingClient::connect(options);
  if (!client) return client.error();
  std::map<std::string, std::string> keys;
  std::string cursor = "0";
  do {
    auto scanned = client->execute(redis::Command("SCAN", cursor, "COUNT", 1000));
    if (!scanned) return scanned.error();
    cursor = std::string(scanned->elements()[0].str());
    for (const redis::Reply& name : scanned->elements()[1].elements()) {
      const std::string key(name.str());
      if (volatile_key(key)) continue;
      auto type = client->execute(redis::Command("TYPE", key));
      if (!type) return type.error();
      const std::string kind(type->str());
      redis::Command read("GET", key);
      if (kind == "hash") read = redis::Command("HGETALL", key);
      if (kind == "zset") read = redis::Command("ZRANGE", key, 0, -1, "WITHSCORES");
      if (kind == "set") read = redis::Command("SMEMBERS", key);
      if (kind == "list") read = redis::Command("LRANGE", key, 0, -1);
      if (kind == "stream") read = redis::Command("XRANGE", key, "-", "+");
      auto replies = client->execute({std::move(read), redis::Command("PTTL", key)});
      if (!replies) return replies.error();
      std::string value = render((*replies)[0]);
      if (kind == "hash" || kind == "set") {  // no order of their own
        std::vector<std::string> parts;
        const auto& elements = (*replies)[0].elements();
        const size_t step = kind == "hash" ? 2 : 1;
        for (size_t i = 0; i + step <= elements.size(); i += step)
          parts.push_back(std::string(elements[i].str()) +
                          (step == 2 ? "=" + std::string(elements[i + 1].str()) : ""));
        std::sort(parts.begin(), parts.end());
        value = fmt::format("{}", fmt::join(parts, "\x1f"));
      }
      keys[key] = kind + " " + value + ((*replies)[1].integer() > 0 ? " (expires)" : "");
    }
  } while (cursor != "0");
  return keys;
}

Result<std::map<std::string, std::vector<std::string>>> dump_sql(const std::string& url) {
  auto db = sql::open({url});
  if (!db) return db.error();
  auto tables = sql::table_names(**db);
  if (!tables) return tables.error();
  std::map<std::string, std::vector<std::string>> rows;
  for (const std::string& table : *tables) {
    auto& out = rows[table];
    Status read = (*db)->query("SELECT * FROM " + table, {}, [&](const sql::Row& row) {
      std::string text;
      for (size_t i = 0; i < row.size(); ++i) text += (row.is_null(i) ? "NULL" : row.text(i)) + "\x1f";
      out.push_back(std::move(text));
      return true;
    });
    if (!read) return read.error();
    std::sort(out.begin(), out.end());
  }
  return rows;
}

// Counts what differs, and prints the first differences.
size_t differences(const NodeState& expected, const NodeState& actual) {
  size_t count = 0;
  auto compare = [&](const auto& a, const auto& b, std::string_view what) {
    for (const auto& [name, value] : a) {
      auto found = b.find(name);
      if (found == b.end() || found->second != value) {
        if (++count <= 10) {
          ADD_FAILURE() << what << " " << name
                        << " differs or is missing after the restore: " << ::testing::PrintToString(value)
                        << " before, "
                        << (found == b.end() ? "missing" : ::testing::PrintToString(found->second))
                        << " after";
        }
      }
    }
    for (const auto& [name, value] : b) {
      if (!a.contains(name) && ++count <= 10)
        ADD_FAILURE() << what << " " << name << " appeared after the restore";
    }
  };
  compare(expected.redis, actual.redis, "Redis key");
  compare(expected.sql, actual.sql, "SQL table");
  return count;
}

std::string sha256_hex(const std::string& bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  std::string hex;
  for (unsigned char byte : digest) hex += fmt::format("{:02x}", byte);
  return hex;
}

struct Ran {
  int status = -1;
  std::string output;
};

class Backups : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("reel-backup-test-{}-{}", ::getpid(), ++runs_);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    nodes_.clear();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A fresh SQL store for a node: SQLite in its data dir, or a new MariaDB database.
  std::string new_store(const fs::path& data_dir) {
    if (GetParam() == Backend::sqlite) return "sqlite:" + (data_dir / "reel.db").string();
    auto database = sql::testing::MariadbDatabase::create();
    EXPECT_TRUE(database) << database.error().message;
    if (!database) return "";
    databases_.push_back(std::move(*database));
    return databases_.back()->url();
  }
  // The REEL_SQL_URL a command on a data dir runs with (its store is MariaDB's).
  std::vector<std::string> env_for(const std::string& url) const {
    if (GetParam() == Backend::sqlite) return {};
    return {"REEL_SQL_URL=" + url};
  }

  Ran reel(std::vector<std::string> args, const std::string& url) {
    args.insert(args.begin(), testing::reel_binary());
    const fs::path log = dir_ / fmt::format("command-{}.log", ++commands_);
    auto child = process::Child::spawn(
        {.argv = args, .stdout_path = log.string(), .stderr_path = log.string(), .extra_env = env_for(url)});
    if (!child) return {-1, child.error().message};
    auto status = child->wait_for(std::chrono::minutes(5));
    return {status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, testing::read_file(log)};
  }

  std::unique_ptr<testing::ReelUp> start(const fs::path& data_dir, const std::string& url) {
    if (GetParam() == Backend::mariadb) ::setenv("REEL_SQL_URL", url.c_str(), 1);
    auto up = testing::ReelUp::start(data_dir, data_dir.string() + ".log");
    ::unsetenv("REEL_SQL_URL");
    EXPECT_TRUE(up) << up.error().message;
    return up ? std::move(*up) : nullptr;
  }

  NodeState state_of(const fs::path& data_dir, const std::string& url) {
    auto config = config::load((data_dir / "reel.toml").string());
    EXPECT_TRUE(config) << config.error().message;
    NodeState state;
    if (!config) return state;
    auto redis = dump_redis(config->redis.write);
    EXPECT_TRUE(redis) << redis.error().message;
    auto rows = dump_sql(url);
    EXPECT_TRUE(rows) << rows.error().message;
    if (redis) state.redis = std::move(*redis);
    if (rows) state.sql = std::move(*rows);
    return state;
  }

  static inline int runs_ = 0;
  fs::path dir_;
  int commands_ = 0;
  std::vector<std::unique_ptr<sql::testing::MariadbDatabase>> databases_;
  std::vector<std::unique_ptr<testing::ReelUp>> nodes_;
};

// The value of `key` in a stopped data dir's Redis, read from a redis-server started on its files
// alone (no `reel up`, so nothing else writes to it); "" when missing.
std::string value_at_rest(const fs::path& data_dir, const std::string& key) {
  auto config = config::load((data_dir / "reel.toml").string());
  EXPECT_TRUE(config) << config.error().message;
  if (!config) return "";
  auto endpoint = redis::parse_endpoint(config->redis.write);
  EXPECT_TRUE(endpoint) << endpoint.error().message;
  if (!endpoint) return "";
  redis::RedisServerOptions options;
  options.dir = (data_dir / "redis").string();
  options.port = endpoint->port;
  auto server = redis::RedisServer::start(options);
  EXPECT_TRUE(server) << server.error().message;
  if (!server) return "";
  auto client = redis::BlockingClient::connect({.endpoint = *endpoint});
  EXPECT_TRUE(client) << client.error().message;
  auto value = client ? client->execute(redis::Command("GET", key)) : Result<redis::Reply>(client.error());
  EXPECT_TRUE(server->stop());
  return value ? std::string(value->str()) : "";
}

struct Person {
  std::string cookie;
  std::string csrf;
  std::string headers() const { return "Cookie: " + cookie + "\r\nX-CSRF-Token: " + csrf + "\r\n"; }
};

HttpReply call(uint16_t port, const std::string& method, const std::string& target,
               const std::string& headers, const std::string& body = "") {
  auto reply = http_call(port, method, target, headers, body);
  EXPECT_TRUE(reply) << reply.error().message;
  return reply ? *reply : HttpReply{};
}

Person join(uint16_t port, const std::string& name) {
  const nlohmann::json account{
      {"username", name}, {"email", name + "@example.org"}, {"password", "correct horse"}};
  EXPECT_EQ(call(port, "POST", "/api/v1/users", std::string(json_type), account.dump()).status, 201);
  const nlohmann::json credentials{{"username", name}, {"password", "correct horse"}};
  HttpReply signed_in = call(port, "POST", "/api/v1/session", std::string(json_type), credentials.dump());
  EXPECT_EQ(signed_in.status, 200) << signed_in.body;
  std::smatch cookie;
  const std::string set_cookie = signed_in.header("set-cookie");
  std::regex_search(set_cookie, cookie, std::regex("reel_session=([^;]*)"));
  auto body = nlohmann::json::parse(signed_in.body, nullptr, false);
  return {"reel_session=" + cookie[1].str(), body.is_object() ? body.value("csrf", "") : ""};
}

std::vector<int64_t> listed_videos(uint16_t port) {
  std::vector<int64_t> ids;
  auto reply = testing::http_get(port, "/api/v1/videos?sort=newest");
  EXPECT_TRUE(reply && reply->status == 200) << (reply ? reply->body : reply.error().message);
  if (!reply || reply->status != 200) return ids;
  const nlohmann::json listing = nlohmann::json::parse(reply->body);
  for (const auto& video : listing["videos"]) ids.push_back(video["id"].get<int64_t>());
  return ids;
}

// Votes, comments and a reply, favorites, a playlist, a subscription and counted views.
void make_activity(uint16_t port, const Person& ada, const Person& bob, const std::vector<int64_t>& videos) {
  for (size_t i = 0; i < 3; ++i) {
    const std::string v = std::to_string(videos[i]);
    EXPECT_EQ(call(port, "PUT", "/api/v1/videos/" + v + "/vote", std::string(json_type) + ada.headers(),
                   i == 2 ? R"({"value": -1})" : R"({"value": 1})")
                  .status,
              200);
    EXPECT_EQ(call(port, "PUT", "/api/v1/me/favorites/" + v, bob.headers()).status, 200);
  }
  const std::string comments = "/api/v1/videos/" + std::to_string(videos[0]) + "/comments";
  HttpReply comment =
      call(port, "POST", comments, std::string(json_type) + ada.headers(), R"({"body": "first!"})");
  ASSERT_EQ(comment.status, 201) << comment.body;
  const int64_t parent = nlohmann::json::parse(comment.body)["id"].get<int64_t>();
  const nlohmann::json reply{{"body", "a reply"}, {"parent", parent}};
  EXPECT_EQ(call(port, "POST", comments, std::string(json_type) + bob.headers(), reply.dump()).status, 201);
  HttpReply playlist = call(port, "POST", "/api/v1/playlists", std::string(json_type) + bob.headers(),
                            R"({"title": "Road trip", "public": true})");
  ASSERT_EQ(playlist.status, 201) << playlist.body;
  const std::string items = "/api/v1/playlists/" +
                            std::to_string(nlohmann::json::parse(playlist.body)["id"].get<int64_t>()) +
                            "/videos/";
  for (size_t i = 0; i < 2; ++i)
    EXPECT_EQ(call(port, "POST", items + std::to_string(videos[i]), bob.headers()).status, 200);
  const std::string channel = nlohmann::json::parse(
      testing::http_get(port, "/api/v1/videos/" + std::to_string(videos[0]))->body)["channel"]["name"];
  EXPECT_EQ(call(port, "PUT", "/api/v1/me/subscriptions/" + channel, ada.headers()).status, 200);
  const int64_t before = testing::views_of(port, videos[1]);
  for (int viewer = 0; viewer < 4; ++viewer) {
    EXPECT_EQ(call(port, "POST", "/api/v1/videos/" + std::to_string(videos[1]) + "/view",
                   "User-Agent: Mozilla/5.0 Firefox/120 backup-viewer-" + std::to_string(viewer) + "\r\n")
                  .status,
              204);
  }
  EXPECT_TRUE(testing::eventually([&] { return testing::views_of(port, videos[1]) == before + 4; }))
      << "the views were not counted";
}

// The writer's playlists ("w-N") among a node's SQL rows, in order of N.
std::vector<int> written_numbers(const NodeState& state) {
  std::set<int> numbers;
  const std::regex title("\x1fw-([0-9]+)\x1f");
  for (const auto& [table, rows] : state.sql) {
    for (const std::string& row : rows) {
      std::smatch match;
      if (std::regex_search(row, match, title)) numbers.insert(std::stoi(match[1].str()));
    }
  }
  return {numbers.begin(), numbers.end()};
}

TEST_P(Backups, RestoredNodeHoldsEveryKeyAndRowAsOfTheBackup) {
  const fs::path original = dir_ / "original";
  const std::string original_url = new_store(original);
  auto up = start(original, original_url);
  ASSERT_TRUE(up);
  const uint16_t port = up->port();
  const std::vector<int64_t> videos = listed_videos(port);
  ASSERT_GE(videos.size(), 3u);
  const Person ada = join(port, "ada"), bob = join(port, "bob");
  make_activity(port, ada, bob, videos);

  // A backup of the site as it runs (the aggregator live), with no writes meanwhile: the restored
  // node must hold exactly what the original holds.
  const fs::path quiet = dir_ / "quiet";
  Ran backed_up = reel({"backup", "--data-dir", original.string(), quiet.string()}, original_url);
  ASSERT_EQ(backed_up.status, 0) << backed_up.output;
  const NodeState as_of_backup = state_of(original, original_url);
  EXPECT_GT(as_of_backup.redis.size(), 50u);

  // Writes go on while the second backup is taken: bob renames a playlist again and again, so
  // some renames fall between the backup's Redis copy and its SQL copy.
  HttpReply renamed = call(port, "POST", "/api/v1/playlists", std::string(json_type) + bob.headers(),
                           R"({"title": "w-0", "public": true})");
  ASSERT_EQ(renamed.status, 201) << renamed.body;
  const int64_t playlist_id = nlohmann::json::parse(renamed.body)["id"].get<int64_t>();
  const std::string playlist = "/api/v1/playlists/" + std::to_string(playlist_id);
  std::atomic<bool> writing = true;
  std::atomic<int> acknowledged = 0;
  std::thread writer([&] {
    for (int n = 1; writing; ++n) {
      const nlohmann::json body{{"title", fmt::format("w-{}", n)}};
      if (call(port, "PATCH", playlist, std::string(json_type) + bob.headers(), body.dump()).status != 200)
        break;
      acknowledged = n;
    }
  });
  EXPECT_TRUE(testing::eventually([&] { return acknowledged >= 3; }));
  const int before_backup = acknowledged;
  const fs::path busy = dir_ / "busy";
  Ran busy_backup = reel({"backup", "--data-dir", original.string(), busy.string()}, original_url);
  writing = false;
  writer.join();
  ASSERT_EQ(busy_backup.status, 0) << busy_backup.output;

  // The quiet backup, restored and started, holds every key and row.
  const fs::path restored = dir_ / "restored";
  const std::string restored_url = new_store(restored);
  Ran restore = reel({"restore", "--data-dir", restored.string(), quiet.string()}, restored_url);
  ASSERT_EQ(restore.status, 0) << restore.output;
  auto restored_up = start(restored, restored_url);
  ASSERT_TRUE(restored_up);
  EXPECT_EQ(differences(as_of_backup, state_of(restored, restored_url)), 0u);
  EXPECT_EQ(call(restored_up->port(), "GET", "/api/v1/me", ada.headers()).status, 200) << "ada's session";
  EXPECT_EQ(testing::views_of(restored_up->port(), videos[1]), testing::views_of(port, videos[1]));
  restored_up.reset();

  // The backup taken under writes: SQL holds a rename at least as late as the last acknowledged
  // before the backup began, Redis shows the same one (the renames between the Redis and the SQL
  // copy were applied by the restore), and a rename on the restored node lands.
  const fs::path caught_up = dir_ / "caught-up";
  const std::string caught_up_url = new_store(caught_up);
  restore = reel({"restore", "--data-dir", caught_up.string(), busy.string()}, caught_up_url);
  ASSERT_EQ(restore.status, 0) << restore.output;
  NodeState restored_sql;
  auto rows = dump_sql(caught_up_url);
  ASSERT_TRUE(rows) << rows.error().message;
  restored_sql.sql = std::move(*rows);
  const std::vector<int> numbers = written_numbers(restored_sql);
  ASSERT_EQ(numbers.size(), 1u) << "one playlist, one title";
  EXPECT_GE(numbers[0], before_backup);
  // Before the node starts, so before its relay could bring Redis in step: the restore did.
  const std::string packed = value_at_rest(caught_up, projection::keys::playlist(playlist_id));
  EXPECT_TRUE(packed.ends_with(fmt::format("\x1fw-{}", numbers[0])))
      << "Redis holds what SQL holds: " << ::testing::PrintToString(packed) << "; " << restore.output;
  auto caught_up_up = start(caught_up, caught_up_url);
  ASSERT_TRUE(caught_up_up);
  auto title = [&] {
    auto shown = nlohmann::json::parse(call(caught_up_up->port(), "GET", playlist, bob.headers()).body,
                                       nullptr, false);
    return shown.is_object() ? shown["playlist"].value("title", "") : "";
  };
  EXPECT_EQ(title(), fmt::format("w-{}", numbers[0])) << "Redis shows what SQL holds; " << restore.output;
  HttpReply after = call(caught_up_up->port(), "PATCH", playlist, std::string(json_type) + bob.headers(),
                         R"({"title": "after the restore"})");
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_TRUE(testing::eventually([&] { return title() == "after the restore"; }));

  // Onto a node that holds data: refused (--force: BadBackupsAreRefused...).
  caught_up_up.reset();
  Ran again = reel({"restore", "--data-dir", restored.string(), quiet.string()}, restored_url);
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.output.find("holds data"), std::string::npos) << again.output;
}

// Damaged or missing backups are refused before the target is touched; a backup that passes the
// checks but fails to load leaves an empty node that refuses to run until restored.
TEST_P(Backups, BadBackupsAreRefusedAndNeverLeaveAHalfRestoredNode) {
  const fs::path original = dir_ / "original";
  const std::string original_url = new_store(original);
  Ran seeded = reel({"seed", "--data-dir", original.string(), "--videos", "3"}, original_url);
  ASSERT_EQ(seeded.status, 0) << seeded.output;
  const fs::path good = dir_ / "good";
  Ran backed_up = reel({"backup", "--data-dir", original.string(), good.string()}, original_url);
  ASSERT_EQ(backed_up.status, 0) << backed_up.output;
  Ran into_existing = reel({"backup", "--data-dir", original.string(), good.string()}, original_url);
  EXPECT_NE(into_existing.status, 0) << "a backup never overwrites another";
  const nlohmann::json manifest = nlohmann::json::parse(testing::read_file(good / "manifest.json"));
  const std::string sql_file = manifest["sql"]["file"];

  const fs::path target = dir_ / "target";
  const std::string target_url = new_store(target);
  auto damaged = [&](const std::string& name, const std::function<void(const fs::path&)>& damage) {
    const fs::path copy = dir_ / name;
    fs::copy(good, copy);
    damage(copy);
    return copy;
  };
  auto rewrite = [](const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::trunc) << text;
  };
  struct Case {
    fs::path backup;
    std::string says;
  };
  const std::vector<Case> refused = {
      {dir_ / "nowhere", "not a backup directory"},
      {damaged("no-manifest", [](const fs::path& d) { fs::remove(d / "manifest.json"); }),
       "no manifest.json"},
      {damaged("not-json", [&](const fs::path& d) { rewrite(d / "manifest.json", "{ not json"); }),
       "not valid JSON"},
      {damaged("other-format",
               [&](const fs::path& d) {
                 nlohmann::json other = manifest;
                 other["format"] = "something-else";
                 rewrite(d / "manifest.json", other.dump());
               }),
       "not a reel backup"},
      {damaged("flipped-byte",
               [](const fs::path& d) {
                 std::fstream rdb(d / "redis.rdb", std::ios::in | std::ios::out | std::ios::binary);
                 rdb.seekp(20);
                 rdb.put('\x7f');
               }),
       "damaged"},
      {damaged("missing-file", [&](const fs::path& d) { fs::remove(d / sql_file); }), "cannot read"},
  };
  for (const Case& bad : refused) {
    Ran ran = reel({"restore", "--data-dir", target.string(), bad.backup.string()}, target_url);
    EXPECT_NE(ran.status, 0) << bad.backup;
    EXPECT_NE(ran.output.find(bad.says), std::string::npos) << bad.backup << ": " << ran.output;
    EXPECT_FALSE(fs::exists(target / "reel.db")) << "refused before touching the target";
  }

  // Checksums that match a SQL copy that does not load: the restore fails midway and empties the
  // target again, whose data dir then refuses every command until a restore finishes.
  const fs::path unloadable = damaged("unloadable", [&](const fs::path& d) {
    const std::string junk = "this is not SQL\n";
    rewrite(d / sql_file, junk);
    nlohmann::json resummed = manifest;
    for (auto& file : resummed["files"]) {
      if (file["name"] != sql_file) continue;
      file["bytes"] = junk.size();
      file["sha256"] = sha256_hex(junk);
    }
    rewrite(d / "manifest.json", resummed.dump());
  });
  Ran failed = reel({"restore", "--data-dir", target.string(), unloadable.string()}, target_url);
  EXPECT_NE(failed.status, 0) << failed.output;
  EXPECT_NE(failed.output.find("emptied again"), std::string::npos) << failed.output;
  Ran refused_to_run = reel({"migrate", "--data-dir", target.string()}, target_url);
  EXPECT_NE(refused_to_run.status, 0);
  EXPECT_NE(refused_to_run.output.find("did not finish"), std::string::npos) << refused_to_run.output;
  auto db = sql::open({target_url});
  ASSERT_TRUE(db) << db.error().message;
  auto holds = sql::holds_data(**db);
  ASSERT_TRUE(holds) << holds.error().message;
  EXPECT_FALSE(*holds) << "nothing of the failed restore is left in SQL";

  Ran good_restore = reel({"restore", "--data-dir", target.string(), good.string()}, target_url);
  EXPECT_EQ(good_restore.status, 0) << good_restore.output;
  Ran forced = reel({"restore", "--force", "--data-dir", target.string(), good.string()}, target_url);
  EXPECT_EQ(forced.status, 0) << "--force replaces what the target holds: " << forced.output;
  EXPECT_EQ(reel({"migrate", "--data-dir", target.string()}, target_url).status, 0)
      << "the data dir is usable again";
}

INSTANTIATE_TEST_SUITE_P(Backends, Backups, sql::testing::all_backends(), sql::testing::backend_test_name);

}  // namespace
}  // namespace reel
