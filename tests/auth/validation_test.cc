// Account form rules, passwords, tokens and CSRF: pure functions and libsodium, no servers.
#include "auth/validation.h"

#include <gtest/gtest.h>

#include <string>

#include "auth/accounts.h"
#include "auth/csrf.h"
#include "auth/password.h"
#include "auth/rate_limit.h"
#include "auth/token.h"
#include "catalog/model.h"
#include "catalog/user.h"

namespace reel::auth {
namespace {

TEST(UsernameTest, LowerCasesAndAcceptsHandleCharacters) {
  EXPECT_EQ(normalize_username("Alice_99").value(), "alice_99");
  EXPECT_EQ(normalize_username("a-b").value(), "a-b");
  EXPECT_EQ(normalize_username(std::string(32, 'x')).value(), std::string(32, 'x'));
}

TEST(UsernameTest, RefusesLengthsCharactersLeadingPunctuationAndReservedNames) {
  for (std::string_view bad : {"ab", "", "alice smith", "alice.b", "al/ce", "élise", "-alice", "_alice",
                               "admin", "API", "static", "media"}) {
    Result<std::string> name = normalize_username(bad);
    ASSERT_FALSE(name.ok()) << bad;
    EXPECT_EQ(name.error().kind, ErrorKind::invalid_input);
    EXPECT_TRUE(name.error().message.starts_with("username: ")) << name.error().message;
  }
  EXPECT_FALSE(normalize_username(std::string(33, 'x')).ok());
}

TEST(UsernameTest, EveryValidUsernameIsAValidChannelName) {
  for (std::string_view typed : {"abc", "Z-9_", "0zz", "a--------------------------------"}) {
    Result<std::string> name = normalize_username(typed.substr(0, 32));
    ASSERT_TRUE(name.ok()) << typed;
    EXPECT_TRUE(catalog::valid_name(*name)) << *name;
  }
}

TEST(EmailTest, LowerCasesAndChecksShape) {
  EXPECT_EQ(normalize_email("Bob@Example.ORG").value(), "bob@example.org");
  for (std::string_view bad : {"bob", "@example.org", "bob@", "a@b@c", "bob @example.org",
                               "bob@exa\tmple.org", "bob\x01@example.org", "bob@\xff"}) {
    Result<std::string> email = normalize_email(bad);
    ASSERT_FALSE(email.ok()) << bad;
    EXPECT_EQ(email.error().kind, ErrorKind::invalid_input);
  }
  const std::string local(254 - std::string("@example.org").size(), 'a');
  EXPECT_TRUE(normalize_email(local + "@example.org").ok());
  EXPECT_FALSE(normalize_email("a" + local + "@example.org").ok());
}

TEST(PasswordRulesTest, LengthInBytes) {
  EXPECT_FALSE(check_password("1234567").ok());
  EXPECT_TRUE(check_password("12345678").ok());
  EXPECT_TRUE(check_password(std::string(1024, 'p')).ok());
  EXPECT_FALSE(check_password(std::string(1025, 'p')).ok());
}

TEST(DisplayNameTest, TrimsAndCountsCharacters) {
  EXPECT_EQ(normalize_display_name("  Zoë Smith \t").value(), "Zoë Smith");
  EXPECT_TRUE(normalize_display_name(std::string(64, 'x')).ok());
  std::string sixty_four_accented;
  for (int i = 0; i < 64; ++i) sixty_four_accented += "é";
  EXPECT_TRUE(normalize_display_name(sixty_four_accented).ok());
  for (std::string bad : {std::string(), std::string("   "), std::string(65, 'x'), std::string("two\nlines"),
                          std::string("bidi \xe2\x80\xae override"), std::string("bad \xc3")}) {
    EXPECT_FALSE(normalize_display_name(bad).ok()) << bad;
  }
}

TEST(RegistrationTest, ReportsTheFirstInvalidField) {
  Result<NewAccount> account = prepare_registration("Carol", "Carol@Example.org", "long enough");
  ASSERT_TRUE(account.ok()) << account.error().message;
  EXPECT_EQ(account->name, "carol");
  EXPECT_EQ(account->display_name, "carol");
  EXPECT_EQ(account->email, "carol@example.org");
  EXPECT_TRUE(prepare_registration("x", "a@b", "long enough").error().message.starts_with("username"));
  EXPECT_TRUE(prepare_registration("carol", "ab", "long enough").error().message.starts_with("email"));
  EXPECT_TRUE(prepare_registration("carol", "a@b", "short").error().message.starts_with("password"));
}

TEST(RoleTest, NamesRoundTrip) {
  for (catalog::Role role :
       {catalog::Role::user, catalog::Role::uploader, catalog::Role::moderator, catalog::Role::admin}) {
    EXPECT_EQ(catalog::parse_role(catalog::role_name(role)), role);
  }
  EXPECT_FALSE(catalog::parse_role("Admin").has_value());
  EXPECT_TRUE(catalog::Role::admin > catalog::Role::moderator);
}

class PasswordHasherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<PasswordHasher> hasher = PasswordHasher::create(minimum_password_cost);
    ASSERT_TRUE(hasher.ok()) << hasher.error().message;
    hasher_.emplace(std::move(*hasher));
  }
  std::optional<PasswordHasher> hasher_;
};

