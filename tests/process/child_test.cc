#include "process/child.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/fixtures.h"

namespace reel::process {
namespace {

using reel::testing::read_file;

using namespace std::chrono_literals;

// Polls `file` until it holds `text` or `timeout` passes; returns its last content.
std::string wait_for_content(const std::filesystem::path& file, const std::string& text,
                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string content = read_file(file);
  while (content != text && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);
    content = read_file(file);
  }
  return content;
}

Child spawn_ok(SpawnOptions options) {
  auto child = Child::spawn(options);
  if (!child) ADD_FAILURE() << child.error().message;
  return std::move(child).value();
}

TEST(Child, TrueExitsWithStatusZero) {
  Child child = spawn_ok({.argv = {"true"}});
  EXPECT_GT(child.pid(), 0);
  auto status = child.wait_for(60s);
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_FALSE(child.running());
}

TEST(Child, ReportsExitStatus) {
  Child child = spawn_ok({.argv = {"sh", "-c", "exit 3"}});
  auto status = child.wait_for(60s);
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  EXPECT_EQ(child.stop(), *status);  // already reaped: stop() returns the recorded status
}

TEST(Child, StopTerminatesALongRunningChild) {
  Child child = spawn_ok({.argv = {"sleep", "100"}});
  EXPECT_TRUE(child.running());
  int status = child.stop();
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);  // ended by the SIGTERM, not the escalation after the grace period
  EXPECT_FALSE(child.running());
  EXPECT_EQ(child.stop(), status);
}

TEST(Child, StopEscalatesToSigkillAfterTheGracePeriod) {
  reel::testing::TempDir dir;
  const auto ready = dir.path() / "ready";
  Child child = spawn_ok(
      {.argv = {"sh", "-c", "trap '' TERM; echo ready; exec sleep 100"}, .stdout_path = ready.string()});
  ASSERT_EQ(wait_for_content(ready, "ready\n", 60s), "ready\n");
  int status = child.stop(100ms);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(Child, WaitForTimesOutWhileTheChildRuns) {
  Child child = spawn_ok({.argv = {"sleep", "100"}});
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(child.wait_for(50ms).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 50ms);
  EXPECT_TRUE(child.running());
}

TEST(Child, RedirectsOutputToFilesAndAppends) {
  reel::testing::TempDir dir;
  const auto out = dir.path() / "out.log";
  const auto err = dir.path() / "err.log";
  for (int i = 0; i < 2; ++i) {
    Child child = spawn_ok({.argv = {"sh", "-c", "echo hello; echo oops >&2"},
                            .stdout_path = out.string(),
                            .stderr_path = err.string()});
    auto status = child.wait_for(60s);
    ASSERT_TRUE(status.has_value());
  }
  EXPECT_EQ(read_file(out), "hello\nhello\n");
  EXPECT_EQ(read_file(err), "oops\noops\n");
}

TEST(Child, RunsInTheWorkingDirectoryWithExtraEnvironment) {
  reel::testing::TempDir dir;
  const auto out = dir.path() / "out.log";
  Child child = spawn_ok({.argv = {"sh", "-c", "pwd; echo \"$REEL_CHILD_TEST\""},
                          .working_dir = dir.path().string(),
                          .stdout_path = out.string(),
                          .extra_env = {"REEL_CHILD_TEST=42"}});
  ASSERT_TRUE(child.wait_for(60s).has_value());
  EXPECT_EQ(read_file(out), std::filesystem::canonical(dir.path()).string() + "\n42\n");
}

TEST(Child, MissingProgramIsAnError) {
  auto child = Child::spawn({.argv = {"reel-no-such-program-xyz"}});
  ASSERT_FALSE(child.ok());
  EXPECT_NE(child.error().message.find("reel-no-such-program-xyz"), std::string::npos);
}

TEST(Child, EmptyArgvIsAnError) {
  EXPECT_FALSE(Child::spawn({}).ok());
}

TEST(Child, MovedChildIsOwnedByTheTarget) {
  Child first = spawn_ok({.argv = {"sleep", "100"}});
  const pid_t pid = first.pid();
  Child second = std::move(first);
  EXPECT_EQ(second.pid(), pid);
  EXPECT_TRUE(second.running());
  EXPECT_FALSE(first.running());  // NOLINT(bugprone-use-after-move): the moved-from state is defined
  int status = second.stop();
  EXPECT_TRUE(WIFSIGNALED(status));
}

}  // namespace
}  // namespace reel::process

namespace reel::process {
namespace {

// die_with_parent: a process that spawned a child and is then SIGKILLed takes the child with it.
// The test adopts orphans (PR_SET_CHILD_SUBREAPER), so it can reap the grandchild and see how it
// ended: killed by SIGKILL, not still sleeping.
TEST(ChildDiesWithParent, ASigkilledParentTakesItsChildWithIt) {
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {  // the "worker": spawns, tells the test its child's pid, waits to be killed
    auto child = Child::spawn({.argv = {"sleep", "1000"}, .die_with_parent = true});
    const pid_t pid = child ? child->pid() : -1;
    [[maybe_unused]] const ssize_t written = ::write(report[1], &pid, sizeof pid);
    while (true) ::pause();
  }
  ::close(report[1]);
  pid_t grandchild = -1;
  ASSERT_EQ(::read(report[0], &grandchild, sizeof grandchild), static_cast<ssize_t>(sizeof grandchild));
  ::close(report[0]);
  ASSERT_GT(grandchild, 0);
  ASSERT_EQ(::kill(parent, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(parent, &status, 0), parent);

  // Adopted by this process once its parent died: reap it, giving it a generous minute.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  pid_t reaped = 0;
  while ((reaped = ::waitpid(grandchild, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  if (reaped == 0) {
    ::kill(grandchild, SIGKILL);
    ::waitpid(grandchild, &status, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  ASSERT_EQ(reaped, grandchild) << "the child outlived its parent";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST(ChildProcessGroup, OwnProcessGroupLeavesOursAlone) {
  auto child = Child::spawn({.argv = {"sleep", "100"}, .own_process_group = true});
  ASSERT_TRUE(child) << child.error().message;
  EXPECT_EQ(::getpgid(child->pid()), child->pid());
  EXPECT_NE(::getpgid(child->pid()), ::getpgrp());
  auto plain = Child::spawn({.argv = {"sleep", "100"}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(::getpgid(plain->pid()), ::getpgrp());
}

}  // namespace
}  // namespace reel::process
