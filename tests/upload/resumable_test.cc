// Resumable upload sessions in a temporary directory, with a clock the tests move.
#include "upload/resumable.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "http/test_server.h"
#include "support/fixtures.h"

namespace reel::upload {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using reel::testing::read_file;

UploadMetadata sample_metadata() {
  return UploadMetadata{
      "A title",       "A description\nover two lines", {"cats", "caf\xc3\xa9"}, "pets", "user:7",
      "../my clip.mp4"};
}

class Resumable : public ::testing::Test {
 protected:
  Resumable() : clock_(1'800'000'000), store_(ResumableOptions{dir_.path() / "uploads"}, clock_) {
    EXPECT_TRUE(store_.open().ok());
  }

  // A file holding `content`, as the HTTP server leaves a PATCH body.
  std::string body_file(const std::string& content) {
    const fs::path path = dir_.path() / ("body-" + std::to_string(bodies_++));
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  AppendResult append(const std::string& id, uint64_t offset, const std::string& content) {
    auto result = store_.append_file(id, offset, body_file(content));
    EXPECT_TRUE(result.ok()) << result.error().message;
    return result.ok() ? *result : AppendResult{};
  }

  std::string create(uint64_t total) {
    auto id = store_.create(total, sample_metadata());
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id.ok() ? *id : "";
  }

  uint64_t offset_of(const std::string& id) {
    auto session = store_.find(id);
    EXPECT_TRUE(session.ok() && *session);
    return session.ok() && *session ? (*session)->offset : UINT64_MAX;
  }

  fs::path session_path(const std::string& id) const { return dir_.path() / "uploads" / id; }

  reel::testing::TempDir dir_;
  ManualClock clock_;
  ResumableStore store_;
  int bodies_ = 0;
};

TEST(UploadNumber, ReadsDecimalHeaderValuesOnly) {
  EXPECT_EQ(parse_upload_number("0"), 0u);
  EXPECT_EQ(parse_upload_number("1048576"), 1048576u);
  EXPECT_EQ(parse_upload_number("007"), 7u);
  EXPECT_EQ(parse_upload_number("18446744073709551615"), UINT64_MAX);
  for (std::string_view bad : {"", " 1", "1 ", "+1", "-1", "0x10", "1e3", "18446744073709551616", "1,0"}) {
    EXPECT_FALSE(parse_upload_number(bad)) << bad;
  }
}

TEST_F(Resumable, CreatesAppendsInChunksAndTakesTheFile) {
  const std::string id = create(10);
  EXPECT_TRUE(ResumableStore::valid_id(id)) << id;
  auto created = store_.find(id);
  ASSERT_TRUE(created.ok() && *created);
  EXPECT_EQ((*created)->offset, 0u);
  EXPECT_EQ((*created)->total_bytes, 10u);
  EXPECT_EQ((*created)->metadata, sample_metadata());
  EXPECT_EQ((*created)->created_at, clock_.now());
  EXPECT_FALSE((*created)->complete());

  AppendResult first = append(id, 0, "0123");
  EXPECT_EQ(first.status, AppendStatus::appended);
  EXPECT_EQ(first.offset, 4u);
  EXPECT_EQ(offset_of(id), 4u);
  AppendResult second = append(id, 4, "456789");
  EXPECT_EQ(second.status, AppendStatus::appended);
  EXPECT_EQ(second.offset, 10u);
  auto done = store_.find(id);
  ASSERT_TRUE(done.ok() && *done);
  EXPECT_TRUE((*done)->complete());

  const fs::path dest = dir_.path() / "video.upload";
  auto taken = store_.take(id, dest.string());
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->status, TakeStatus::taken);
  EXPECT_EQ(taken->session.metadata, sample_metadata());
  EXPECT_EQ(read_file(dest), "0123456789");
  EXPECT_FALSE(fs::exists(session_path(id)));
  auto gone = store_.find(id);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(*gone);
  auto again = store_.take(id, (dir_.path() / "again").string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, TakeStatus::not_found);
}

TEST_F(Resumable, ResumesFromTheOffsetAfterADroppedConnection) {
  const std::string content = "the whole upload, sent in two goes";
  const std::string id = create(content.size());
  // The first PATCH carried the first half; the connection dropped before the client saw the
  // answer. It asks for the offset and sends the rest from there.
  ASSERT_EQ(append(id, 0, content.substr(0, 15)).status, AppendStatus::appended);
  const uint64_t resume_at = offset_of(id);
  EXPECT_EQ(resume_at, 15u);
  // Resending the first chunk (the client did not know it arrived) is refused with the offset.
  AppendResult repeated = append(id, 0, content.substr(0, 15));
  EXPECT_EQ(repeated.status, AppendStatus::offset_mismatch);
  EXPECT_EQ(repeated.offset, 15u);
  ASSERT_EQ(append(id, resume_at, content.substr(resume_at)).status, AppendStatus::appended);
  EXPECT_EQ(read_file(session_path(id) / "data"), content);
}

TEST_F(Resumable, IgnoresBytesACrashLeftPastTheCommittedOffset) {
  const std::string id = create(8);
  ASSERT_EQ(append(id, 0, "abcd").status, AppendStatus::appended);
  // A crash mid-append: bytes reached the data file, the offset was not committed.
  std::ofstream(session_path(id) / "data", std::ios::binary | std::ios::app) << "garbage";
  EXPECT_EQ(offset_of(id), 4u);
  ASSERT_EQ(append(id, 4, "efgh").status, AppendStatus::appended);
  EXPECT_EQ(read_file(session_path(id) / "data"), "abcdefgh");
}

TEST_F(Resumable, RefusesAWrongOffsetWithTheCurrentOne) {
  const std::string id = create(10);
  ASSERT_EQ(append(id, 0, "abc").status, AppendStatus::appended);
  for (uint64_t wrong : {0u, 2u, 4u, 100u}) {
    AppendResult result = append(id, wrong, "x");
    EXPECT_EQ(result.status, AppendStatus::offset_mismatch) << wrong;
    EXPECT_EQ(result.offset, 3u);
  }
  EXPECT_EQ(read_file(session_path(id) / "data"), "abc");
}

TEST_F(Resumable, RefusesBytesBeyondTheTotal) {
  const std::string id = create(5);
  ASSERT_EQ(append(id, 0, "abc").status, AppendStatus::appended);
  AppendResult over = append(id, 3, "def");
  EXPECT_EQ(over.status, AppendStatus::beyond_total);
  EXPECT_EQ(over.offset, 3u);
  EXPECT_EQ(read_file(session_path(id) / "data"), "abc");
  EXPECT_EQ(append(id, 3, "de").status, AppendStatus::appended);
  EXPECT_EQ(append(id, 5, "f").status, AppendStatus::beyond_total);
}

TEST_F(Resumable, AppendsARangeOfAnOpenFile) {
  const std::string id = create(4);
  const std::string path = body_file("xxabcdxx");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto result = store_.append(id, 0, fd, ByteRange{2, 4});
  ::close(fd);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->status, AppendStatus::appended);
  EXPECT_EQ(read_file(session_path(id) / "data"), "abcd");
}

