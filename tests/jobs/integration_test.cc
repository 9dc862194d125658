// The media job queue and JobProgress against a real redis-server started with RedisServer.
// Reclaiming depends on Redis's own idle clock, so those tests use a short visibility timeout and
// poll claim_next() (whose blocking read paces the loop) up to a deadline; backoff depends on the
// injected Clock, so that test moves a ManualClock instead.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "jobs/progress.h"
#include "jobs/queue.h"
#include "redis/blocking_client.h"
#include "redis/server.h"
#include "support/fixtures.h"
#include "support/suite_redis.h"

namespace reel::jobs {
namespace {

using namespace std::chrono_literals;
using redis::Command;
using SteadyClock = std::chrono::steady_clock;

redis::ConnectionOptions connection_options(const redis::Endpoint& endpoint) {
  redis::ConnectionOptions options;
  options.endpoint = endpoint;
  options.connect_timeout = 2s;
  options.command_timeout = 60s;  // above every `block` below, and what a loaded machine may take
  options.connect_backoff_min = 10ms;
  options.connect_backoff_max = 100ms;
  return options;
}

redis::BlockingClient connect(const redis::Endpoint& endpoint) {
  auto client = redis::BlockingClient::connect(connection_options(endpoint));
  if (!client) {
    ADD_FAILURE() << client.error().message;
    std::abort();  // every test needs its clients
  }
  return std::move(client).value();
}

// A queue over a connection of its own, as each worker thread has one. Never moved (the queue
// holds a reference to the client): made in place.
class OwnQueue {
 public:
  OwnQueue(const redis::Endpoint& endpoint, const reel::Clock& clock, QueueOptions options)
      : redis_(connect(endpoint)), queue_(redis_, clock, options) {}
  OwnQueue(const OwnQueue&) = delete;
  OwnQueue& operator=(const OwnQueue&) = delete;

  JobQueue& operator*() { return queue_; }
  JobQueue* operator->() { return &queue_; }

 private:
  redis::BlockingClient redis_;
  JobQueue queue_;
};

Job upload_job(int64_t video_id) {
  return Job{.video_id = video_id, .payload = "/uploads/" + std::to_string(video_id) + ".mp4"};
}

QueueOptions short_timeouts(std::chrono::milliseconds visibility_timeout) {
  QueueOptions options;
  options.visibility_timeout = visibility_timeout;
  options.retry_backoff = 0ms;
  return options;
}

// Claims until a job comes or `limit` passes; each empty claim blocks 50 ms on the stream.
std::optional<LeasedJob> claim_within(JobQueue& queue, std::string_view consumer,
                                      std::chrono::milliseconds limit) {
  const auto deadline = SteadyClock::now() + limit;
  while (SteadyClock::now() < deadline) {
    auto claimed = queue.claim_next(consumer, 50ms);
    if (!claimed) {
      ADD_FAILURE() << claimed.error().message;
      return std::nullopt;
    }
    if (claimed->has_value()) return std::move(*claimed);
  }
  return std::nullopt;
}

QueueStats stats_of(JobQueue& queue) {
  auto stats = queue.stats();
  EXPECT_TRUE(stats.ok()) << stats.error().message;
  return stats ? *stats : QueueStats{};
}

void expect_empty(JobQueue& queue) {
  const QueueStats stats = stats_of(queue);
  EXPECT_EQ(stats.length, 0);
  EXPECT_EQ(stats.pending, 0);
  EXPECT_EQ(stats.waiting, 0);
  EXPECT_EQ(stats.delayed, 0);
}

// One redis-server for the suite (starting one takes a while); each test flushes it.
class JobQueueIntegration : public reel::testing::RedisSuiteTest {
 protected:
  void SetUp() override {
    RedisSuiteTest::SetUp();
    if (HasFatalFailure()) return;
    admin_.emplace(connect(server().endpoint()));
    auto flushed = admin_->execute(Command("FLUSHALL"));
    ASSERT_TRUE(flushed && !flushed->is_error());
  }

