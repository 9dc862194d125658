// Accounts against a real redis-server and SQLite: registration and its projection, duplicates
// and the messages they give, the sign-in check, password change, roles, display names and
// deletion, with the sessions each one must end.
#include "auth/accounts.h"

#include <gtest/gtest.h>

#include "auth/auth_fixture.h"
#include "projection/account_keys.h"
#include "projection/keys.h"
#include "projection/rebuild.h"
#include "sql/catalog_store.h"
#include "sql/user_store.h"

namespace reel::auth::testing {
namespace {

namespace account_keys = projection::account_keys;

class AccountsTest : public AuthTest {
 protected:
  std::string field(const std::string& key, const std::string& name) {
    Result<redis::Reply> value = redis_->execute(redis::Command("HGET", key, name));
    EXPECT_TRUE(value) << value.error().message;
    return value ? std::string(value->str()) : std::string();
  }
  bool exists(const std::string& key) {
    return redis_->execute(redis::Command("EXISTS", key))->integer() == 1;
  }
  int64_t user_rows() { return db_->query_all("SELECT COUNT(*) FROM users")->front().integer(0); }

  Result<Registered> try_register(std::string_view name, std::string_view email) {
    Result<NewAccount> account = prepare_registration(name, email, "another password");
    if (!account) return account.error();
    const std::string hash = hasher_->hash("another password").value();
    return write<Registered>(
        [&](writes::Transaction& tx) { return register_account(tx, *account, hash, clock_.unix_seconds()); });
  }
  SignInCheck sign_in(std::string_view name, std::string password) {
    Result<SignInCheck> check = await(check_sign_in(*pool_, hashing_, *hasher_, name, std::move(password)));
    EXPECT_TRUE(check) << check.error().message;
    return check ? *check : SignInCheck{};
  }
};

TEST_F(AccountsTest, RegisteringWritesTheUserAndProjectsItAndItsChannel) {
  const catalog::User alice = register_user("Alice", "correct horse", "Alice@Example.ORG");
  ASSERT_GT(alice.id, 0);
  auto row = sql::UserStore(*db_).find(alice.id);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->name, "alice");
  EXPECT_EQ((*row)->email, "alice@example.org");
  EXPECT_EQ((*row)->role, catalog::Role::user);
  EXPECT_EQ((*row)->created_at, clock_.unix_seconds());
  EXPECT_TRUE(hasher_->verify((*row)->password_hash, "correct horse").matches);