TEST_F(Resumable, TakesOnlyACompleteUploadToANewPath) {
  const std::string id = create(6);
  ASSERT_EQ(append(id, 0, "abc").status, AppendStatus::appended);
  auto early = store_.take(id, (dir_.path() / "early").string());
  ASSERT_TRUE(early.ok()) << early.error().message;
  EXPECT_EQ(early->status, TakeStatus::incomplete);
  EXPECT_EQ(early->session.offset, 3u);
  EXPECT_FALSE(fs::exists(dir_.path() / "early"));

  ASSERT_EQ(append(id, 3, "def").status, AppendStatus::appended);
  const fs::path existing = dir_.path() / "existing";
  std::ofstream(existing) << "keep me";
  auto refused = store_.take(id, existing.string());
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(read_file(existing), "keep me");
  EXPECT_EQ(offset_of(id), 6u);  // the session is intact
  auto taken = store_.take(id, (dir_.path() / "new").string());
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->status, TakeStatus::taken);
  EXPECT_EQ(read_file(dir_.path() / "new"), "abcdef");
}

TEST_F(Resumable, TreatsMalformedIdsAsUnknownWithoutTouchingFiles) {
  const std::string id = create(3);
  const fs::path outside = dir_.path() / "outside";
  fs::create_directories(outside);
  std::ofstream(outside / "data") << "x";
  std::ofstream(outside / "meta.json") << "{}";
  for (const std::string& bad :
       {std::string(""), std::string("../outside"), std::string(".."), id.substr(1), id + "0",
        std::string(32, 'A'), std::string(31, 'a') + "/", std::string(30, 'a') + "..", ".new-" + id,
        std::string(32, 'g'), std::string("0000000000000000000000000000000\0", 32)}) {
    EXPECT_FALSE(ResumableStore::valid_id(bad)) << bad;
    auto found = store_.find(bad);
    ASSERT_TRUE(found.ok());
    EXPECT_FALSE(*found) << bad;
    EXPECT_EQ(append(bad, 0, "abc").status, AppendStatus::not_found) << bad;
    auto taken = store_.take(bad, (dir_.path() / "taken").string());
    ASSERT_TRUE(taken.ok());
    EXPECT_EQ(taken->status, TakeStatus::not_found);
    auto cancelled = store_.cancel(bad);
    ASSERT_TRUE(cancelled.ok());
    EXPECT_FALSE(*cancelled);
  }
  EXPECT_EQ(read_file(outside / "data"), "x");
  EXPECT_EQ(offset_of(id), 0u);
  // A well-formed id that was never issued.
  auto unknown = store_.find(std::string(32, 'a'));
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(*unknown);
  EXPECT_EQ(append(std::string(32, 'a'), 0, "x").status, AppendStatus::not_found);
}

