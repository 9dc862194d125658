// Every page is read from Redis alone, in at most two round trips: a MariaDB catalog is projected
// into a real redis-server, MariaDB is stopped, and then every page kind is rendered by the real
// Router over the real RedisReadModel, counting the Redis round trips each request took.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/router.h"
#include "common/asio.h"  // before any other Asio header
#include "common/clock.h"
#include "common/days.h"
#include "projection/rebuild.h"
#include "projection/redis_read_model.h"
#include "redis/blocking_client.h"
#include "redis/server.h"
#include "seed/catalog_seed.h"
#include "sql/mariadb_server.h"
#include "support/fixtures.h"

namespace reel::app {
namespace {

std::string source_dir() {
  const char* dir = std::getenv("REEL_SOURCE_DIR");
  return dir ? dir : ".";
}

TEST(PagesFromRedis, RenderWithSqlStoppedInAtMostTwoRoundTrips) {
  reel::testing::TempDir dir;
  const int64_t now = SystemClock().unix_seconds();

  // The record: a synthetic catalog in a real MariaDB.
  auto mariadb = sql::testing::MariadbServer::start();
  ASSERT_TRUE(mariadb) << mariadb.error().message;
  {
    auto admin = sql::open({(*mariadb)->root_url("mysql")});
    ASSERT_TRUE(admin) << admin.error().message;
    ASSERT_TRUE((*admin)->execute_script("CREATE DATABASE reel CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"));
  }
  auto db = sql::open({(*mariadb)->root_url("reel")});
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE(sql::migrate(**db));
  sql::CatalogStore store(**db);
  seed::Clip clip;
  clip.duration_s = 12;
  clip.files = {{"mp4", 360, "demo/clip.mp4", 1, "video/mp4"},
                {"thumb", 180, "demo/clip.jpg", 1, "image/jpeg"}};
  seed::SyntheticOptions options;
  options.videos = 120;
  options.now = now;
  ASSERT_TRUE(seed::insert_synthetic(store, {clip}, options));
  const int32_t today = utc_day(now);
  ASSERT_TRUE(store.add_daily_views(
      {{1, today, 40}, {2, days_before(today, 2), 30}, {3, days_before(today, 20), 20}}));

  // The read model: projected into a real redis-server.
  redis::RedisServerOptions redis_options;
  redis_options.dir = (dir.path() / "redis").string();
  redis_options.append_only = false;
  auto redis_server = redis::RedisServer::start(redis_options);
  ASSERT_TRUE(redis_server) << redis_server.error().message;
  redis::ConnectionOptions connection_options;
  connection_options.endpoint = redis_server->endpoint();
  {
    auto tool = redis::BlockingClient::connect(connection_options);
    ASSERT_TRUE(tool);
    projection::RebuildOptions rebuild_options;
    rebuild_options.now = now;
    auto rebuilt = projection::rebuild(store, *tool, rebuild_options);
    ASSERT_TRUE(rebuilt) << rebuilt.error().message;
    ASSERT_EQ(rebuilt->videos, 120u);
  }

  // SQL goes away.
  db->reset();
  ASSERT_TRUE((*mariadb)->stop());

  auto pages = pages::Renderer::load({"Reel", source_dir() + "/templates", {}});
  ASSERT_TRUE(pages) << pages.error().message;
  auto static_files = media::StaticAssets::open({source_dir() + "/static"});
  ASSERT_TRUE(static_files);
  auto media_files = media::FileServer::open({dir.path().string()});
  ASSERT_TRUE(media_files);
  asio::io_context io;
  redis::Connection redis(io.get_executor(), connection_options);
  redis.start();
  const SystemClock clock;
  projection::RedisReadModel model(redis, clock);
  auto view_log = event_log::EventLog::open({"none"});
  ASSERT_TRUE(view_log);
  ViewRecorder views(**view_log, clock, {});
  const media::LinkSigner links;
  Router router(Services{model, *pages, *static_files, *media_files, links, clock, {}, views});

  const std::vector<std::string> targets = {"/",
                                            "/videos",
                                            "/videos?sort=views&period=all&page=3",
                                            "/videos?sort=views&period=day",
                                            "/videos?sort=views&period=week",
                                            "/videos?sort=views&period=month",
                                            "/videos?sort=rating",
                                            "/videos?sort=duration",
                                            "/category/music",
                                            "/category/music?sort=rating",
                                            "/watch/1",
                                            "/watch/60-some-slug",
                                            "/api/v1/videos?sort=newest&page=2",
                                            "/api/v1/videos/7"};
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        co_await model.ready();  // connect first: connection set-up is not a page's round trip
        for (const auto& target : targets) {
          http::Request request;
          request.method = "GET";
          request.target = target;
          const uint64_t before = redis.stats().round_trips;
          http::Response response = co_await router.handle(request);
          const uint64_t trips = redis.stats().round_trips - before;
          EXPECT_EQ(response.status, 200) << target;
          EXPECT_GE(trips, 1u) << target;
          EXPECT_LE(trips, 2u) << target;
          EXPECT_NE(response.body.find("/watch/"), std::string::npos) << target;
        }
        // A tag and a channel taken from a video's own page.
        http::Request api;
        api.method = "GET";
        api.target = "/api/v1/videos/1";
        const auto video = nlohmann::json::parse((co_await router.handle(api)).body);
        {
          for (std::string target : {"/tag/" + video["tags"][0].get<std::string>(),
                                     "/channel/" + video["channel"]["name"].get<std::string>()}) {
            http::Request request;
            request.method = "GET";
            request.target = target;
            const uint64_t before = redis.stats().round_trips;
            auto response = co_await router.handle(request);
            EXPECT_EQ(response.status, 200) << target;
            EXPECT_LE(redis.stats().round_trips - before, 2u) << target;
          }
        }
        redis.stop();
      },
      asio::detached);
  io.run();
  (void)redis_server->stop();
}

}  // namespace
}  // namespace reel::app