  const std::string user_key = account_keys::user(alice.id);
  EXPECT_EQ(field(user_key, "name"), "alice");
  EXPECT_EQ(field(user_key, "display_name"), "alice");
  EXPECT_EQ(field(user_key, "role"), "user");
  EXPECT_EQ(field(user_key, "created_at"), std::to_string(clock_.unix_seconds()));
  EXPECT_EQ(field(projection::keys::channel("alice"), "display_name"), "alice");
  EXPECT_EQ(field(projection::keys::channel("alice"), "created_at"), std::to_string(clock_.unix_seconds()));
}

TEST_F(AccountsTest, ATakenNameOrEmailIsRefusedAlikeAndWritesNothing) {
  register_user("alice");
  const int64_t rows = user_rows();
  Result<Registered> same_name = try_register("ALICE", "someone.else@example.org");
  Result<Registered> same_email = try_register("bob", "Alice@Example.org");
  ASSERT_TRUE(same_name) << same_name.error().message;
  ASSERT_TRUE(same_email) << same_email.error().message;
  EXPECT_FALSE(same_name->user.has_value());
  EXPECT_FALSE(same_email->user.has_value())
      << "one answer (taken_message) for both: the email stays private";
  EXPECT_EQ(user_rows(), rows);
  EXPECT_FALSE(exists(projection::keys::channel("bob")));
  EXPECT_TRUE(try_register("bob", "bob@example.org")->user.has_value());
}

TEST_F(AccountsTest, ChannelsMadeWithoutAccountsKeepTheirNames) {
  ASSERT_TRUE(db_->execute("INSERT INTO users (name, display_name) VALUES ('demo', 'Demo')").ok());
  EXPECT_FALSE(try_register("demo", "demo@example.org")->user.has_value());
  EXPECT_FALSE(sign_in("demo", "").user.has_value()) << "a channel without a password cannot sign in";
}

TEST_F(AccountsTest, SignInFailsAlikeForEveryReason) {
  const catalog::User alice = register_user("alice");
  const catalog::User gone = register_user("gone");
  ASSERT_TRUE(write<bool>([&](writes::Transaction& tx) {
                return delete_account(tx, gone.id, clock_.unix_seconds(), {});
              }).value());

  const SignInCheck ok = sign_in("Alice", "correct horse");
  ASSERT_TRUE(ok.user.has_value());
  EXPECT_EQ(ok.user->id, alice.id);
  EXPECT_FALSE(ok.needs_rehash);
  // Wrong password, unknown name, deleted account, a name no account can have: the same outcome,
  // which the API turns into one message (sign_in_failed_message).
  for (auto [name, password] :
       {std::pair{"alice", "wrong horse"}, std::pair{"nobody", "correct horse"},
        std::pair{"gone", "correct horse"}, std::pair{"x", "correct horse"}, std::pair{"alice", ""}}) {
    const SignInCheck failed = sign_in(name, password);
    EXPECT_FALSE(failed.user.has_value()) << name << " / " << password;
  }
}

TEST_F(AccountsTest, AnOldCostHashIsReportedAndReplacedWithoutEndingSessions) {
  Result<PasswordHasher> old_cost = PasswordHasher::create({2, minimum_password_cost.memlimit * 2});
  ASSERT_TRUE(old_cost);
  const catalog::User alice = register_user("alice");
  ASSERT_TRUE(
      sql::UserStore(*db_).set_password_hash(alice.id, old_cost->hash("correct horse").value(), 0).ok());
  const NewSession session = new_session(alice.id);

  const SignInCheck check = sign_in("alice", "correct horse");
  ASSERT_TRUE(check.user.has_value());
  EXPECT_TRUE(check.needs_rehash);
  const std::string rehashed = hasher_->hash("correct horse").value();
  ASSERT_TRUE(
      write<bool>([&](writes::Transaction& tx) { return store_rehash(tx, alice.id, rehashed); }).value());
  EXPECT_FALSE(sign_in("alice", "correct horse").needs_rehash);
  EXPECT_TRUE(signed_in(session.id, alice.id));
}

TEST_F(AccountsTest, ChangingThePasswordEndsEverySessionAndOnlyTheNewOneWorks) {
  const catalog::User alice = register_user("alice");
  const NewSession laptop = new_session(alice.id);
  const NewSession stolen = new_session(alice.id);
  const catalog::User bob = register_user("bob");
  const NewSession bobs = new_session(bob.id);

  Result<SignInCheck> old_ok =
      await(check_password_of(*pool_, hashing_, *hasher_, alice.id, "correct horse"));
  ASSERT_TRUE(old_ok && old_ok->user);
  const std::string hash = hasher_->hash("battery staple").value();
  ASSERT_TRUE(write<bool>([&](writes::Transaction& tx) {
                return change_password(tx, alice.id, hash, clock_.unix_seconds());
              }).value());

  EXPECT_FALSE(signed_in(laptop.id, alice.id));
  EXPECT_FALSE(signed_in(stolen.id, alice.id)) << "a stolen session must die with the password change";
  EXPECT_TRUE(signed_in(bobs.id, bob.id));
  EXPECT_FALSE(sign_in("alice", "correct horse").user.has_value());
  EXPECT_TRUE(sign_in("alice", "battery staple").user.has_value());
  EXPECT_EQ(sql::UserStore(*db_).find(alice.id)->value().password_changed_at, clock_.unix_seconds());
  const NewSession fresh = new_session(alice.id);
  EXPECT_TRUE(signed_in(fresh.id, alice.id));
}

TEST_F(AccountsTest, RoleAndDisplayNameReachSessionsAndTheChannel) {
  const catalog::User alice = register_user("alice");
  const NewSession session = new_session(alice.id);
  ASSERT_TRUE(write<bool>([&](writes::Transaction& tx) {
                return set_role(tx, alice.id, catalog::Role::moderator);
              }).value());
  ASSERT_TRUE(write<bool>([&](writes::Transaction& tx) {
                return set_display_name(tx, alice.id, "Alice Liddell");
              }).value());
  Result<std::optional<Session>> found = find_session(session.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->role, catalog::Role::moderator);
  EXPECT_EQ((*found)->display_name, "Alice Liddell");
  EXPECT_EQ((*found)->name, "alice");
  EXPECT_EQ(field(projection::keys::channel("alice"), "display_name"), "Alice Liddell");
  EXPECT_FALSE(
      write<bool>([&](writes::Transaction& tx) { return set_role(tx, 999, catalog::Role::admin); }).value());
}

TEST_F(AccountsTest, DeletingAnAccountRemovesItsDataSessionsAndProjectionButKeepsTheName) {
  const catalog::User alice = register_user("alice");
  const NewSession session = new_session(alice.id);
  std::vector<int64_t> removed_for;
  const std::vector<AccountRemovalStep> steps{[&](writes::Transaction&, const catalog::User& user) {
    removed_for.push_back(user.id);
    return Status{};
  }};

  ASSERT_TRUE(write<bool>([&](writes::Transaction& tx) {
                return delete_account(tx, alice.id, clock_.unix_seconds(), steps);
              }).value());
  EXPECT_EQ(removed_for, std::vector<int64_t>{alice.id});
  EXPECT_FALSE(signed_in(session.id, alice.id));
  EXPECT_FALSE(exists(account_keys::user(alice.id)));
  EXPECT_FALSE(exists(projection::keys::channel("alice")));
  EXPECT_FALSE(exists(account_keys::user_sessions(alice.id)));
  auto row = sql::UserStore(*db_).find(alice.id);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->deleted_at, clock_.unix_seconds());
  EXPECT_EQ((*row)->email, "");
  EXPECT_EQ((*row)->password_hash, "");
  EXPECT_FALSE(try_register("alice", "new.alice@example.org")->user.has_value());
  EXPECT_TRUE(try_register("alice2", "alice@example.org")->user.has_value()) << "the email was released";
  EXPECT_FALSE(write<bool>([&](writes::Transaction& tx) {
                 return delete_account(tx, alice.id, clock_.unix_seconds(), {});
               }).value())
      << "deleted once";
}

