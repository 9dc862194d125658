#include "people/feed.h"

#include <algorithm>
#include <string_view>

#include "projection/collection_keys.h"
#include "projection/keys.h"
#include "redis/script.h"

namespace reel::people {
namespace {

constexpr std::string_view slot = "\x1f";  // stands for the channel name or video id in a key template

// KEYS: 1 the user's subscriptions, 2 the user's cached feed.
// ARGV: 1 depth, 2 cache ttl (s), 3 first rank, 4 last rank, 5 a channel's newest list (template),
// 6 a card (template).
// Returns {total, card or nil, ...}. The cache holds a sentinel member '' scored -inf, so an empty
// feed is cached too; it is never counted or read as a video.
constexpr std::string_view feed_lua = R"lua(
local function parts(template)
  local i = string.find(template, '\31', 1, true)
  return string.sub(template, 1, i - 1), string.sub(template, i + 1)
end
local depth = tonumber(ARGV[1])
local feed = KEYS[2]
if redis.call('EXISTS', feed) == 0 then
  local list_head, list_tail = parts(ARGV[5])
  local heads = {}
  for _, name in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local key = list_head .. name .. list_tail
    local top = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')
    if top[1] then heads[#heads + 1] = {tonumber(top[2]), key} end
  end
  table.sort(heads, function(a, b) return a[1] > b[1] end)
  local items = {}
  -- The score no video of the feed is below: the depth-th newest seen so far. Each head is a video,
  -- so the depth-th newest head bounds it from the start.
  local floor = nil
  if #heads >= depth then floor = heads[depth][1] end
  -- Redis's order for ZREVRANGE: score, then member, both descending.
  local function newer(a, b)
    if a[1] ~= b[1] then return a[1] > b[1] end
    return a[2] > b[2]
  end
  local function cut()
    table.sort(items, newer)
    for i = #items, depth + 1, -1 do items[i] = nil end
    if #items == depth then floor = items[depth][1] end
  end
  for _, head in ipairs(heads) do
    if floor and head[1] < floor then break end
    local got
    if floor then
      got = redis.call('ZREVRANGEBYSCORE', head[2], '+inf', floor, 'WITHSCORES', 'LIMIT', 0, depth)
    else
      got = redis.call('ZREVRANGE', head[2], 0, depth - 1, 'WITHSCORES')
    end
    for i = 1, #got, 2 do items[#items + 1] = {tonumber(got[i + 1]), got[i]} end
    if #items >= depth and (floor == nil or #items >= 2 * depth) then cut() end
  end
  cut()
  local args = {'-inf', ''}
  for _, item in ipairs(items) do
    args[#args + 1] = item[1]
    args[#args + 1] = item[2]
  end
  redis.call('ZADD', feed, unpack(args))
  redis.call('EXPIRE', feed, ARGV[2])
end
local out = {redis.call('ZCARD', feed) - 1}
local card_head, card_tail = parts(ARGV[6])
local cards = {}
for _, id in ipairs(redis.call('ZREVRANGE', feed, ARGV[3], ARGV[4])) do
  if id ~= '' then cards[#cards + 1] = card_head .. id .. card_tail end
end
if #cards > 0 then
  for _, card in ipairs(redis.call('MGET', unpack(cards))) do out[#out + 1] = card end
end
return out
)lua";

const redis::Script& feed_script() {
  static const redis::Script script{std::string(feed_lua)};
  return script;
}

}  // namespace

Task<Result<CardPage>> read_feed(redis::Connection& redis, int64_t user_id, int page, int per_page) {
  if (Status valid = check_page(page, per_page); !valid) co_return valid.error();
  CardPage out;
  out.page = page;
  const int64_t start = first_rank(page, per_page);
  const int64_t stop = std::min<int64_t>(start + per_page, feed_depth) - 1;
  std::vector<std::string> keys{projection::keys::subscriptions(user_id), projection::keys::feed(user_id)};
  std::vector<std::string> args{
      std::to_string(feed_depth),
      std::to_string(feed_ttl.count()),
      std::to_string(start),
      std::to_string(stop),
      projection::keys::list({projection::ListKind::channel, slot}, projection::Sort::newest),
      projection::keys::card(slot)};
  auto reply = co_await feed_script().run(redis, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  if (reply->is_error()) co_return Error{"redis: feed: " + std::string(reply->str())};
  const auto& elements = reply->elements();
  if (elements.empty()) co_return Error{"redis: feed: an empty reply"};
  out.total = std::min<int64_t>(elements[0].integer(), feed_depth);
  out.pages = page_count(out.total, per_page);
  if (start < feed_depth) {
    out.cards = cards_of(std::span(elements).subspan(1));
  }
  co_return out;
}

}  // namespace reel::people