  OwnQueue own_queue(QueueOptions options = {}) { return OwnQueue(server().endpoint(), clock_, options); }
  OwnQueue own_queue(const reel::Clock& clock, QueueOptions options = {}) {
    return OwnQueue(server().endpoint(), clock, options);
  }

  std::optional<redis::BlockingClient> admin_;
  SystemClock clock_;
};

TEST_F(JobQueueIntegration, EnqueueClaimAckLeavesNothingPending) {
  // This host's clock a day ahead of Redis's: it stamps the job, but the ages in the stats are
  // Redis's (its TIME against the entry ids it stamped), so they are at most the time the test
  // has taken since the enqueue (plus a millisecond of rounding), however long that was.
  ManualClock ahead(std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch() + 24h)
                        .count());
  OwnQueue queue = own_queue(ahead);
  ASSERT_TRUE(queue->ensure_group().ok());
  ASSERT_TRUE(queue->ensure_group().ok());  // idempotent
  const auto enqueued = SteadyClock::now();
  auto id = queue->enqueue(upload_job(42));
  ASSERT_TRUE(id.ok()) << id.error().message;
  const auto at_most_since_enqueue = [&] { return SteadyClock::now() - enqueued + 1ms; };

  QueueStats before = stats_of(*queue);
  EXPECT_EQ(before.length, 1);
  EXPECT_EQ(before.waiting, 1);
  EXPECT_EQ(before.pending, 0);
  EXPECT_LE(before.oldest_waiting_age, at_most_since_enqueue());

  auto claimed = queue->claim_next("w1", 1s);
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  ASSERT_TRUE(claimed->has_value());
  const LeasedJob& lease = **claimed;
  EXPECT_EQ(lease.id, *id);
  EXPECT_EQ(lease.consumer, "w1");
  EXPECT_EQ(lease.job.video_id, 42);
  EXPECT_EQ(lease.job.kind, JobKind::transcode);
  EXPECT_EQ(lease.job.attempt, 1);
  EXPECT_EQ(lease.job.payload, "/uploads/42.mp4");
  EXPECT_EQ(lease.job.enqueued_at_ms, ahead.unix_seconds() * 1000);
  EXPECT_EQ(lease.deliveries, 1);
  EXPECT_FALSE(lease.reclaimed);
  EXPECT_FALSE(lease.poisoned());

  QueueStats during = stats_of(*queue);
  EXPECT_EQ(during.length, 1);
  EXPECT_EQ(during.waiting, 0);
  EXPECT_EQ(during.pending, 1);
  EXPECT_LE(during.oldest_pending_age, at_most_since_enqueue());
  EXPECT_EQ(during.pending_by_consumer, (std::vector<std::pair<std::string, int64_t>>{{"w1", 1}}));