TEST_F(PasswordHasherTest, VerifiesTheRightPasswordOnly) {
  Result<std::string> hash = hasher_->hash("correct horse");
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_TRUE(hasher_->verify(*hash, "correct horse").matches);
  EXPECT_FALSE(hasher_->verify(*hash, "correct horsE").matches);
  EXPECT_FALSE(hasher_->verify(*hash, "").matches);
  EXPECT_NE(*hash, hasher_->hash("correct horse").value()) << "a fresh salt each time";
}

TEST_F(PasswordHasherTest, NoStoredHashNeverMatches) {
  EXPECT_FALSE(hasher_->verify("", "").matches);
  EXPECT_FALSE(hasher_->verify("", "anything at all").matches);
  EXPECT_FALSE(hasher_->verify("not a hash", "anything at all").matches);
}

TEST_F(PasswordHasherTest, AHashOfAnotherCostMatchesAndAsksForARehash) {
  Result<PasswordHasher> stronger = PasswordHasher::create({2, minimum_password_cost.memlimit * 2});
  ASSERT_TRUE(stronger.ok());
  const std::string old_hash = stronger->hash("correct horse").value();
  PasswordCheck check = hasher_->verify(old_hash, "correct horse");
  EXPECT_TRUE(check.matches);
  EXPECT_TRUE(check.needs_rehash);
  EXPECT_FALSE(hasher_->verify(hasher_->hash("correct horse").value(), "correct horse").needs_rehash);
  EXPECT_FALSE(hasher_->verify(old_hash, "wrong horse").needs_rehash);
}

TEST(TokenTest, RandomTokensAreWellFormedAndDistinct) {
  const std::string a = random_token();
  const std::string b = random_token();
  EXPECT_EQ(a.size(), token_chars);
  EXPECT_TRUE(well_formed_token(a));
  EXPECT_NE(a, b);
  EXPECT_FALSE(well_formed_token(a.substr(1)));
  EXPECT_FALSE(well_formed_token(a.substr(1) + "="));
  EXPECT_FALSE(well_formed_token(a.substr(1) + "+"));
}

TEST(CsrfTest, SessionTokenMustMatchExactly) {
  const std::string token = random_token();
  EXPECT_TRUE(session_csrf_valid(token, token));
  EXPECT_FALSE(session_csrf_valid(token, ""));
  EXPECT_FALSE(session_csrf_valid("", ""));
  EXPECT_FALSE(session_csrf_valid(token, token.substr(0, 42)));
  std::string flipped = token;
  flipped[20] = flipped[20] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(session_csrf_valid(token, flipped));
}

TEST(CsrfTest, FormTokenNeedsCookieAndFieldEqualAndSignedBySite) {
  const FormCsrf csrf("site secret, thirty-two bytes or more");
  const std::string token = csrf.form_token();
  EXPECT_EQ(token.size(), 87u);
  EXPECT_TRUE(csrf.form_token_valid(token, token));
  EXPECT_FALSE(csrf.form_token_valid(token, ""));
  EXPECT_FALSE(csrf.form_token_valid("", token));
  EXPECT_FALSE(csrf.form_token_valid(token, csrf.form_token())) << "cookie and field from different forms";
  const FormCsrf other("another site's secret");
  const std::string forged = other.form_token();
  EXPECT_FALSE(csrf.form_token_valid(forged, forged)) << "a token minted under another key (cookie tossing)";
  const std::string unsigned_token = random_token() + "." + random_token();
  EXPECT_FALSE(csrf.form_token_valid(unsigned_token, unsigned_token));
  const std::string bare = random_token();
  EXPECT_FALSE(csrf.form_token_valid(bare, bare));
}

TEST(ClientSubjectTest, IPv6AddressesShareTheirSlash64) {
  EXPECT_EQ(client_subject("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(client_subject("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_subject("2001:db8:1:2:ffff::1"), client_subject("2001:db8:1:2::9"));
  EXPECT_NE(client_subject("2001:db8:1:2::1"), client_subject("2001:db8:1:3::1"));
  EXPECT_EQ(client_subject("not an address"), "not an address");
}

TEST(VerdictTest, RetryAfterRoundsUpToWholeSeconds) {
  EXPECT_EQ((Verdict{true, std::chrono::milliseconds(0)}).retry_after_seconds(), 0);
  EXPECT_EQ((Verdict{false, std::chrono::milliseconds(1)}).retry_after_seconds(), 1);
  EXPECT_EQ((Verdict{false, std::chrono::milliseconds(0)}).retry_after_seconds(), 1);
  EXPECT_EQ((Verdict{false, std::chrono::milliseconds(2001)}).retry_after_seconds(), 3);
}

}  // namespace
}  // namespace reel::auth
