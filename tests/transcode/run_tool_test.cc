#include "transcode/run_tool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <stop_token>
#include <vector>

#include "support/fixtures.h"

namespace reel::transcode {
namespace {

using namespace std::chrono_literals;

class RunTool : public ::testing::Test {
 protected:
  std::string log() const { return (dir_.path() / "tool.log").string(); }
  testing::TempDir dir_;
};

TEST_F(RunTool, ReportsExitCodeAndStderr) {
  auto exit = run_tool({.argv = {"sh", "-c", "echo first >&2; echo 'file:/x/a b.mp4: broken' >&2; exit 3"},
                        .stderr_path = log()});
  ASSERT_TRUE(exit.ok()) << exit.error().message;
  EXPECT_EQ(exit->exit_code, 3);
  EXPECT_EQ(exit->stderr_text, "first\nfile:/x/a b.mp4: broken\n");
  EXPECT_EQ(last_error_line(exit->stderr_text, "file:/x/a b.mp4"), "broken");
  EXPECT_EQ(last_error_line(exit->stderr_text), "file:/x/a b.mp4: broken");
}

TEST_F(RunTool, KillsAProcessThatOverrunsItsTimeLimit) {
  auto exit = run_tool({.argv = {"sleep", "30"}, .stderr_path = log(), .time_limit = 300ms});
  ASSERT_FALSE(exit.ok());
  EXPECT_EQ(exit.error().message, "processing timed out after 0.3 s");
}

TEST_F(RunTool, StopTokenCancels) {
  std::stop_source stop;
  stop.request_stop();
  auto exit =
      run_tool({.argv = {"sleep", "30"}, .stderr_path = log(), .stop = stop.get_token(), .what = "probing"});
  ASSERT_FALSE(exit.ok());
  EXPECT_EQ(exit.error().message, "probing cancelled");
}

TEST_F(RunTool, FileSizeSignalMeansAWriteFailure) {
  auto exit = run_tool({.argv = {"sh", "-c", "kill -XFSZ $$"}, .stderr_path = log()});
  ASSERT_FALSE(exit.ok());
  EXPECT_EQ(exit.error().message, "cannot write the processed files: file size limit exceeded");
}

TEST_F(RunTool, MissingProgramIsAnError) {
  auto exit = run_tool({.argv = {"reel-no-such-program"}, .stderr_path = log()});
  ASSERT_FALSE(exit.ok());
  EXPECT_NE(exit.error().message.find("cannot start reel-no-such-program"), std::string::npos);
}

TEST_F(RunTool, FollowsTheProgressFile) {
  const std::string progress = (dir_.path() / "progress").string();
  std::vector<double> seen;
  auto exit =
      run_tool({.argv = {"sh", "-c", "printf 'frame=1\\nout_time_us=1500000\\nprogress=continue\\n' > \"$0\"",
                         progress},
                .stderr_path = log(),
                .progress_path = progress,
                .on_progress = [&](double seconds) { seen.push_back(seconds); }});
  ASSERT_TRUE(exit.ok());
  ASSERT_FALSE(seen.empty());
  EXPECT_DOUBLE_EQ(seen.back(), 1.5);
}

TEST(ProgressReader, ParsesPiecesAndSkipsUnknownTimes) {
  ProgressReader reader("");
  EXPECT_FALSE(reader.feed("out_time_us=N/A\nframe=3\n").has_value());
  EXPECT_FALSE(reader.feed("out_time_us=2000").has_value());  // incomplete line
  auto seconds = reader.feed("000\nout_time_ms=2000000\n");
  ASSERT_TRUE(seconds.has_value());
  EXPECT_DOUBLE_EQ(*seconds, 2.0);
  seconds = reader.feed("out_time_us=2500000\nprogress=continue\nout_time_us=3000000\n");
  ASSERT_TRUE(seconds.has_value());
  EXPECT_DOUBLE_EQ(*seconds, 3.0);
}

TEST(RunToolText, SecondsAndUrls) {
  EXPECT_EQ(seconds_text(1000ms), "1 s");
  EXPECT_EQ(seconds_text(2500ms), "2.5 s");
  EXPECT_EQ(file_url("/a/-b c.mp4"), "file:/a/-b c.mp4");
}

}  // namespace
}  // namespace reel::transcode
