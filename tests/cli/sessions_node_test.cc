// Sessions and limits on a Redis node of their own ([redis] sessions; docs/capacity.md, "splitting
// by key class"): `reel up` with REEL_REDIS_SESSIONS pointing at a second redis-server. Sessions,
// rate-limit windows and sign-in guards must be written there and nowhere else; a signed-in
// request is recognized (the session from that node, the user's hash from the main one); sign-out,
// sign out everywhere, a password change and account deletion (the second step of its write) end
// sessions there. Each check reads both servers, so a call that went to the main Redis fails it.
#include <gtest/gtest.h>

#include <memory>

#include "auth/rate_limit.h"
#include "config/config.h"
#include "people_fixture.h"
#include "projection/account_keys.h"
#include "redis/blocking_client.h"
#include "redis/reply.h"
#include "redis/server.h"
#include "sql/token_store.h"
#include "support/fixtures.h"

namespace reel::testing {
namespace {

namespace account_keys = projection::account_keys;

class SessionsNode : public PeopleFixture {
 protected:
  static void SetUpTestSuite() {
    sessions_dir_ = new TempDir();
    auto server = redis::RedisServer::start({.dir = sessions_dir_->path().string(), .append_only = false});
    ASSERT_TRUE(server) << server.error().message;
    sessions_server_ = new redis::RedisServer(std::move(*server));
    start("sessions-node",
          {{"REEL_REDIS_SESSIONS", "127.0.0.1:" + std::to_string(sessions_server_->endpoint().port)}});

    redis::ConnectionOptions options;
    options.endpoint = sessions_server_->endpoint();
    auto sessions = redis::BlockingClient::connect(options);
    ASSERT_TRUE(sessions) << sessions.error().message;
    sessions_ = new redis::BlockingClient(std::move(*sessions));

    auto settings = config::load((data_dir() / "reel.toml").string());
    ASSERT_TRUE(settings) << settings.error().message;
    auto endpoint = redis::parse_endpoint(settings->redis.write);
    ASSERT_TRUE(endpoint) << endpoint.error().message;
    options.endpoint = *endpoint;
    options.password = settings->redis.password;
    auto main = redis::BlockingClient::connect(options);
    ASSERT_TRUE(main) << main.error().message;
    main_ = new redis::BlockingClient(std::move(*main));
  }
  static void TearDownTestSuite() {
    PeopleFixture::TearDownTestSuite();
    delete main_;
    main_ = nullptr;
    delete sessions_;
    sessions_ = nullptr;
    delete sessions_server_;
    sessions_server_ = nullptr;
    delete sessions_dir_;
    sessions_dir_ = nullptr;
  }

  static bool exists(redis::BlockingClient& client, const std::string& key) {
    auto reply = client.execute(redis::Command("EXISTS", key));
    EXPECT_TRUE(reply.ok() && !reply->is_error());
    return reply.ok() && reply->integer() == 1;
  }
  // The Redis key of a signed-in client's session.
  static std::string session_key(const Signed& who) {
    return account_keys::session(sql::hash_token(who.cookie.substr(who.cookie.find('=') + 1)));
  }
  // A new user, registered and signed in on two devices, both sessions on the sessions node.
  struct NewUser {
    std::string name;
    int64_t id = 0;
    Signed here;
    Signed elsewhere;
  };
  static NewUser new_user(std::string_view base) {
    NewUser user;
    user.name = fresh_name(base);
    HttpReply registered = register_user(user.name);
    EXPECT_EQ(registered.status, 201) << registered.body;
    auto document = nlohmann::json::parse(registered.body, nullptr, false);
    if (document.is_object() && document.contains("id")) user.id = document["id"].get<int64_t>();
    EXPECT_GT(user.id, 0) << registered.body;
    user.here = sign_in(user.name);
    user.elsewhere = sign_in(user.name);
    EXPECT_TRUE(exists(*sessions_, session_key(user.here)));
    EXPECT_TRUE(exists(*sessions_, session_key(user.elsewhere)));
    return user;
  }
  static int me(const Signed& who) { return call("GET", "/api/v1/me", with(who, false)).status; }

