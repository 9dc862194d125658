#include "views/windows.h"

#include <fmt/format.h>

#include <charconv>
#include <map>

#include "common/days.h"
#include "projection/keys.h"
#include "projection/view_lists.h"
#include "redis/script.h"

namespace reel::views {
namespace keys = projection::keys;
using projection::ListKind;
using projection::Period;
using projection::Sort;

namespace {

constexpr std::string_view helpers_lua = R"lua(
local function window_state(value)
  if not value then return nil end
  local first, done = string.match(value, '^(%d+) (%d+)$')
  if not first then first = string.match(value, '^(%d+)$') end
  return tonumber(first), tonumber(done)
end
)lua";

// Subtracts one chunk of day r's list from a window whose first day is r (the first chunk: the
// window moves past r at once) or already r's next day with N members done.
// KEYS: 1 views:windows, 2 the list, 3 r's day list, 4 views:hold.
// ARGV: 1 the field (the list's key), 2 r, 3 the day after r, 4 members per call.
// Reply: {1, the new value}; {0, ''} under a hold; {2, the value found} when the window is in
// another state (another aggregator moved it, or a rebuild set it).
constexpr std::string_view retire_lua = R"lua(
if redis.call('EXISTS', KEYS[4]) == 1 then return {0, ''} end
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return {2, ''} end
local first, done = window_state(value)
local chunk = tonumber(ARGV[4])
if first == tonumber(ARGV[2]) and not done then
  done = 0
elseif not (first == tonumber(ARGV[3]) and done) then
  return {2, value}
end
local entries = redis.call('ZRANGE', KEYS[3], done, done + chunk - 1, 'WITHSCORES')
for i = 1, #entries, 2 do
  local left = tonumber(redis.call('ZINCRBY', KEYS[2], -tonumber(entries[i + 1]), entries[i]))
  if left <= 0 then redis.call('ZREM', KEYS[2], entries[i]) end
end
if #entries < 2 * chunk then
  value = ARGV[3]
else
  value = ARGV[3] .. ' ' .. string.format('%d', done + chunk)
end
redis.call('HSET', KEYS[1], ARGV[1], value)
return {1, value}
)lua";

// Sets a list whole: the union of its day lists, and its window. Does nothing when the window is
// already at or after the stale bound (another aggregator did it).
// KEYS: 1 views:windows, 2 the list, 3 views:hold, 4.. the day lists (the first day's to
// tomorrow's). ARGV: 1 the field, 2 the first day, 3 the stale bound. Reply as retire_lua's.
constexpr std::string_view set_whole_lua = R"lua(
if redis.call('EXISTS', KEYS[3]) == 1 then return {0, ''} end
local value = redis.call('HGET', KEYS[1], ARGV[1])
local first = window_state(value)
if first and first >= tonumber(ARGV[3]) then return {2, value} end
redis.call('ZUNIONSTORE', KEYS[2], #KEYS - 3, unpack(KEYS, 4))
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, ARGV[2]}
)lua";

const redis::Script& retire_script() {
  static const redis::Script script{window_lua_helpers() + std::string(retire_lua)};
  return script;
}

const redis::Script& set_whole_script() {
  static const redis::Script script{window_lua_helpers() + std::string(set_whole_lua)};
  return script;
}

// What a script call did: nothing under a hold, or moved the window to `state` (by_this_call),
// or found it in `state`.
struct Advance {
  bool held = false;
  bool by_this_call = false;
  std::string value;  // as stored
  std::optional<WindowState> state;
};

// An Error for an error reply or another shape.
Result<Advance> advanced(const Result<redis::Reply>& reply) {
  if (!reply) return reply.error();
  if (reply->is_error()) return Error{"view windows: " + std::string(reply->str())};
  const auto& e = reply->elements();
  if (!reply->is_array() || e.size() != 2) return Error{"view windows: unexpected reply"};
  return Advance{e[0].integer() == 0, e[0].integer() == 1, std::string(e[1].str()), parse_window(e[1].str())};
}

}  // namespace