  ASSERT_TRUE(queue->ack(lease).ok());
  ASSERT_TRUE(queue->ack(lease).ok());  // acking again is a no-op
  expect_empty(*queue);
  auto none = queue->claim_next("w1", 0ms);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(JobQueueIntegration, ClaimCreatesAMissingGroupAndDeliversJobsQueuedBeforeIt) {
  OwnQueue queue = own_queue();
  ASSERT_TRUE(queue->enqueue(upload_job(1)).ok());
  EXPECT_EQ(stats_of(*queue).waiting, 1);  // no group yet: everything is waiting
  auto claimed = queue->claim_next("w1", 0ms);
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  ASSERT_TRUE(claimed->has_value());
  EXPECT_EQ((*claimed)->job.video_id, 1);
}

TEST_F(JobQueueIntegration, TwoConsumersNeverGetTheSameJob) {
  constexpr int jobs = 200;
  {
    OwnQueue queue = own_queue();
    ASSERT_TRUE(queue->ensure_group().ok());
    for (int i = 1; i <= jobs; ++i) ASSERT_TRUE(queue->enqueue(upload_job(i)).ok());
  }
  std::mutex mutex;
  std::map<int64_t, int> deliveries;  // video id -> times delivered
  std::atomic<int> done{0};
  std::atomic<int> errors{0};
  auto consume = [&](std::string consumer) {
    OwnQueue queue = own_queue();
    const auto deadline = SteadyClock::now() + 120s;
    while (done < jobs && SteadyClock::now() < deadline) {
      auto claimed = queue->claim_next(consumer, 50ms);
      if (!claimed) {
        ++errors;
        return;
      }
      if (!claimed->has_value()) continue;
      {
        std::lock_guard lock(mutex);
        ++deliveries[(*claimed)->job.video_id];
      }
      if (!queue->ack(**claimed).ok()) ++errors;
      ++done;
    }
  };
  std::thread a(consume, "a");
  std::thread b(consume, "b");
  a.join();
  b.join();
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(done, jobs);
  ASSERT_EQ(deliveries.size(), static_cast<size_t>(jobs));
  for (const auto& [video, count] : deliveries) EXPECT_EQ(count, 1) << "video " << video;
  OwnQueue queue = own_queue();
  expect_empty(*queue);
}

// Visibility timeouts in these tests are short for a test, but long against a loaded machine's
// pauses between two steps that must both fall within one (a claim "too early", heartbeats).
constexpr auto visibility = 2s;

TEST_F(JobQueueIntegration, AJobLeftByACrashedConsumerIsReclaimedAfterTheVisibilityTimeout) {
  OwnQueue a = own_queue(short_timeouts(visibility));
  OwnQueue b = own_queue(short_timeouts(visibility));
  ASSERT_TRUE(a->enqueue(upload_job(5)).ok());
  const auto claimed_at = SteadyClock::now();
  auto first = a->claim_next("a", 0ms);
  ASSERT_TRUE(first.ok() && first->has_value());
  const LeasedJob crashed = **first;  // "a" never acks

  auto too_early = b->claim_next("b", 0ms);
  ASSERT_TRUE(too_early.ok());
  EXPECT_FALSE(too_early->has_value());

  auto reclaimed = claim_within(*b, "b", 60s);
  ASSERT_TRUE(reclaimed.has_value());
  // Not before the timeout (Redis counts idle time in whole ms of its per-event-loop clock).
  EXPECT_GE(SteadyClock::now() - claimed_at, visibility - 5ms);
  EXPECT_EQ(reclaimed->id, crashed.id);
  EXPECT_EQ(reclaimed->job, crashed.job);
  EXPECT_EQ(reclaimed->consumer, "b");
  EXPECT_TRUE(reclaimed->reclaimed);
  EXPECT_EQ(reclaimed->deliveries, 2);
  EXPECT_FALSE(reclaimed->poisoned());
  EXPECT_EQ(stats_of(*b).pending_by_consumer, (std::vector<std::pair<std::string, int64_t>>{{"b", 1}}));

  // The stale holder learns it lost the lease and cannot queue a duplicate retry.
  auto beat = a->heartbeat(crashed);
  ASSERT_TRUE(beat.ok()) << beat.error().message;
  EXPECT_FALSE(*beat);
  auto retry = a->retry_or_fail(crashed, "late failure");
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(*retry, RetryOutcome::lease_lost);
  EXPECT_EQ(stats_of(*b).length, 1);

  ASSERT_TRUE(b->ack(*reclaimed).ok());
  expect_empty(*b);
}

TEST_F(JobQueueIntegration, AnAbandonedJobBehindManyLiveOnesIsStillReclaimed) {
  // XAUTOCLAIM ... COUNT 1 looks at 10 pending entries per call: the abandoned entry is the 12th.
  OwnQueue live = own_queue(short_timeouts(visibility));
  OwnQueue b = own_queue(short_timeouts(visibility));
  for (int64_t video = 1; video <= 12; ++video) ASSERT_TRUE(live->enqueue(upload_job(video)).ok());
  std::vector<LeasedJob> running;
  for (int i = 0; i < 11; ++i) {
    auto claimed = live->claim_next("live", 0ms);
    ASSERT_TRUE(claimed.ok() && claimed->has_value());
    running.push_back(**claimed);
  }
  auto abandoned = live->claim_next("dead", 0ms);
  ASSERT_TRUE(abandoned.ok() && abandoned->has_value());
  EXPECT_EQ((*abandoned)->job.video_id, 12);

  std::optional<LeasedJob> reclaimed;
  const auto deadline = SteadyClock::now() + 60s;
  while (!reclaimed && SteadyClock::now() < deadline) {
    for (const LeasedJob& lease : running) {
      auto beat = live->heartbeat(lease);
      ASSERT_TRUE(beat.ok() && *beat);
    }
    auto claimed = b->claim_next("b", 50ms);
    ASSERT_TRUE(claimed.ok()) << claimed.error().message;
    if (claimed->has_value()) reclaimed = std::move(**claimed);
  }
  ASSERT_TRUE(reclaimed.has_value());
  EXPECT_EQ(reclaimed->job.video_id, 12);
  EXPECT_EQ(reclaimed->deliveries, 2);
  EXPECT_EQ(stats_of(*b).pending_by_consumer,
            (std::vector<std::pair<std::string, int64_t>>{{"b", 1}, {"live", 11}}));
}

TEST_F(JobQueueIntegration, HeartbeatsKeepALongJobFromBeingReclaimed) {
  OwnQueue a = own_queue(short_timeouts(visibility));
  OwnQueue b = own_queue(short_timeouts(visibility));
  ASSERT_TRUE(a->enqueue(upload_job(8)).ok());
  auto first = a->claim_next("a", 0ms);
  ASSERT_TRUE(first.ok() && first->has_value());
  const LeasedJob lease = **first;

  // Three visibility timeouts of work, a heartbeat about every 100 ms (each of b's empty claims
  // blocks that long): b never gets the job.
  const auto until = SteadyClock::now() + 3 * visibility;
  int beats = 0;
  while (SteadyClock::now() < until) {
    auto beat = a->heartbeat(lease);
    ASSERT_TRUE(beat.ok()) << beat.error().message;
    ASSERT_TRUE(*beat);
    ++beats;
    auto stolen = b->claim_next("b", 100ms);
    ASSERT_TRUE(stolen.ok()) << stolen.error().message;
    ASSERT_FALSE(stolen->has_value()) << "reclaimed after " << beats << " heartbeats";
  }

  // The worker stops beating (dies): b takes over; heartbeats did not count as deliveries.
  auto reclaimed = claim_within(*b, "b", 60s);
  ASSERT_TRUE(reclaimed.has_value());
  EXPECT_EQ(reclaimed->id, lease.id);
  EXPECT_EQ(reclaimed->deliveries, 2);
}

TEST_F(JobQueueIntegration, RetriesIncrementTheAttemptThenGiveUpWithTheReason) {
  QueueOptions options = short_timeouts(60s);
  options.max_attempts = 3;
  OwnQueue queue = own_queue(options);
  ASSERT_TRUE(queue->enqueue(upload_job(3)).ok());
  std::string previous_id;
  int64_t enqueued_at = 0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto claimed = queue->claim_next("w", 0ms);
    ASSERT_TRUE(claimed.ok()) << claimed.error().message;
    ASSERT_TRUE(claimed->has_value()) << "attempt " << attempt;
    const LeasedJob lease = **claimed;
    EXPECT_EQ(lease.job.attempt, attempt);
    EXPECT_EQ(lease.deliveries, 1);
    EXPECT_NE(lease.id, previous_id);
    EXPECT_EQ(lease.job.last_error, attempt == 1 ? "" : "boom " + std::to_string(attempt - 1));
    EXPECT_EQ(lease.job.payload, "/uploads/3.mp4");
    if (attempt == 1) enqueued_at = lease.job.enqueued_at_ms;
    EXPECT_EQ(lease.job.enqueued_at_ms, enqueued_at);  // the first attempt's time is kept
    previous_id = lease.id;

    auto outcome = queue->retry_or_fail(lease, "boom " + std::to_string(attempt));
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    if (attempt < 3) {
      EXPECT_EQ(*outcome, RetryOutcome::retried);
      QueueStats stats = stats_of(*queue);
      EXPECT_EQ(stats.length, 1);  // the old entry is gone, the retry waits
      EXPECT_EQ(stats.waiting, 1);
      EXPECT_EQ(stats.pending, 0);
    } else {
      EXPECT_EQ(*outcome, RetryOutcome::gave_up);
      EXPECT_EQ(stats_of(*queue).pending, 1);  // kept until the worker has recorded the failure
      ASSERT_TRUE(queue->ack(lease).ok());
    }
  }
  expect_empty(*queue);
}

TEST_F(JobQueueIntegration, ARetryWaitsOutItsBackoffInTheDelayedSet) {
  ManualClock clock(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  QueueOptions options;
  options.retry_backoff = 60s;
  OwnQueue queue = own_queue(clock, options);
  ASSERT_TRUE(queue->enqueue(upload_job(11)).ok());
  auto claimed = queue->claim_next("w", 0ms);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  auto outcome = queue->retry_or_fail(**claimed, "disk full");
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(*outcome, RetryOutcome::retried);
  QueueStats stats = stats_of(*queue);
  EXPECT_EQ(stats.delayed, 1);
  EXPECT_EQ(stats.length, 0);

  clock.advance(59s);
  auto early = queue->claim_next("w", 0ms);
  ASSERT_TRUE(early.ok()) << early.error().message;
  EXPECT_FALSE(early->has_value());

  clock.advance(2s);
  auto due = queue->claim_next("w", 0ms);
  ASSERT_TRUE(due.ok()) << due.error().message;
  ASSERT_TRUE(due->has_value());
  EXPECT_EQ((*due)->job.attempt, 2);
  EXPECT_EQ((*due)->job.last_error, "disk full");
  EXPECT_EQ(stats_of(*queue).delayed, 0);
  ASSERT_TRUE(queue->ack(**due).ok());
  expect_empty(*queue);
}

TEST_F(JobQueueIntegration, AJobThatKeepsKillingItsWorkerIsPoisonedNotRetriedForever) {
  QueueOptions options = short_timeouts(200ms);
  options.max_deliveries = 2;
  OwnQueue queue = own_queue(options);
  ASSERT_TRUE(queue->enqueue(upload_job(13)).ok());
  auto first = queue->claim_next("w1", 0ms);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_FALSE((*first)->poisoned());
  auto second = claim_within(*queue, "w2", 60s);  // w1 died
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->deliveries, 2);
  EXPECT_FALSE(second->poisoned());
  auto third = claim_within(*queue, "w3", 60s);  // w2 died too
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->deliveries, 3);
  ASSERT_TRUE(third->poisoned());
  EXPECT_NE(third->poison_reason.find("stopped unexpectedly 2 times"), std::string::npos)
      << third->poison_reason;
  auto outcome = queue->retry_or_fail(*third, "unused");
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, RetryOutcome::gave_up);
  ASSERT_TRUE(queue->ack(*third).ok());
  expect_empty(*queue);
}