  static inline TempDir* sessions_dir_ = nullptr;
  static inline redis::RedisServer* sessions_server_ = nullptr;
  static inline redis::BlockingClient* sessions_ = nullptr;
  static inline redis::BlockingClient* main_ = nullptr;
};

TEST_F(SessionsNode, ASignInIsKeptOnTheSessionsNodeAndRecognized) {
  const NewUser user = new_user("sn");
  ASSERT_FALSE(user.here.csrf.empty());
  EXPECT_TRUE(exists(*sessions_, account_keys::user_sessions(user.id)));
  EXPECT_FALSE(exists(*main_, session_key(user.here)));
  EXPECT_FALSE(exists(*main_, account_keys::user_sessions(user.id)));
  EXPECT_TRUE(exists(*main_, account_keys::user(user.id))) << "the account itself stays on the main node";
  EXPECT_EQ(me(user.here), 200) << "the session from the sessions node, its user from the main one";
}

TEST_F(SessionsNode, RateLimitsAndTheSignInGuardCountOnTheSessionsNode) {
  // Registration allows 5 an hour per address: the window that refuses the 6th is on the sessions
  // node, so emptying that node (and only it) lets the next one through.
  for (int i = 0; i < auth::limits::register_per_client.events; ++i) {
    ASSERT_EQ(register_user(fresh_name("rl")).status, 201);
  }
  ASSERT_EQ(register_user(fresh_name("rl")).status, 429);
  ASSERT_TRUE(sessions_->execute(redis::Command("FLUSHALL")).ok());
  EXPECT_EQ(register_user(fresh_name("rl")).status, 201) << "the count was on the sessions node";

  const std::string name = fresh_name("guard");
  ASSERT_EQ(register_user(name).status, 201);
  nlohmann::json wrong{{"username", name}, {"password", "not the password at all"}};
  ASSERT_EQ(call("POST", "/api/v1/session", std::string(json_type), wrong.dump()).status, 401);
  const std::string failures = account_keys::sign_in_failures(name, auth::client_subject(client_));
  EXPECT_TRUE(exists(*sessions_, failures));
  EXPECT_FALSE(exists(*main_, failures));
}

TEST_F(SessionsNode, SignOutAndSignOutEverywhereEndSessionsOnTheSessionsNode) {
  const NewUser first = new_user("out");
  ASSERT_FALSE(HasFailure());
  HttpReply out = call("DELETE", "/api/v1/session", with(first.here));
  ASSERT_EQ(out.status, 204) << out.body;
  EXPECT_FALSE(exists(*sessions_, session_key(first.here)));
  EXPECT_EQ(me(first.here), 401);
  EXPECT_EQ(me(first.elsewhere), 200) << "sign-out ends one session";

  const NewUser second = new_user("all");
  ASSERT_FALSE(HasFailure());
  HttpReply everywhere = call("DELETE", "/api/v1/me/sessions", with(second.here));
  ASSERT_EQ(everywhere.status, 204) << everywhere.body;
  EXPECT_FALSE(exists(*sessions_, session_key(second.here)));
  EXPECT_FALSE(exists(*sessions_, session_key(second.elsewhere)));
  EXPECT_FALSE(exists(*sessions_, account_keys::user_sessions(second.id)));
  EXPECT_EQ(me(second.elsewhere), 401);
}

TEST_F(SessionsNode, APasswordChangeEndsTheOtherSessionsOnTheSessionsNode) {
  const NewUser user = new_user("pw");
  ASSERT_FALSE(HasFailure());
  nlohmann::json body{{"old_password", "correct horse battery"}, {"password", "a new horse battery"}};
  HttpReply changed =
      call("PUT", "/api/v1/me/password", std::string(json_type) + with(user.here), body.dump());
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_FALSE(exists(*sessions_, session_key(user.elsewhere)));
  EXPECT_EQ(me(user.elsewhere), 401);
  const Signed renewed{"reel_session=" + set_cookie_value(changed, "reel_session"), ""};
  EXPECT_TRUE(exists(*sessions_, session_key(renewed))) << "this device's new session";
  EXPECT_EQ(me(renewed), 200);
}

// Deletion's write removes the account on the main node and, as its second step, the sessions on
// the sessions node.
TEST_F(SessionsNode, AccountDeletionRemovesTheUsersSessionsFromTheSessionsNode) {
  const NewUser user = new_user("del");
  ASSERT_FALSE(HasFailure());
  nlohmann::json body{{"password", "correct horse battery"}};
  HttpReply deleted = call("DELETE", "/api/v1/me", std::string(json_type) + with(user.here), body.dump());
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_FALSE(exists(*sessions_, session_key(user.here)));
  EXPECT_FALSE(exists(*sessions_, session_key(user.elsewhere)));
  EXPECT_FALSE(exists(*sessions_, account_keys::user_sessions(user.id)));
  EXPECT_FALSE(exists(*main_, account_keys::user(user.id)));
  EXPECT_EQ(me(user.elsewhere), 401);
}

}  // namespace
}  // namespace reel::testing