TEST_F(Resumable, IssuesDistinctIds) {
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.insert(create(1));
  EXPECT_EQ(ids.size(), 50u);
}

TEST_F(Resumable, RefusesATotalOutsideItsRange) {
  EXPECT_FALSE(store_.create(0, {}).ok());
  EXPECT_FALSE(store_.create(store_.options().max_total_bytes + 1, {}).ok());
  EXPECT_TRUE(store_.create(store_.options().max_total_bytes, {}).ok());
}

TEST_F(Resumable, StoresMetadataThatIsNotUtf8WithReplacementCharacters) {
  UploadMetadata metadata;
  metadata.title = "bad \xff byte";
  auto id = store_.create(1, metadata);
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto session = store_.find(*id);
  ASSERT_TRUE(session.ok() && *session);
  EXPECT_EQ((*session)->metadata.title, "bad \xef\xbf\xbd byte");
}

TEST_F(Resumable, CancelRemovesTheSession) {
  const std::string id = create(3);
  ASSERT_EQ(append(id, 0, "a").status, AppendStatus::appended);
  auto cancelled = store_.cancel(id);
  ASSERT_TRUE(cancelled.ok() && *cancelled);
  EXPECT_FALSE(fs::exists(session_path(id)));
  EXPECT_EQ(append(id, 1, "b").status, AppendStatus::not_found);
  auto again = store_.cancel(id);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

// Holds the lock an append holds, as a concurrent append on another loop or process would.
class HeldLock {
 public:
  explicit HeldLock(const fs::path& data) : fd_(::open(data.c_str(), O_RDWR | O_CLOEXEC)) {
    EXPECT_EQ(::flock(fd_, LOCK_EX | LOCK_NB), 0);
  }
  ~HeldLock() { ::close(fd_); }

 private:
  int fd_;
};

TEST_F(Resumable, AnswersBusyWhileAnotherAppendHoldsTheSession) {
  const std::string id = create(4);
  {
    HeldLock held(session_path(id) / "data");
    AppendResult busy = append(id, 0, "ab");
    EXPECT_EQ(busy.status, AppendStatus::busy);
    auto take = store_.take(id, (dir_.path() / "t").string());
    ASSERT_TRUE(take.ok());
    EXPECT_EQ(take->status, TakeStatus::busy);
  }
  EXPECT_EQ(append(id, 0, "ab").status, AppendStatus::appended);
}

TEST_F(Resumable, LetsOnlyOneOfTwoConcurrentAppendsAtTheSameOffsetIn) {
  for (int round = 0; round < 20; ++round) {
    const std::string id = create(8);
    const std::string a = body_file("aaaa");
    const std::string b = body_file("bbbb");
    Result<AppendResult> first = Error{"not run"};
    Result<AppendResult> second = Error{"not run"};
    std::thread other([&] { second = store_.append_file(id, 0, b); });
    first = store_.append_file(id, 0, a);
    other.join();
    ASSERT_TRUE(first.ok() && second.ok());
    const int appended =
        (first->status == AppendStatus::appended) + (second->status == AppendStatus::appended);
    EXPECT_EQ(appended, 1) << "round " << round;
    for (const auto& result : {*first, *second}) {
      EXPECT_TRUE(result.status == AppendStatus::appended || result.status == AppendStatus::busy ||
                  (result.status == AppendStatus::offset_mismatch && result.offset == 4));
    }
    const std::string data = read_file(session_path(id) / "data");
    EXPECT_TRUE(data == "aaaa" || data == "bbbb") << data;
    EXPECT_EQ(offset_of(id), 4u);
  }
}

TEST_F(Resumable, ExpiresIdleSessionsAndLeftovers) {
  const std::string idle = create(4);
  const std::string active = create(4);
  const std::string busy = create(4);
  clock_.advance(std::chrono::hours(2));
  ASSERT_EQ(append(active, 0, "ab").status, AppendStatus::appended);  // activity now
  // A create cut short by a crash long ago.
  const fs::path leftover = dir_.path() / "uploads" / (".new-" + std::string(32, 'c'));
  fs::create_directories(leftover);
  const timespec old[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, leftover.c_str(), old, 0), 0);
  std::ofstream(dir_.path() / "uploads" / "README") << "not a session: left alone";

  HeldLock held(session_path(busy) / "data");
  auto removed = store_.expire(std::chrono::hours(1));
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 2u);  // `idle` and the leftover
  EXPECT_FALSE(fs::exists(session_path(idle)));
  EXPECT_FALSE(fs::exists(leftover));
  EXPECT_TRUE(fs::exists(session_path(active)));
  EXPECT_TRUE(fs::exists(session_path(busy)));  // in use: skipped this time
  EXPECT_TRUE(fs::exists(dir_.path() / "uploads" / "README"));
  EXPECT_EQ(offset_of(active), 2u);
}