TEST_F(AccountsTest, ARebuildRestoresTheHashesOfLiveAccountsOnly) {
  const catalog::User alice = register_user("alice");
  const catalog::User bob = register_user("bob");
  ASSERT_TRUE(write<bool>([&](writes::Transaction& tx) {
                return delete_account(tx, bob.id, clock_.unix_seconds(), {});
              }).value());
  auto user_hash = [&](int64_t id) {
    auto reply = redis_->execute(redis::Command("HGETALL", account_keys::user(id)));
    EXPECT_TRUE(reply) << reply.error().message;
    return reply ? reply->elements().size() : 0u;
  };
  const size_t fields = user_hash(alice.id);
  ASSERT_GT(fields, 0u);
  ASSERT_TRUE(redis_->execute(redis::Command("FLUSHALL")));
  ASSERT_TRUE(redis_->execute(redis::Command("SET", account_keys::user(bob.id), "left over")));
  sql::CatalogStore store(*db_);
  projection::RebuildOptions options;
  options.projections = {"accounts", "channels"};
  options.now = clock_.unix_seconds();
  auto rebuilt = projection::rebuild(store, *redis_, options);
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  EXPECT_EQ(user_hash(alice.id), fields) << "a session lookup finds the user again";
  EXPECT_FALSE(exists(account_keys::user(bob.id))) << "a deleted account's leftover is swept";
  EXPECT_TRUE(exists(projection::keys::channel("alice")));
  EXPECT_FALSE(exists(projection::keys::channel("bob")));
}

TEST_F(AccountsTest, AFailingRemovalStepLeavesTheAccountAsItWas) {
  const catalog::User alice = register_user("alice");
  const NewSession session = new_session(alice.id);
  const std::vector<AccountRemovalStep> steps{
      [](writes::Transaction&, const catalog::User&) { return Status{Error{"votes: disk full"}}; }};
  Result<bool> deleted = write<bool>(
      [&](writes::Transaction& tx) { return delete_account(tx, alice.id, clock_.unix_seconds(), steps); });
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().message, "votes: disk full");
  EXPECT_TRUE(signed_in(session.id, alice.id));
  EXPECT_FALSE(sql::UserStore(*db_).find(alice.id)->value().deleted_at.has_value());
}

}  // namespace
}  // namespace reel::auth::testing
