// Sessions against a real redis-server: creation, the one-round-trip lookup, fixation, sign-out,
// sign-out everywhere, sliding renewal, the absolute cap and idle expiry.
#include "auth/session_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "auth/auth_fixture.h"
#include "auth/token.h"
#include "projection/account_keys.h"
#include "redis/blocking_client.h"
#include "redis/reply.h"
#include "redis/server.h"
#include "sql/token_store.h"
#include "support/http_client.h"

namespace reel::auth::testing {
namespace {

namespace account_keys = projection::account_keys;
using namespace std::chrono_literals;

class SessionStoreTest : public AuthTest {
 protected:
  void SetUp() override {
    AuthTest::SetUp();
    if (HasFatalFailure()) return;
    alice_ = register_user("alice");
  }
  std::string key_of(const std::string& id) { return account_keys::session(sql::hash_token(id)); }
  int64_t pttl(const std::string& key) { return redis_->execute(redis::Command("PTTL", key))->integer(); }
  void pexpire(const std::string& key, std::chrono::milliseconds ttl) {
    ASSERT_EQ(redis_->execute(redis::Command("PEXPIRE", key, ttl.count()))->integer(), 1);
  }
  const SessionOptions& options() const { return sessions_.options(); }

  catalog::User alice_;
};

TEST_F(SessionStoreTest, ANewSessionIsFoundWithItsUserInOneRoundTrip) {
  const NewSession session = new_session(alice_.id);
  EXPECT_TRUE(well_formed_token(session.id));
  EXPECT_TRUE(well_formed_token(session.csrf));
  EXPECT_NE(session.id, session.csrf);
  ASSERT_TRUE(find_session(random_token()).ok());  // Redis has the script from now on (EVALSHA)
  const uint64_t round_trips = connection_->stats().round_trips;
  Result<std::optional<Session>> found = find_session(session.id);
  EXPECT_EQ(connection_->stats().round_trips, round_trips + 1);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->user_id, alice_.id);
  EXPECT_EQ((*found)->csrf, session.csrf);
  EXPECT_EQ((*found)->created_at_ms, clock_.unix_ms());
  EXPECT_EQ((*found)->name, "alice");
  EXPECT_EQ((*found)->display_name, "alice");
  EXPECT_EQ((*found)->role, catalog::Role::user);
}

TEST_F(SessionStoreTest, RedisHoldsOnlyTheHashOfTheId) {
  const NewSession session = new_session(alice_.id);
  Result<redis::Reply> keys = redis_->execute(redis::Command("KEYS", "*"));
  ASSERT_TRUE(keys);
  bool hashed_key = false;
  for (const redis::Reply& key : keys->elements()) {
    EXPECT_EQ(key.str().find(session.id), std::string_view::npos) << key.str();
    hashed_key = hashed_key || key.str() == key_of(session.id);
  }
  EXPECT_TRUE(hashed_key);
}

TEST_F(SessionStoreTest, UnknownOrMalformedIdsAreNoSession) {
  EXPECT_FALSE(find_session(random_token())->has_value());
  const uint64_t round_trips = connection_->stats().round_trips;
  for (std::string bad : {std::string(), std::string("x"), std::string(43, '*'), random_token() + "A"}) {
    Result<std::optional<Session>> found = find_session(bad);
    ASSERT_TRUE(found);
    EXPECT_FALSE(found->has_value());
  }
  EXPECT_EQ(connection_->stats().round_trips, round_trips) << "malformed ids never reach Redis";
}

TEST_F(SessionStoreTest, SigningInOverAPresentedSessionMakesANewIdAndEndsTheOld) {
  // Fixation: the attacker's own session id, planted in the victim's browser before sign-in.
  const catalog::User mallory = register_user("mallory");
  const NewSession planted = new_session(mallory.id);
  const NewSession signed_in_session = new_session(alice_.id, planted.id);
  EXPECT_NE(signed_in_session.id, planted.id);
  EXPECT_FALSE(signed_in(planted.id, mallory.id)) << "the presented session is ended, never promoted";
  EXPECT_FALSE(signed_in(planted.id, alice_.id));
  EXPECT_TRUE(signed_in(signed_in_session.id, alice_.id));
  Result<redis::Reply> members =
      redis_->execute(redis::Command("SMEMBERS", account_keys::user_sessions(mallory.id)));
  EXPECT_TRUE(members->elements().empty());

  // A made-up id presented at sign-in does not become a session either.
  const std::string made_up = random_token();
  const NewSession next = new_session(alice_.id, made_up);
  EXPECT_NE(next.id, made_up);
  EXPECT_FALSE(find_session(made_up)->has_value());
}

TEST_F(SessionStoreTest, SignOutEndsThatSessionOnly) {
  const NewSession phone = new_session(alice_.id);
  const NewSession laptop = new_session(alice_.id);
  ASSERT_TRUE(await(sessions_.revoke(*connection_, phone.id)).ok());
  EXPECT_FALSE(signed_in(phone.id, alice_.id)) << "a copy of the cookie taken before sign-out is refused";
  EXPECT_TRUE(signed_in(laptop.id, alice_.id));
  EXPECT_TRUE(await(sessions_.revoke(*connection_, phone.id)).ok()) << "signing out twice is fine";
  EXPECT_TRUE(await(sessions_.revoke(*connection_, "garbage")).ok());
}

TEST_F(SessionStoreTest, SignOutEverywhereEndsEverySessionOfTheUser) {
  const catalog::User bob = register_user("bob");
  const NewSession a = new_session(alice_.id);
  const NewSession b = new_session(alice_.id);
  const NewSession bobs = new_session(bob.id);
  ASSERT_TRUE(await(sessions_.revoke_all(*connection_, alice_.id)).ok());
  EXPECT_FALSE(signed_in(a.id, alice_.id));
  EXPECT_FALSE(signed_in(b.id, alice_.id));
  EXPECT_TRUE(signed_in(bobs.id, bob.id));
  EXPECT_TRUE(signed_in(new_session(alice_.id).id, alice_.id)) << "signing in again works";
}

TEST_F(SessionStoreTest, ALookupRenewsOnlyOnceTheTtlHasRunDownFarEnough) {
  const NewSession session = new_session(alice_.id);
  const std::string key = key_of(session.id);
  EXPECT_GT(pttl(key), (options().idle_timeout - 1min).count());

  // Not yet run down by renew_after: the lookup only reads.
  const auto barely_used = options().idle_timeout - options().renew_after / 2;
  pexpire(key, barely_used);
  ASSERT_TRUE(signed_in(session.id, alice_.id));
  EXPECT_LE(pttl(key), barely_used.count());

  // Run down by more than renew_after (as after a day idle): renewed to the full idle timeout.
  const auto run_down = options().idle_timeout - options().renew_after - 1min;
  pexpire(key, run_down);
  ASSERT_TRUE(signed_in(session.id, alice_.id));
  EXPECT_GT(pttl(key), (options().idle_timeout - 1min).count());
  EXPECT_GE(pttl(account_keys::user_sessions(alice_.id)), pttl(key) - 60'000) << "the set lives as long";
}

TEST_F(SessionStoreTest, NoSessionOutlivesTheAbsoluteCap) {
  const NewSession session = new_session(alice_.id);
  const std::string key = key_of(session.id);
  // A day before the cap, a lookup renews to what is left of it, not to the idle timeout.
  clock_.advance(options().absolute_timeout - 24h);
  pexpire(key, 1h);
  ASSERT_TRUE(signed_in(session.id, alice_.id));
  EXPECT_GT(pttl(key), (23h).count());
  EXPECT_LE(pttl(key), std::chrono::milliseconds(24h).count());
  // Past the cap it is gone, whatever its TTL.
  clock_.advance(24h);
  EXPECT_FALSE(signed_in(session.id, alice_.id));
  EXPECT_EQ(pttl(key), -2) << "and deleted";
}

TEST_F(SessionStoreTest, AnIdleSessionExpires) {
  const NewSession session = new_session(alice_.id);
  const std::string key = key_of(session.id);
  pexpire(key, 1ms);  // what the idle timeout comes to when nobody uses the session
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (pttl(key) != -2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(pttl(key), -2);
  EXPECT_FALSE(signed_in(session.id, alice_.id));
}

TEST_F(SessionStoreTest, ASessionWhoseUserHashIsMissingIsRefused) {
  const NewSession session = new_session(alice_.id);
  ASSERT_TRUE(redis_->execute(redis::Command("DEL", account_keys::user(alice_.id))).ok());
  EXPECT_FALSE(signed_in(session.id, alice_.id));
  // Not deleted for it: once the hash is back (a rebuild), the session works again.
  ASSERT_TRUE(redis_->execute(account_keys::user_command(alice_)).ok());
  EXPECT_TRUE(signed_in(session.id, alice_.id));
}

TEST_F(SessionStoreTest, SigningInPrunesExpiredSessionsFromTheUsersSet) {
  const NewSession old_session = new_session(alice_.id);
  ASSERT_TRUE(redis_->execute(redis::Command("DEL", key_of(old_session.id))).ok());
  new_session(alice_.id);
  EXPECT_EQ(redis_->execute(redis::Command("SCARD", account_keys::user_sessions(alice_.id)))->integer(), 1);
}

// A site with a sessions node ([redis] sessions) and a replica of it for lookups
// ([redis] sessions_read): two more redis-servers, the replica following the sessions primary.
class SessionNodesTest : public SessionStoreTest {
 protected:
  void SetUp() override {
    SessionStoreTest::SetUp();
    if (HasFatalFailure()) return;
    auto primary = redis::RedisServer::start(
        {.dir = (dir_.path() / "sessions").string(),
         .append_only = false,
         .extra_config_lines = {"repl-diskless-sync-delay 0"}});  // no 5 s wait to sync
    ASSERT_TRUE(primary) << primary.error().message;
    primary_.emplace(std::move(*primary));
    const std::string follow = "replicaof 127.0.0.1 " + std::to_string(primary_->endpoint().port);
    auto replica = redis::RedisServer::start(
        {.dir = (dir_.path() / "replica").string(), .append_only = false, .extra_config_lines = {follow}});
    ASSERT_TRUE(replica) << replica.error().message;
    replica_.emplace(std::move(*replica));
    redis::ConnectionOptions options;
    options.endpoint = primary_->endpoint();
    start_connection(on_primary_, io_, options);
    auto client = redis::BlockingClient::connect(options);
    ASSERT_TRUE(client) << client.error().message;
    primary_client_.emplace(std::move(*client));
    options.endpoint = replica_->endpoint();
    start_connection(on_replica_, io_, options);
    client = redis::BlockingClient::connect(options);
    ASSERT_TRUE(client) << client.error().message;
    replica_client_.emplace(std::move(*client));
    ASSERT_TRUE(reel::testing::eventually([&] {
      auto info = replica_client_->execute(redis::Command("INFO", "replication"));
      return info && redis::info_field(info->str(), "master_link_status") == "up";
    }));
  }

  NewSession new_session_on_node(int64_t user_id) {
    Result<NewSession> session = await(sessions_.create(*on_primary_, user_id));
    EXPECT_TRUE(session) << session.error().message;
    return session ? *session : NewSession{};
  }
  Result<std::optional<Session>> find_on(redis::Connection& lookups, const std::string& id) {
    return await(sessions_.find(SessionNodes{*on_primary_, lookups, *connection_}, id));
  }
  bool exists(redis::BlockingClient& client, const std::string& key) {
    return client.execute(redis::Command("EXISTS", key))->integer() == 1;
  }
  // Waits until the replica has caught up with the primary's writes so far, whoever made them (a
  // WAIT waits only for the writes of the connection that sends it).
  void replicated() {
    auto offset = [](redis::BlockingClient& client, std::string_view field) -> int64_t {
      auto info = client.execute(redis::Command("INFO", "replication"));
      if (!info || info->is_error()) return -1;
      const std::string value(redis::info_field(info->str(), field));
      return value.empty() ? -1 : std::stoll(value);
    };
    const int64_t written = offset(*primary_client_, "master_repl_offset");
    ASSERT_GT(written, 0);
    ASSERT_TRUE(
        reel::testing::eventually([&] { return offset(*replica_client_, "slave_repl_offset") >= written; }));
  }

  std::optional<redis::RedisServer> primary_;
  std::optional<redis::RedisServer> replica_;
  std::optional<redis::Connection> on_primary_;
  std::optional<redis::Connection> on_replica_;
  std::optional<redis::BlockingClient> primary_client_;
  std::optional<redis::BlockingClient> replica_client_;
};

TEST_F(SessionNodesTest, TheSessionLivesOnItsNodeAndItsUserOnTheMainOne) {
  const NewSession session = new_session_on_node(alice_.id);
  EXPECT_TRUE(exists(*primary_client_, key_of(session.id)));
  EXPECT_FALSE(exists(*redis_, key_of(session.id)));
  Result<std::optional<Session>> found = find_on(*on_primary_, session.id);
  ASSERT_TRUE(found && *found) << (found ? "no session" : found.error().message);
  EXPECT_EQ((*found)->user_id, alice_.id);
  EXPECT_EQ((*found)->csrf, session.csrf);
  EXPECT_EQ((*found)->name, "alice");
  // The account gone from the main node (a deletion whose second step has not landed yet): refused.
  ASSERT_TRUE(redis_->execute(redis::Command("DEL", account_keys::user(alice_.id))).ok());
  found = find_on(*on_primary_, session.id);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(*found);
}

TEST_F(SessionNodesTest, ALookupReadsTheReplicaAndThePrimaryOnlyWhenItMust) {
  const NewSession session = new_session_on_node(alice_.id);
  replicated();
  ASSERT_TRUE(find_on(*on_replica_, random_token()).ok());  // both nodes have the script from now on
  uint64_t primary_trips = on_primary_->stats().round_trips;
  Result<std::optional<Session>> found = find_on(*on_replica_, session.id);
  ASSERT_TRUE(found && *found) << (found ? "no session" : found.error().message);
  EXPECT_EQ(on_primary_->stats().round_trips, primary_trips) << "a plain lookup reads the replica only";

  // Renewal due: the replica (read-only: a write there fails) leaves it to the primary.
  const std::string key = key_of(session.id);
  const auto run_down = options().idle_timeout - options().renew_after - 1min;
  ASSERT_EQ(primary_client_->execute(redis::Command("PEXPIRE", key, run_down.count()))->integer(), 1);
  replicated();
  found = find_on(*on_replica_, session.id);
  ASSERT_TRUE(found && *found) << (found ? "no session" : found.error().message);
  EXPECT_GT(primary_client_->execute(redis::Command("PTTL", key))->integer(),
            std::chrono::milliseconds(options().idle_timeout - 1min).count());

  // A session the replica does not have yet (it stopped following here) is found on the primary.
  ASSERT_TRUE(replica_client_->execute(redis::Command("REPLICAOF", "NO", "ONE")).ok());
  const NewSession fresh = new_session_on_node(alice_.id);
  ASSERT_FALSE(exists(*replica_client_, key_of(fresh.id)));
  primary_trips = on_primary_->stats().round_trips;
  found = find_on(*on_replica_, fresh.id);
  ASSERT_TRUE(found && *found) << (found ? "no session" : found.error().message);
  EXPECT_EQ((*found)->csrf, fresh.csrf);
  EXPECT_EQ(on_primary_->stats().round_trips, primary_trips + 1);
}

}  // namespace
}  // namespace reel::auth::testing
