#include "people/subscriptions.h"

#include <fmt/format.h>

#include "catalog/model.h"
#include "people/collection_writes.h"
#include "projection/codec.h"
#include "projection/collection_keys.h"
#include "projection/collections.h"
#include "projection/keys.h"
#include "sql/collection_store.h"

namespace reel::people {
namespace {

Result<catalog::Channel> live_channel(sql::CollectionStore& store, std::string_view name) {
  if (!catalog::valid_name(name)) {
    return Error{fmt::format("there is no channel '{}'", name), ErrorKind::not_found};
  }
  Result<std::optional<catalog::Channel>> channel = store.live_channel(name);
  if (!channel) return channel.error();
  if (!*channel) return Error{fmt::format("there is no channel '{}'", name), ErrorKind::not_found};
  return std::move(**channel);
}

// The channel's delta after a subscription of `user_id` changed (subscribed: it exists now).
void emit_subscription(writes::Transaction& tx, const catalog::Subscription& subscription, bool subscribed,
                       int64_t subscribers) {
  const projection::Membership membership = projection::subscription_membership(subscription);
  std::vector<redis::Command> commands;
  commands.push_back(subscribed ? projection::add_command(membership)
                                : projection::remove_command(membership));
  commands.push_back(projection::subscribers_command(subscription.channel_name, subscribers));
  commands.push_back(projection::feed_reset_command(subscription.user_id));
  tx.emit(channel_object(subscription.channel_id), std::move(commands));
}

}  // namespace

Result<int64_t> subscribe(writes::Transaction& tx, int64_t user_id, std::string_view channel_name,
                          int64_t now) {
  sql::CollectionStore store(tx.db());
  Result<catalog::Channel> channel = live_channel(store, channel_name);
  if (!channel) return channel.error();
  if (channel->id == user_id) {
    return Error{"you cannot subscribe to your own channel", ErrorKind::invalid_input};
  }
  if (Status locked = tx.lock(user_object(user_id)); !locked) return locked.error();
  if (Status locked = tx.lock(channel_object(channel->id)); !locked) return locked.error();
  Result<std::optional<int64_t>> since = store.subscription_time(user_id, channel->id);
  if (!since) return since.error();
  catalog::Subscription subscription{user_id, channel->id, channel->name, since->value_or(now)};
  Result<int64_t> subscribers = 0;
  if (*since) {
    subscribers = store.subscribers(channel->id);
  } else {
    Result<int64_t> followed = store.count_subscriptions(user_id);
    if (!followed) return followed;
    if (*followed >= max_subscriptions) {
      return Error{fmt::format("you follow {} channels, the most one may follow", *followed),
                   ErrorKind::invalid_input};
    }
    if (Status inserted = store.insert_subscription(subscription); !inserted) return inserted.error();
    subscribers = store.add_subscribers(channel->id, 1);
  }
  if (!subscribers) return subscribers;
  emit_subscription(tx, subscription, true, *subscribers);
  return subscribers;
}

Result<int64_t> unsubscribe(writes::Transaction& tx, int64_t user_id, std::string_view channel_name) {
  sql::CollectionStore store(tx.db());
  Result<catalog::Channel> channel = live_channel(store, channel_name);
  if (!channel) return channel.error();
  if (Status locked = tx.lock(channel_object(channel->id)); !locked) return locked.error();
  Result<bool> deleted = store.delete_subscription(user_id, channel->id);
  if (!deleted) return deleted.error();
  Result<int64_t> subscribers =
      *deleted ? store.add_subscribers(channel->id, -1) : store.subscribers(channel->id);
  if (!subscribers) return subscribers;
  emit_subscription(tx, {user_id, channel->id, channel->name, 0}, false, *subscribers);
  return subscribers;
}

Task<Result<SubscriptionList>> read_subscriptions(redis::Connection& redis, int64_t user_id, int page,
                                                  int per_page) {
  std::string key = projection::keys::subscriptions(user_id);  // named: not a temporary in co_await
  auto list = co_await read_list_page(redis, std::move(key), true, true, page, per_page);
  if (!list) co_return list.error();
  SubscriptionList out;
  out.page = list->page;
  out.total = list->total;
  out.pages = list->pages;
  const auto& named = list->members.elements();  // name, score, name, score...
  std::vector<redis::Command> second;
  for (size_t i = 0; i + 1 < named.size(); i += 2) {
    out.channels.push_back({std::string(named[i].str()), {}, 0, static_cast<int64_t>(named[i + 1].number())});
    second.emplace_back("HMGET", projection::keys::channel(named[i].str()), "display_name",
                        projection::codec::channel_subscribers_field);
  }
  if (second.empty()) co_return out;
  auto details = checked(co_await redis.execute(std::move(second)));
  if (!details) co_return details.error();
  for (size_t i = 0; i < out.channels.size() && i < details->size(); ++i) {
    const auto& fields = (*details)[i].elements();
    if (fields.size() != 2) continue;
    out.channels[i].display_name = fields[0].is_nil() ? out.channels[i].name : std::string(fields[0].str());
    out.channels[i].subscribers = fields[1].integer();
  }
  co_return out;
}

Task<Result<bool>> is_subscribed(redis::Connection& redis, int64_t user_id, std::string channel_name) {
  std::string key = projection::keys::subscriptions(user_id);  // named: not a temporary in co_await
  co_return co_await is_member(redis, std::move(key), std::move(channel_name));
}

Task<Result<int64_t>> read_subscribers(redis::Connection& redis, std::string channel_name) {
  redis::Command count("HGET", projection::keys::channel(channel_name),
                       projection::codec::channel_subscribers_field);
  auto reply = co_await redis.execute(std::move(count));
  if (!reply) co_return reply.error();
  if (reply->is_error()) co_return Error{"redis: " + std::string(reply->str())};
  co_return reply->integer();
}

}  // namespace reel::people
