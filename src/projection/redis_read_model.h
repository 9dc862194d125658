// RedisReadModel: the ReadModel over Redis. Every call costs at most two round trips, each one
// pipelined batch on the event loop's shared connection: the first reads list ids (and the video
// hash or channel), the second the cards and their live counters (MGET + ZMSCORE). SQL is never
// touched. Thread-safety: as its redis::Connection (one event loop). Failure: an Error when Redis
// is unreachable or times out.
#pragma once

#include "common/clock.h"
#include "projection/read_model.h"
#include "redis/connection.h"

namespace reel::projection {

class RedisReadModel final : public ReadModel {
 public:
  // Both references must outlive this object.
  RedisReadModel(redis::Connection& redis, const Clock& clock) : redis_(redis), clock_(clock) {}

  Task<Result<Home>> home() override;
  Task<Result<Listing>> listing(const ListQuery& query) override;
  Task<Result<std::optional<VideoPage>>> video(int64_t id) override;
  Task<bool> ready() override;

  static constexpr int home_popular = 12;
  static constexpr int home_newest = 24;
  static constexpr int related_shown = 12;

 private:
  redis::Connection& redis_;
  const Clock& clock_;
};

}  // namespace reel::projection
