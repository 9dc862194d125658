// Read-your-writes with a Redis replica for page reads ([redis] read): after a write, its visitor
// reads the primary for a few seconds (the reel_wrote cookie), so they see their own vote at once,
// while everybody else reads the replica. The "replica" here is a copy of reel up's Redis that
// stopped replicating (REPLICAOF NO ONE after its first sync): a replica that has not had the
// write yet, for as long as the test needs, so each read shows which server answered it.
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "config/config.h"
#include "people_fixture.h"
#include "redis/blocking_client.h"
#include "redis/reply.h"
#include "redis/server.h"
#include "support/fixtures.h"

namespace reel::testing {
namespace {

using namespace std::chrono_literals;

// A field of INFO replication; "" when it cannot be read.
std::string replication_field(redis::BlockingClient& client, const std::string& field) {
  auto info = client.execute(redis::Command("INFO", "replication"));
  if (!info || info->is_error()) return "";
  return std::string(redis::info_field(info->str(), field));
}

class ReadYourWrites : public PeopleFixture {
 protected:
  static void SetUpTestSuite() {
    copy_dir_ = new TempDir();
    auto copy = redis::RedisServer::start({.dir = copy_dir_->path().string(), .append_only = false});
    ASSERT_TRUE(copy) << copy.error().message;
    copy_ = new redis::RedisServer(std::move(*copy));
    const std::string copy_address = "127.0.0.1:" + std::to_string(copy_->endpoint().port);
    start("read-your-writes", {{"REEL_REDIS_READ", copy_address}});

    // Copy reel up's Redis once, then stop following it.
    auto settings = config::load((data_dir() / "reel.toml").string());
    ASSERT_TRUE(settings) << settings.error().message;
    const std::string primary = settings->redis.write;
    const std::string host = primary.substr(0, primary.rfind(':')),
                      port = primary.substr(primary.rfind(':') + 1);
    redis::ConnectionOptions options;
    options.endpoint = copy_->endpoint();
    auto client = redis::BlockingClient::connect(options);
    ASSERT_TRUE(client) << client.error().message;
    ASSERT_TRUE(client->execute(redis::Command("REPLICAOF", host, port)).ok());
    ASSERT_TRUE(eventually([&] { return replication_field(*client, "master_link_status") == "up"; }));
    ASSERT_TRUE(client->execute(redis::Command("REPLICAOF", "NO", "ONE")).ok());
  }
  static void TearDownTestSuite() {
    PeopleFixture::TearDownTestSuite();
    delete copy_;
    copy_ = nullptr;
    delete copy_dir_;
    copy_dir_ = nullptr;
  }

  // The likes /api/v1/videos/{id} reports to a client sending `headers`; -1 when unreadable.
  static int64_t likes(const std::string& document, const std::string& headers) {
    HttpReply reply = call("GET", document, headers);
    auto parsed = nlohmann::json::parse(reply.body, nullptr, false);
    return parsed.is_object() && parsed.contains("likes") ? parsed["likes"].get<int64_t>() : -1;
  }

  static inline TempDir* copy_dir_ = nullptr;
  static inline redis::RedisServer* copy_ = nullptr;
};

TEST_F(ReadYourWrites, TheVoterReadsTheirVoteFromThePrimaryWhileOthersReadTheReplica) {
  HttpReply listed = call("GET", "/api/v1/videos?sort=newest", "");
  ASSERT_EQ(listed.status, 200) << listed.body;
  const auto videos = nlohmann::json::parse(listed.body)["videos"];
  ASSERT_FALSE(videos.empty()) << "the replica holds the catalog";
  const std::string document = "/api/v1/videos/" + std::to_string(videos[0]["id"].get<int64_t>());
  const int64_t before = likes(document, "");
  ASSERT_GE(before, 0);

  const std::string name = fresh_name("ryw");
  ASSERT_EQ(register_user(name).status, 201);
  const Signed voter = sign_in(name);
  HttpReply voted = call("PUT", document + "/vote", std::string(json_type) + with(voter), R"({"value": 1})");
  ASSERT_EQ(voted.status, 200) << voted.body;
  const std::string wrote = set_cookie_value(voted, "reel_wrote");
  ASSERT_EQ(wrote, "1") << "the write marks its visitor";
  EXPECT_NE(voted.header("set-cookie").find("Max-Age=5"), std::string::npos) << voted.header("set-cookie");

  EXPECT_EQ(likes(document, "Cookie: " + voter.cookie + "; reel_wrote=" + wrote + "\r\n"), before + 1)
      << "the voter reads the primary";
  EXPECT_EQ(likes(document, ""), before) << "others read the replica, which does not have it";
  EXPECT_EQ(likes(document, "Cookie: " + voter.cookie + "\r\n"), before) << "the cookie alone decides";

  HttpReply viewed = call("POST", document + "/view", "");
  EXPECT_EQ(viewed.header("set-cookie").find("reel_wrote"), std::string::npos)
      << "a view is not a write its visitor reads back";
}

}  // namespace
}  // namespace reel::testing
