// The UserStore suite, run unchanged against every backend (see connection_suite.h for the
// Backend contract): INSTANTIATE_TYPED_TEST_SUITE_P(Name, UserStoreSuite, BackendType).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "catalog/user.h"
#include "sql/connection.h"
#include "sql/user_store.h"

namespace reel::sql::testing {

template <class Backend>
class UserStoreSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Connection>> opened = open(backend_.options());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    Result<int> migrated = migrate(*db_);
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
    store_ = std::make_unique<UserStore>(*db_);
  }

  static catalog::User user(const std::string& name, const std::string& email) {
    catalog::User user;
    user.name = name;
    user.display_name = "Display " + name;
    user.email = email;
    user.password_hash = "$argon2id$stand-in";
    user.role = catalog::Role::uploader;
    user.created_at = 1'700'000'000;
    return user;
  }

  UserInsert insert(const catalog::User& user) {
    Result<UserInsert> inserted = store_->insert(user);
    EXPECT_TRUE(inserted.ok()) << inserted.error().message;
    return inserted.ok() ? *inserted : UserInsert{};
  }

  catalog::User find(int64_t id) {
    Result<std::optional<catalog::User>> found = store_->find(id);
    EXPECT_TRUE(found.ok() && found->has_value());
    return found.ok() && found->has_value() ? **found : catalog::User{};
  }

  Backend backend_;
  std::unique_ptr<Connection> db_;
  std::unique_ptr<UserStore> store_;
};

TYPED_TEST_SUITE_P(UserStoreSuite);

TYPED_TEST_P(UserStoreSuite, InsertsAndFindsByIdAndName) {
  const UserInsert inserted = this->insert(this->user("alice", "alice@example.org"));
  ASSERT_EQ(inserted.conflict, UserConflict::none);
  const catalog::User alice = this->find(inserted.id);
  EXPECT_EQ(alice.name, "alice");
  EXPECT_EQ(alice.display_name, "Display alice");
  EXPECT_EQ(alice.email, "alice@example.org");
  EXPECT_EQ(alice.password_hash, "$argon2id$stand-in");
  EXPECT_EQ(alice.role, catalog::Role::uploader);
  EXPECT_EQ(alice.created_at, 1'700'000'000);
  EXPECT_FALSE(alice.deleted_at.has_value());
  Result<std::optional<catalog::User>> by_name = this->store_->find_by_name("alice");
  ASSERT_TRUE(by_name.ok() && by_name->has_value());
  EXPECT_EQ((*by_name)->id, inserted.id);
  EXPECT_FALSE(this->store_->find_by_name("bob")->has_value());
  EXPECT_FALSE(this->store_->find(inserted.id + 1)->has_value());
}

TYPED_TEST_P(UserStoreSuite, ATakenNameOrEmailIsAConflictNotAnError) {
  this->insert(this->user("alice", "alice@example.org"));
  EXPECT_EQ(this->insert(this->user("alice", "other@example.org")).conflict, UserConflict::name);
  EXPECT_EQ(this->insert(this->user("bob", "alice@example.org")).conflict, UserConflict::email);
  EXPECT_EQ(this->insert(this->user("alice", "alice@example.org")).conflict, UserConflict::name);
  // Accounts without an email (channels made by `reel seed`) do not collide with each other.
  EXPECT_EQ(this->insert(this->user("carol", "")).conflict, UserConflict::none);
  EXPECT_EQ(this->insert(this->user("dave", "")).conflict, UserConflict::none);
}

TYPED_TEST_P(UserStoreSuite, UpdatesTheColumnsItOwns) {
  const int64_t id = this->insert(this->user("alice", "alice@example.org")).id;
  EXPECT_TRUE(this->store_->set_password_hash(id, "$argon2id$new", 1'700'000'500).value());
  EXPECT_TRUE(this->store_->set_display_name(id, "Alice Liddell").value());
  EXPECT_TRUE(this->store_->set_role(id, catalog::Role::admin).value());
  const catalog::User alice = this->find(id);
  EXPECT_EQ(alice.password_hash, "$argon2id$new");
  EXPECT_EQ(alice.password_changed_at, 1'700'000'500);
  EXPECT_EQ(alice.display_name, "Alice Liddell");
  EXPECT_EQ(alice.role, catalog::Role::admin);
  EXPECT_FALSE(this->store_->set_role(id + 1, catalog::Role::admin).value());
}

TYPED_TEST_P(UserStoreSuite, ADeletedAccountKeepsItsNameAndReleasesItsEmail) {
  const int64_t id = this->insert(this->user("alice", "alice@example.org")).id;
  EXPECT_TRUE(this->store_->mark_deleted(id, 1'700'000'900).value());
  const catalog::User alice = this->find(id);
  EXPECT_EQ(alice.deleted_at, 1'700'000'900);
  EXPECT_EQ(alice.email, "");
  EXPECT_EQ(alice.password_hash, "");
  EXPECT_EQ(alice.display_name, "");
  EXPECT_EQ(this->insert(this->user("alice", "new@example.org")).conflict, UserConflict::name);
  EXPECT_EQ(this->insert(this->user("alice2", "alice@example.org")).conflict, UserConflict::none);
}

REGISTER_TYPED_TEST_SUITE_P(UserStoreSuite, InsertsAndFindsByIdAndName,
                            ATakenNameOrEmailIsAConflictNotAnError, UpdatesTheColumnsItOwns,
                            ADeletedAccountKeepsItsNameAndReleasesItsEmail);

}  // namespace reel::sql::testing