std::optional<WindowState> parse_window(std::string_view value) {
  WindowState state;
  if (value.empty() || value[0] < '0' || value[0] > '9') return std::nullopt;  // from_chars takes '-'
  const char* end = value.data() + value.size();
  auto [at, ec] = std::from_chars(value.data(), end, state.first);
  if (ec != std::errc() || at == value.data()) return std::nullopt;
  if (at == end) return state;
  if (*at != ' ' || at + 1 == end || at[1] < '0' || at[1] > '9') return std::nullopt;
  int64_t done = 0;
  auto [rest, ec2] = std::from_chars(at + 1, end, done);
  if (ec2 != std::errc() || rest != end || rest == at + 1) return std::nullopt;
  state.retired_members = done;
  return state;
}

const std::string& window_lua_helpers() {
  static const std::string text(helpers_lua);
  return text;
}

Task<Result<WindowStats>> keep_windows(redis::Connection& connection, int64_t now,
                                       const std::vector<std::string>& category_slugs,
                                       const WindowOptions& options) {
  redis::Command read("HGETALL", keys::views_windows());  // named, not a temporary in co_await (STYLE.md)
  auto stored = co_await connection.execute(std::move(read));
  if (!stored) co_return stored.error();
  if (stored->is_error()) co_return Error{"view windows: " + std::string(stored->str())};
  std::map<std::string, std::string, std::less<>> values;
  const auto& fields = stored->elements();
  for (size_t i = 0; i + 1 < fields.size(); i += 2) values.emplace(fields[i].str(), fields[i + 1].str());

  const int32_t today = utc_day(now);
  const int32_t stale_before = days_before(today, options.stale_after_days);
  WindowStats stats;
  const std::string hold(keys::views_hold());
  const std::string windows(keys::views_windows());
  for (const keys::Scope& scope : projection::view_list_scopes(category_slugs)) {
    for (const projection::ViewWindow& window : projection::view_windows) {
      const std::string list = keys::list(scope, Sort::views, window.period);
      const int32_t target = window.first_day(today);
      auto found = values.find(list);
      std::optional<WindowState> state = found == values.end() ? std::nullopt : parse_window(found->second);
      // Each call advances the window (a chunk, a day, or the whole list), or finds it advanced.
      for (;;) {
        const bool whole = !state || state->first < stale_before;
        const redis::Script* script = nullptr;
        std::vector<std::string> script_keys{windows, list};
        std::vector<std::string> args{list};
        if (whole) {
          script = &set_whole_script();
          script_keys.push_back(hold);
          for (int32_t day = target; day <= days_after(today, 1); day = days_after(day, 1))
            script_keys.push_back(keys::list(scope, Sort::views, Period::day, day));
          args.insert(args.end(), {std::to_string(target), std::to_string(stale_before)});
        } else if (state->retired_members || state->first < target) {
          // The day being subtracted: the one before the window, or its first day, to start on.
          const int32_t day = state->retired_members ? days_before(state->first, 1) : state->first;
          script = &retire_script();
          script_keys.insert(script_keys.end(), {keys::list(scope, Sort::views, Period::day, day), hold});
          args.insert(args.end(), {std::to_string(day), std::to_string(days_after(day, 1)),
                                   std::to_string(options.chunk)});
        } else {
          break;
        }
        auto reply = co_await script->run(connection, std::move(script_keys), std::move(args));
        ++stats.calls;
        auto next = advanced(reply);
        if (!next) co_return next.error();
        if (next->held) {
          stats.held = true;
          co_return stats;
        }
        if (!next->by_this_call && next->state == state) {
          // Only text neither side reads as a window (views:windows written by hand) gets here.
          co_return Error{fmt::format("view windows: {} stays at \"{}\"", list, next->value)};
        }
        if (next->by_this_call && whole) ++stats.set_whole;
        if (next->by_this_call && !whole && next->state && !next->state->retired_members)
          ++stats.days_retired;
        state = next->state;
      }
    }
  }
  co_return stats;
}

}  // namespace reel::views