// A session's age is the store's clock alone: what the file system says about its files (their
// mtimes, set by the kernel's clock, a copy or a restore) changes nothing.
TEST_F(Resumable, IdleTimeFollowsTheStoresClockNotTheFilesTimes) {
  const std::string id = create(4);
  ASSERT_EQ(append(id, 0, "ab").status, AppendStatus::appended);
  auto found = store_.find(id);
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ((*found)->last_activity, clock_.now());
  const auto stamp_files = [&](time_t unix_seconds) {
    const timespec times[2] = {{unix_seconds, 0}, {unix_seconds, 0}};
    for (const char* file : {"", "data", "meta.json", "offset"}) {
      ASSERT_EQ(::utimensat(AT_FDCWD, (session_path(id) / file).c_str(), times, 0), 0) << file;
    }
  };
  stamp_files(1'000'000'000);  // long ago
  auto kept = store_.expire(std::chrono::hours(1));
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ(*kept, 0u);

  clock_.advance(std::chrono::hours(2));
  stamp_files(4'000'000'000);  // far ahead
  auto removed = store_.expire(std::chrono::hours(1));
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 1u);
  EXPECT_FALSE(fs::exists(session_path(id)));
}

TEST_F(Resumable, RefusesAnAppendTheDiskCannotHoldAndKeepsNothing) {
  http::testing::TinyFileSystem tiny;
  ASSERT_TRUE(tiny.mounted()) << "cannot mount a small tmpfs here (the suite runs as root): " << tiny.error();
  ResumableStore store(ResumableOptions{tiny.path()}, clock_);
  auto id = store.create(4 * 1024 * 1024, {});
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto full = store.append_file(*id, 0, body_file(std::string(2 * 1024 * 1024, 'z')));
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->status, AppendStatus::no_space);
  EXPECT_EQ(full->offset, 0u);
  EXPECT_EQ(fs::file_size(tiny.path() / *id / "data"), 0u);  // the partial bytes are gone
  auto fits = store.append_file(*id, 0, body_file(std::string(256 * 1024, 'y')));
  ASSERT_TRUE(fits.ok()) << fits.error().message;
  EXPECT_EQ(fits->status, AppendStatus::appended);
  EXPECT_EQ(fits->offset, 256u * 1024);
}

}  // namespace
}  // namespace reel::upload
