// JobProgress's commands and the parsing of what the page reads back.
#include "jobs/progress.h"

#include <gtest/gtest.h>

namespace reel::jobs {
namespace {

using redis::Reply;
using namespace std::chrono_literals;

Reply hash_reply(const std::vector<std::string>& flat) {
  std::vector<Reply> items;
  for (const auto& text : flat) items.push_back(Reply::make_string(text));
  return Reply::make_array(std::move(items));
}

TEST(ProgressCommands, OneTransactionWritesEveryFieldAndTheExpiry) {
  auto commands = progress_write_commands(
      7, ProgressRecord{.state = JobState::processing, .progress = 150, .updated_at_ms = 99}, 2h);
  ASSERT_EQ(commands.size(), 4u);
  EXPECT_EQ(commands[0].args(), std::vector<std::string>{"MULTI"});
  const std::vector<std::string> hset{"HSET", "job:7", "state", "processing", "progress",
                                      "100",  "error", "",      "updated_at", "99"};
  EXPECT_EQ(commands[1].args(), hset);
  EXPECT_EQ(commands[2].args(), (std::vector<std::string>{"PEXPIRE", "job:7", "7200000"}));
  EXPECT_EQ(commands[3].args(), std::vector<std::string>{"EXEC"});
  EXPECT_EQ(progress_read_command(7).args(), (std::vector<std::string>{"HGETALL", "job:7"}));
}

TEST(ProgressCommands, AJobAndItsQueuedRecordGoInOneTransaction) {
  const Job job{.video_id = 7, .kind = JobKind::transcode, .enqueued_at_ms = 99, .payload = "/up/7.upload"};
  auto commands = enqueue_with_progress_commands(job, 2h);
  ASSERT_EQ(commands.size(), 5u);
  EXPECT_EQ(commands[0].args(), std::vector<std::string>{"MULTI"});
  EXPECT_EQ(commands[1].args(), enqueue_command(job).args());
  const std::vector<std::string> hset{"HSET", "job:7", "state", "queued",     "progress",
                                      "0",    "error", "",      "updated_at", "99"};
  EXPECT_EQ(commands[2].args(), hset);
  EXPECT_EQ(commands[3].args(), (std::vector<std::string>{"PEXPIRE", "job:7", "7200000"}));
  EXPECT_EQ(commands[4].args(), std::vector<std::string>{"EXEC"});
  EXPECT_EQ(progress_delete_command(7).args(), (std::vector<std::string>{"DEL", "job:7"}));
}

TEST(ProgressParse, ReadsAWholeRecord) {
  auto record = parse_progress(hash_reply(
      {"state", "failed", "progress", "40", "error", "not a video", "updated_at", "1700000000000"}));
  ASSERT_TRUE(record.ok()) << record.error().message;
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ(**record, (ProgressRecord{.state = JobState::failed,
                                      .progress = 40,
                                      .error = "not a video",
                                      .updated_at_ms = 1700000000000}));
}

TEST(ProgressParse, AnEmptyHashIsNoRecord) {
  auto record = parse_progress(hash_reply({}));
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
}

TEST(ProgressParse, MalformedRecordsAreErrors) {
  auto expect_error = [](const Reply& reply, std::string_view part) {
    auto record = parse_progress(reply);
    ASSERT_FALSE(record.ok());
    EXPECT_NE(record.error().message.find(part), std::string::npos) << record.error().message;
  };
  expect_error(hash_reply({"state", "stuck", "progress", "1"}), "unknown state 'stuck'");
  expect_error(hash_reply({"state", "queued", "progress", "half"}), "'progress' is 'half'");
  expect_error(hash_reply({"state", "queued", "updated_at", ""}), "'updated_at'");
  expect_error(hash_reply({"progress", "1"}), "'state' is missing");
  expect_error(Reply::make_error("WRONGTYPE Operation against a key holding the wrong kind of value"),
               "WRONGTYPE");
  expect_error(Reply::make_string("x"), "expected a hash");
}

TEST(ProgressParse, StateNamesRoundTrip) {
  for (JobState state : {JobState::queued, JobState::processing, JobState::ready, JobState::failed}) {
    EXPECT_EQ(parse_job_state(to_string(state)), state);
  }
  EXPECT_FALSE(parse_job_state("Ready").has_value());
}

}  // namespace
}  // namespace reel::jobs