TEST_F(JobQueueIntegration, AMalformedEntryIsRemovedWithAClearError) {
  OwnQueue queue = own_queue();
  ASSERT_TRUE(queue->ensure_group().ok());
  auto added = admin_->execute(Command("XADD", "jobs:media", "*", "video", "abc", "kind", "transcode"));
  ASSERT_TRUE(added && !added->is_error());
  ASSERT_TRUE(queue->enqueue(upload_job(21)).ok());

  auto bad = queue->claim_next("w", 0ms);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'video' is 'abc'"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("removed it from the queue"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find(added->str()), std::string::npos) << bad.error().message;

  auto good = queue->claim_next("w", 0ms);
  ASSERT_TRUE(good.ok()) << good.error().message;
  ASSERT_TRUE(good->has_value());
  EXPECT_EQ((*good)->job.video_id, 21);
  EXPECT_EQ(stats_of(*queue).length, 1);
}

TEST_F(JobQueueIntegration, ProgressIsWrittenWithAnExpiryAndReadBack) {
  ManualClock clock(1700000000);
  JobProgress progress(*admin_, clock, 1h);
  auto missing = progress.get(5);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(progress.set(5, JobState::queued).ok());
  ASSERT_TRUE(progress.set(5, JobState::processing, 42).ok());
  auto running = progress.get(5);
  ASSERT_TRUE(running.ok() && running->has_value());
  EXPECT_EQ(**running,
            (ProgressRecord{.state = JobState::processing, .progress = 42, .updated_at_ms = 1700000000000}));

  clock.advance(5s);
  ASSERT_TRUE(progress.set(5, JobState::failed, 42, "the file is not a video").ok());
  auto failed = progress.get(5);
  ASSERT_TRUE(failed.ok() && failed->has_value());
  EXPECT_EQ((*failed)->state, JobState::failed);
  EXPECT_EQ((*failed)->error, "the file is not a video");
  EXPECT_EQ((*failed)->updated_at_ms, 1700000005000);

  auto ttl = admin_->execute(Command("PTTL", "job:5"));
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer(), 0);
  EXPECT_LE(ttl->integer(), 3600000);

  ASSERT_TRUE(admin_->execute(Command("SET", "job:6", "text")).ok());
  auto wrong = progress.get(6);
  EXPECT_FALSE(wrong.ok());
}

