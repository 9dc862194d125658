// For suites that check what went into the media job stream: the jobs waiting in it, oldest first.
// Thread-safety: as the BlockingClient it uses.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "jobs/job.h"
#include "projection/keys.h"
#include "redis/blocking_client.h"

namespace reel::testing {

// XRANGE of jobs:media, parsed; an entry that does not parse fails the test and is left out.
inline std::vector<jobs::Job> queued_jobs(redis::BlockingClient& redis) {
  std::vector<jobs::Job> out;
  auto range = redis.execute(redis::Command("XRANGE", projection::keys::media_jobs(), "-", "+"));
  EXPECT_TRUE(range && range->is_array());
  if (!range || !range->is_array()) return out;
  for (const auto& element : range->elements()) {
    auto entry = redis::parse_stream_entry(element);
    auto job = entry ? jobs::parse_job(*entry) : Result<jobs::Job>(entry.error());
    EXPECT_TRUE(job) << job.error().message;
    if (job) out.push_back(std::move(*job));
  }
  return out;
}

}  // namespace reel::testing
