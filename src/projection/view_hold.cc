#include "projection/view_hold.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

#include "common/log_failure.h"
#include "projection/keys.h"

namespace reel::projection {
namespace {

// Both act only on a hold that is still this holder's (ARGV[1], its id): one that expired and was
// taken by another tool is left to that tool.
constexpr std::string_view renew_script =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end "
    "return 0";
constexpr std::string_view release_script =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

}  // namespace

ViewHold::ViewHold(redis::BlockingClient& redis, ViewHoldOptions options)
    : redis_(redis), options_(std::move(options)) {
  std::random_device random;
  id_ = fmt::format("{:08x}{:08x}", random(), random());
}

Status ViewHold::begin() {
  // The renewals' connection first: no hold is set without the means to keep it. A renewal that
  // takes longer than the hold's time to live is too late anyway.
  redis::ConnectionOptions renewal_options = redis_.options();
  renewal_options.command_timeout = std::min(renewal_options.command_timeout, options_.ttl);
  auto renewals = redis::BlockingClient::connect(std::move(renewal_options));
  if (!renewals) {
    return Error{options_.holder +
                 ": connecting to Redis to renew the hold on view counting: " + renewals.error().message};
  }
  auto set = redis_.execute(redis::Command("SET", keys::views_hold(), id_, "NX", "PX", options_.ttl.count()));
  if (!set) return Error{options_.holder + ": " + set.error().message};
  if (set->is_nil()) {
    auto ttl = redis_.execute(redis::Command("PTTL", keys::views_hold()));
    return Error{fmt::format("{}: another rebuild (or a backup) holds view counting ({} for {} ms more)",
                             options_.holder, keys::views_hold(), ttl ? ttl->integer() : -1)};
  }
  held_ = true;
  lapsed_.store(false, std::memory_order_release);
  renewer_ = std::jthread([this, client = std::move(*renewals)](std::stop_token stop) mutable {
    renew(std::move(stop), client);
  });
  return wait_for_confirmations();
}

void ViewHold::renew(std::stop_token stop, redis::BlockingClient& client) {
  const auto every = std::min<std::chrono::milliseconds>(std::chrono::seconds(1), options_.ttl / 4);
  std::unique_lock lock(mutex_);
  for (;;) {
    // Wakes early only when end() (or the destructor) asks it to stop.
    renewal_wait_.wait_for(lock, stop, every, [] { return false; });
    if (stop.stop_requested()) return;
    auto renewed = client.execute(
        redis::Command("EVAL", renew_script, 1, keys::views_hold(), id_, options_.ttl.count()));
    if (!renewed) {
      renewal_failure_ = renewed.error();
    } else if (renewed->is_error()) {
      renewal_failure_ = Error{fmt::format("redis answered: {}", renewed->str())};
    } else if (renewed->integer() == 0) {
      lapsed_.store(true, std::memory_order_release);
      return;  // expired (or taken by another tool): nothing left to renew; end() reports it
    }
  }
}

Status ViewHold::end() {
  if (!held_) return {};
  held_ = false;
  renewer_.request_stop();
  renewer_.join();
  auto ended = redis_.execute(redis::Command("EVAL", release_script, 1, keys::views_hold(), id_));
  if (!ended) return Error{options_.holder + ": ending the hold on view counting: " + ended.error().message};
  if (ended->integer() != 1) {
    return Error{fmt::format(
        "{0}: the hold on view counting expired before the {0} ended (not renewed for {1} ms), "
        "so views counted meanwhile may be missing from it: run it again{2}",
        options_.holder, options_.ttl.count(),
        renewal_failure_ ? " (renewing it failed: " + renewal_failure_.error().message + ")" : "")};
  }
  // The hold never lapsed, so a renewal that failed in between cost nothing.
  log_failure(renewal_failure_,
              options_.holder + ": renewing the hold on view counting (it held nonetheless)");
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
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the aggregators flush about every second
  }
}

}  // namespace reel::projection