// Not in the fixture: this test owns its redis-server, to stop and restart it.
TEST(JobQueueRestart, PendingJobsSurviveARedisRestartAndAreReclaimed) {
  reel::testing::TempDir dir;
  redis::RedisServerOptions server_options;
  server_options.dir = dir.path();
  server_options.port = reel::testing::free_port();
  auto server = redis::RedisServer::start(server_options);
  ASSERT_TRUE(server.ok()) << server.error().message;

  SystemClock clock;
  OwnQueue a(server->endpoint(), clock, short_timeouts(300ms));
  for (int64_t video = 1; video <= 3; ++video) ASSERT_TRUE(a->enqueue(upload_job(video)).ok());
  auto held = a->claim_next("a", 0ms);
  ASSERT_TRUE(held.ok() && held->has_value());
  const LeasedJob in_flight = **held;  // "a" dies with it when Redis goes down

  ASSERT_TRUE(server->stop().ok());
  auto while_down = a->claim_next("a", 0ms);
  EXPECT_FALSE(while_down.ok());  // an Error, not a crash or a hang
  server = redis::RedisServer::start(server_options);
  ASSERT_TRUE(server.ok()) << server.error().message;

  // The same client reconnects by itself; Redis lost its script cache (NOSCRIPT → EVAL).
  std::map<int64_t, LeasedJob> got;
  const auto deadline = SteadyClock::now() + 60s;
  while (got.size() < 3 && SteadyClock::now() < deadline) {
    auto claimed = a->claim_next("b", 50ms);
    ASSERT_TRUE(claimed.ok()) << claimed.error().message;
    if (claimed->has_value()) got.emplace((*claimed)->job.video_id, **claimed);
  }
  ASSERT_EQ(got.size(), 3u);
  const LeasedJob& again = got.at(in_flight.job.video_id);
  EXPECT_EQ(again.id, in_flight.id);
  EXPECT_TRUE(again.reclaimed);
  EXPECT_EQ(again.deliveries, 2);
  for (const auto& [video, lease] : got) {
    if (video != in_flight.job.video_id) {
      EXPECT_FALSE(lease.reclaimed);
    }
    ASSERT_TRUE(a->ack(lease).ok());
  }
  expect_empty(*a);
  EXPECT_TRUE(server->stop().ok());
}

}  // namespace
}  // namespace reel::jobs
