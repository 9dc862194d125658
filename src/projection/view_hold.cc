#include "projection/view_hold.h"

#include <fmt/format.h>

#include <random>
#include <thread>
#include <vector>

#include "projection/keys.h"

namespace reel::projection {

ViewHold::ViewHold(redis::BlockingClient& redis, ViewHoldOptions options)
    : redis_(redis), options_(std::move(options)) {
  std::random_device random;
  id_ = fmt::format("{:08x}{:08x}", random(), random());
}

Status ViewHold::begin() {
  auto set = redis_.execute(redis::Command("SET", keys::views_hold(), id_, "NX", "PX", options_.ttl.count()));
  if (!set) return Error{options_.holder + ": " + set.error().message};
  if (set->is_nil()) {
    auto ttl = redis_.execute(redis::Command("PTTL", keys::views_hold()));
    return Error{fmt::format("{}: another rebuild (or a backup) holds view counting ({} for {} ms more)",
                             options_.holder, keys::views_hold(), ttl ? ttl->integer() : -1)};
  }
  held_ = true;
  return wait_for_confirmations();
}

redis::Command ViewHold::renewal() const {
  return redis::Command("PEXPIRE", keys::views_hold(), options_.ttl.count());
}

Status ViewHold::end() {
  if (!held_) return {};
  held_ = false;
  auto ended = redis_.execute(redis::Command(
      "EVAL", "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1, keys::views_hold(), id_));
  if (!ended) return Error{options_.holder + ": ending the hold on view counting: " + ended.error().message};
  if (ended->integer() != 1) {
    return Error{fmt::format(
        "{0}: the hold on view counting expired before the {0} ended ({1} ms without a round trip to Redis), "
        "so views counted meanwhile may be missing from it: run it again",
        options_.holder, options_.ttl.count())};
  }
  return {};
}

Status ViewHold::wait_for_confirmations() {
  const auto deadline = std::chrono::steady_clock::now() + options_.confirm_timeout;
  for (;;) {
    auto instances = redis_.execute(redis::Command("HKEYS", keys::views_aggregators()));
    if (!instances) return Error{options_.holder + ": " + instances.error().message};
    std::vector<std::string> waiting;
    if (!instances->elements().empty()) {
      redis::Command confirmed("MGET");
      for (const auto& instance : instances->elements())
        confirmed.arg(keys::views_aggregator(instance.str()));
      auto values = redis_.execute(std::move(confirmed));
      if (!values) return Error{options_.holder + ": " + values.error().message};
      for (size_t i = 0; i < values->elements().size(); ++i) {
        const std::string_view instance = instances->elements()[i].str();
        const redis::Reply& value = values->elements()[i];
        if (value.is_nil()) {
          auto forgotten = redis_.execute(redis::Command("HDEL", keys::views_aggregators(), instance));
          if (!forgotten) return Error{options_.holder + ": " + forgotten.error().message};
        } else if (value.str() != id_) {
          waiting.emplace_back(instance);
        }
      }
    }
    if (waiting.empty()) return {};
    if (std::chrono::steady_clock::now() > deadline) {
      return Error{
          fmt::format("{}: view aggregator(s) {} did not confirm within {} ms that the views they counted "
                      "are in SQL (can "
                      "they reach SQL?)",
                      options_.holder, fmt::join(waiting, ", "), options_.confirm_timeout.count())};
    }
    if (auto renewed = redis_.execute(renewal()); !renewed)
      return Error{options_.holder + ": " + renewed.error().message};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the aggregators flush about every second
  }
}

}  // namespace reel::projection
