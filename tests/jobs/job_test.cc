// Job entries: encoding, parsing what Redis sends (bad or missing fields are Errors, never a
// crash), the delayed-retry record, and the retry backoff.
#include "jobs/job.h"

#include <gtest/gtest.h>

#include "jobs/queue.h"

namespace reel::jobs {
namespace {

using redis::Reply;
using namespace std::chrono_literals;

// The reply Redis would send for an entry with these flat field/value strings.
Reply entry_reply(std::string id, const std::vector<std::string>& flat) {
  std::vector<Reply> fields;
  for (const auto& text : flat) fields.push_back(Reply::make_string(text));
  return Reply::make_array({Reply::make_string(std::move(id)), Reply::make_array(std::move(fields))});
}

Result<Job> parse(const std::vector<std::string>& flat) {
  auto entry = redis::parse_stream_entry(entry_reply("1700000000000-0", flat));
  if (!entry) return entry.error();
  return parse_job(*entry);
}

void expect_error(const Result<Job>& job, std::string_view part) {
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.error().message.find(part), std::string::npos) << job.error().message;
  EXPECT_NE(job.error().message.find("1700000000000-0"), std::string::npos) << job.error().message;
}

TEST(JobEntry, AnUploadWaitsUnderItsVideoId) {
  EXPECT_EQ(upload_path("/var/reel/uploads", 42), "/var/reel/uploads/42.upload");
  EXPECT_EQ(upload_path("uploads/", 7), "uploads/7.upload");
}

// redis::check_exec, which the queue's transactions rely on.
TEST(JobEntry, ATransactionFailsWhenAnyOfItsRepliesIsAnError) {
  const std::vector<Reply> queued{Reply::make_status("OK"), Reply::make_status("QUEUED")};
  auto batch = [&](Reply exec) {
    std::vector<Reply> replies = queued;
    replies.push_back(std::move(exec));
    return replies;
  };
  EXPECT_TRUE(redis::check_exec(batch(Reply::make_array({Reply::make_integer(1)})), "t").ok());
  auto inner = redis::check_exec(batch(Reply::make_array({Reply::make_error("WRONGTYPE x")})), "the write");
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.error().message, "the write failed: WRONGTYPE x");
  auto aborted = redis::check_exec(batch(Reply::make_nil()), "t");
  ASSERT_FALSE(aborted.ok());
  EXPECT_EQ(aborted.error().message, "t failed: transaction aborted");
  auto refused = redis::check_exec(
      {Reply::make_status("OK"), Reply::make_error("ERR unknown command"), Reply::make_error("EXECABORT x")},
      "t");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "t failed: ERR unknown command");
  EXPECT_FALSE(redis::check_exec({}, "t").ok());
}

TEST(JobEntry, EncodedFieldsParseBackToTheSameJob) {
  const Job job{.video_id = 42,
                .kind = JobKind::remove,
                .attempt = 2,
                .enqueued_at_ms = 1700000000123,
                .payload = std::string("up\0loads/42 a:b.mp4", 19),
                .last_error = "ffmpeg exited 1"};
  auto flat = encode_fields(job, "1-1");
  auto parsed = parse(flat);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, job);
  EXPECT_EQ(flat[3], "delete");
  EXPECT_EQ(flat.end()[-2], "retry_of");
  EXPECT_EQ(flat.end()[-1], "1-1");
}

TEST(JobEntry, EnqueueCommandIsAnXaddOfTheFieldsWithoutMaxlen) {
  const Job job{.video_id = 7, .enqueued_at_ms = 5, .payload = "/u/7"};
  const std::vector<std::string> expected{"XADD", "jobs:media", "*",       "video", "7",
                                          "kind", "transcode",  "attempt", "1",     "enqueued_at",
                                          "5",    "payload",    "/u/7"};
  EXPECT_EQ(enqueue_command(job).args(), expected);
}

TEST(JobEntry, MissingPayloadIsEmptyAndUnknownFieldsAreIgnored) {
  auto job =
      parse({"video", "9", "kind", "transcode", "attempt", "1", "enqueued_at", "0", "priority", "high"});
  ASSERT_TRUE(job.ok()) << job.error().message;
  EXPECT_EQ(job->video_id, 9);
  EXPECT_EQ(job->payload, "");
  EXPECT_EQ(job->last_error, "");
}

