// `reel admin create-user` as an operator runs it: the password on stdin (never argv), the account
// in SQL with its role and an Argon2id hash of that password; a taken name and a bad password refused.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <string>

#include "auth/password.h"
#include "process/child.h"
#include "sql/connection.h"
#include "sql/user_store.h"
#include "support/fixtures.h"
#include "support/reel_up.h"

namespace reel {
namespace {

using testing::read_file;

class AdminCreateUserTest : public ::testing::Test {
 protected:
  // Runs `printf PASSWORD | reel admin create-user --data-dir DIR ARGS...`; its exit status.
  int create_user(const std::string& password, const std::string& args) {
    const std::string command = "printf '%s\\n' '" + password + "' | '" + testing::reel_binary() +
                                "' admin create-user --data-dir '" + data_.string() + "' " + args;
    auto child = process::Child::spawn(
        {.argv = {"/bin/sh", "-c", command}, .stdout_path = log_.string(), .stderr_path = log_.string()});
    if (!child) return -1;
    auto status = child->wait_for(std::chrono::minutes(5));
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }

  std::optional<catalog::User> user(const std::string& name) {
    auto db = sql::open({"sqlite:" + (data_ / "reel.db").string()});
    if (!db) return std::nullopt;
    auto found = sql::UserStore(**db).find_by_name(name);
    return found ? *found : std::nullopt;
  }

  testing::TempDir dir_;
  std::filesystem::path data_ = dir_.path() / "data";
  std::filesystem::path log_ = dir_.path() / "reel.log";
};

TEST_F(AdminCreateUserTest, CreatesTheFirstAdminWithThePasswordFromStdin) {
  ASSERT_EQ(create_user("a long passphrase", "--name Chief --email Chief@Example.org --role admin"), 0)
      << read_file(log_);
  const std::optional<catalog::User> chief = user("chief");
  ASSERT_TRUE(chief.has_value()) << read_file(log_);
  EXPECT_EQ(chief->role, catalog::Role::admin);
  EXPECT_EQ(chief->email, "chief@example.org");
  Result<auth::PasswordHasher> hasher = auth::PasswordHasher::create(auth::minimum_password_cost);
  ASSERT_TRUE(hasher);
  EXPECT_TRUE(hasher->verify(chief->password_hash, "a long passphrase").matches);
  EXPECT_FALSE(hasher->verify(chief->password_hash, "a long passphrasE").matches);
}

TEST_F(AdminCreateUserTest, RefusesATakenNameABadPasswordAndAnUnknownRole) {
  ASSERT_EQ(create_user("a long passphrase", "--name chief --email chief@example.org"), 0) << read_file(log_);
  EXPECT_EQ(create_user("a long passphrase", "--name CHIEF --email other@example.org"), 1);
  EXPECT_NE(read_file(log_).find("already registered"), std::string::npos) << read_file(log_);
  EXPECT_EQ(create_user("short", "--name carol --email carol@example.org"), 1);
  EXPECT_NE(read_file(log_).find("password: 8 to 1024"), std::string::npos) << read_file(log_);
  EXPECT_EQ(create_user("a long passphrase", "--name carol --email carol@example.org --role king"), 2);
  EXPECT_FALSE(user("carol").has_value());
}

}  // namespace
}  // namespace reel
