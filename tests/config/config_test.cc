#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/fixtures.h"

namespace reel::config {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void TearDown() override {
    ::unsetenv("REEL_REDIS_WRITE");
    ::unsetenv("REEL_SERVER_THREADS");
  }
  std::string write(const std::string& text) {
    auto path = (dir_ / "reel.toml").string();
    std::ofstream(path) << text;
    return path;
  }
  reel::testing::TempDir temp_;
  const std::filesystem::path& dir_ = temp_.path();
};

TEST_F(ConfigTest, DefaultsServeTheEmbeddedMode) {
  auto config = load("");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->server.listen, "127.0.0.1:8080");
  EXPECT_EQ(config->sql.url, "sqlite:var/reel.db");
  EXPECT_FALSE(config->paths.templates.empty());
}

TEST_F(ConfigTest, FileThenEnvironment) {
  auto path = write("[server]\nlisten = \"0.0.0.0:9000\"\nthreads = 3\n[redis]\nwrite = \"10.0.0.1:6380\"\n");
  ::setenv("REEL_REDIS_WRITE", "10.0.0.2:6381", 1);
  auto config = load(path);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->server.listen, "0.0.0.0:9000");
  EXPECT_EQ(config->server.threads, 3);
  EXPECT_EQ(config->redis.write, "10.0.0.2:6381");
}

TEST_F(ConfigTest, WrongTypeNamesTheSetting) {
  auto config = load(write("[server]\nthreads = \"many\"\n"));
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("[server] threads must be an integer"), std::string::npos);
}

TEST_F(ConfigTest, SyntaxErrorNamesTheLine) {
  auto config = load(write("[server]\nlisten = \n"));
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("line 2"), std::string::npos) << config.error().message;
}

TEST_F(ConfigTest, BadEnvironmentValueIsAnError) {
  ::setenv("REEL_SERVER_THREADS", "12x", 1);
  auto config = load("");
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("REEL_SERVER_THREADS"), std::string::npos);
}

TEST_F(ConfigTest, WrittenTomlLoadsBackTheSameValues) {
  auto config = load("");
  ASSERT_TRUE(config);
  config->site.name = "My \"Tube\" \\ site";
  config->redis.write = "127.0.0.1:7000";
  auto reloaded = load(write(to_toml(*config)));
  ASSERT_TRUE(reloaded) << reloaded.error().message;
  EXPECT_EQ(reloaded->site.name, config->site.name);
  EXPECT_EQ(reloaded->redis.write, "127.0.0.1:7000");
}

}  // namespace
}  // namespace reel::config