TEST(JobEntry, MissingOrMalformedFieldsAreErrorsNamingTheEntryAndField) {
  expect_error(parse({"kind", "transcode", "attempt", "1", "enqueued_at", "0"}), "'video' is missing");
  expect_error(parse({"video", "abc", "kind", "transcode", "attempt", "1", "enqueued_at", "0"}),
               "'video' is 'abc'");
  expect_error(parse({"video", "0", "kind", "transcode", "attempt", "1", "enqueued_at", "0"}),
               "'video' is '0'");
  expect_error(parse({"video", "12x", "kind", "transcode", "attempt", "1", "enqueued_at", "0"}), "'video'");
  expect_error(
      parse({"video", "99999999999999999999", "kind", "transcode", "attempt", "1", "enqueued_at", "0"}),
      "'video'");
  expect_error(parse({"video", "1", "attempt", "1", "enqueued_at", "0"}), "'kind' is missing");
  expect_error(parse({"video", "1", "kind", "encode", "attempt", "1", "enqueued_at", "0"}),
               "unknown job kind 'encode'");
  expect_error(parse({"video", "1", "kind", "transcode", "enqueued_at", "0"}), "'attempt' is missing");
  expect_error(parse({"video", "1", "kind", "transcode", "attempt", "0", "enqueued_at", "0"}),
               "'attempt' is '0'");
  expect_error(parse({"video", "1", "kind", "transcode", "attempt", "", "enqueued_at", "0"}),
               "'attempt' is ''");
  expect_error(parse({"video", "1", "kind", "transcode", "attempt", "1"}), "'enqueued_at' is missing");
  expect_error(parse({"video", "1", "kind", "transcode", "attempt", "1", "enqueued_at", "-5"}),
               "'enqueued_at'");
}

TEST(JobEntry, RepliesOfTheWrongShapeAreErrors) {
  EXPECT_FALSE(redis::parse_stream_entry(Reply::make_nil()).ok());
  EXPECT_FALSE(redis::parse_stream_entry(Reply::make_array({Reply::make_string("1-0")})).ok());
  EXPECT_FALSE(
      redis::parse_stream_entry(Reply::make_array({Reply::make_integer(1), Reply::make_array({})})).ok());
  // A pending entry deleted from the stream comes back with nil fields.
  auto deleted = redis::parse_stream_entry(Reply::make_array({Reply::make_string("1-0"), Reply::make_nil()}));
  ASSERT_FALSE(deleted.ok());
  EXPECT_NE(deleted.error().message.find("1-0"), std::string::npos);
  auto odd = redis::parse_stream_entry(entry_reply("1-0", {"video", "1", "kind"}));
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.error().message.find("odd number"), std::string::npos);
  auto not_text = redis::parse_stream_entry(Reply::make_array(
      {Reply::make_string("1-0"), Reply::make_array({Reply::make_string("video"), Reply::make_integer(1)})}));
  EXPECT_FALSE(not_text.ok());
}

TEST(DelayedRecord, RoundTripsAnyBytes) {
  const std::vector<std::string> items{"video", "42", "", "a:b:c", std::string("\0\x1f\xff", 3), "10:xyz"};
  auto decoded = decode_record(encode_record(items));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, items);
  EXPECT_EQ(encode_record({"ab", ""}), "2:ab0:");
  auto empty = decode_record("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(DelayedRecord, TruncatedOrUnprefixedRecordsAreErrors) {
  for (std::string_view bad : {"3:ab", "x:abc", ":a", "5", "2:ab9", "-1:a", "2:abc"}) {
    auto decoded = decode_record(bad);
    EXPECT_FALSE(decoded.ok()) << bad;
  }
}

TEST(EntryId, MillisecondsPartIsParsed) {
  auto ms = entry_id_ms("1700000000123-7");
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(*ms, 1700000000123);
  for (std::string_view bad : {"", "12", "12-", "-3", "a-1", "12-x", "1-2-3"})
    EXPECT_FALSE(entry_id_ms(bad).ok()) << bad;
}

TEST(RetryDelay, DoublesFromTheBaseUpToTheCap) {
  QueueOptions options;
  options.retry_backoff = 30s;
  options.retry_backoff_max = 100s;
  EXPECT_EQ(retry_delay(options, 1), 30s);
  EXPECT_EQ(retry_delay(options, 2), 60s);
  EXPECT_EQ(retry_delay(options, 3), 100s);
  EXPECT_EQ(retry_delay(options, 1000), 100s);  // no overflow
  options.retry_backoff = 0ms;
  EXPECT_EQ(retry_delay(options, 3), 0ms);
}

}  // namespace
}  // namespace reel::jobs
