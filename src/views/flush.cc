#include "views/flush.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/days.h"
#include "projection/codec.h"
#include "projection/keys.h"
#include "views/windows.h"

namespace reel::views {
namespace keys = projection::keys;
using projection::ListKind;
using projection::Period;
using projection::Sort;

namespace {

constexpr std::string_view slot = "\x1f";  // stands for the id or name in a key template

// KEYS: 1 token, 2 z:views:all, 3 z:trending, 4 trending epoch, 5 search:popular, 6 views:windows,
// 7 z:views:week, 8 z:views:month, 9.. one day list per day of the chunk, last the hold (views:hold).
// ARGV: 1 token ttl, 2 lambda, 3 ref, 4..12 templates (card, video, category all, category
// trending, tag all, channel all, co-views, category week, category month), 13 co-view keep,
// 14 co-view trim at, 15 day count, then per day: the day (YYYYMMDD), category day template,
// seconds left to live; then the video count and per video: id, day index (1-based), views,
// weight; then the pair count and per pair: a, b, count; then the search count and per search:
// query, weight.
// Runs after the projection's codec helpers (card_views, video_list_fields, each_name) and the
// windows' (window_state).
// A chunk of video increments (day count > 0) is refused with {2, hold id} while a rebuild holds
// view counting; nothing is written then, not even the token.
constexpr std::string_view flush_lua = R"lua(
local done = redis.call('GET', KEYS[1])
if done then return {0, done} end
if tonumber(ARGV[15]) > 0 then
  local hold = redis.call('GET', KEYS[#KEYS])
  if hold then return {2, hold} end
end
redis.call('SET', KEYS[1], '', 'EX', ARGV[1])
local function parts(template)
  local i = string.find(template, '\31', 1, true)
  return string.sub(template, 1, i - 1), string.sub(template, i + 1)
end
local card_a, card_b = parts(ARGV[4])
local video_a, video_b = parts(ARGV[5])
local cat_all_a, cat_all_b = parts(ARGV[6])
local cat_trend_a, cat_trend_b = parts(ARGV[7])
local tag_a, tag_b = parts(ARGV[8])
local channel_a, channel_b = parts(ARGV[9])
local cov_a, cov_b = parts(ARGV[10])
local cat_week_a, cat_week_b = parts(ARGV[11])
local cat_month_a, cat_month_b = parts(ARGV[12])
local cov_keep, cov_trim_at = tonumber(ARGV[13]), tonumber(ARGV[14])
local lambda, ref = tonumber(ARGV[2]), tonumber(ARGV[3])
local t0 = tonumber(redis.call('GET', KEYS[4]))
if not t0 then
  t0 = ref
  redis.call('SET', KEYS[4], ARGV[3])
end
local factor = math.exp(lambda * (ref - t0))
local errors = 0
local function zincr(key, by, member)
  local r = redis.pcall('ZINCRBY', key, by, member)
  if type(r) == 'table' and r.err then
    errors = errors + 1
    return nil
  end
  return r
end
local known = {}
local function exists(id)
  local k = known[id]
  if k == nil then
    k = redis.call('EXISTS', card_a .. id .. card_b) == 1
    known[id] = k
  end
  return k
end
local a = 15
local days = {}
for d = 1, tonumber(ARGV[a]) do
  local p, s = parts(ARGV[a + 2])
  days[d] = {p, s, ARGV[a + 3], tonumber(ARGV[a + 1])}
  a = a + 3
end
a = a + 1
local expire = {}
local unknown = {}
local firsts = {}
local function window_first(list)
  local first = firsts[list]
  if first == nil then
    first = window_state(redis.call('HGET', KEYS[6], list)) or false
    firsts[list] = first
  end
  return first
end
-- Views of a day to a scope's day list and to its week and month when the day is in their
-- window; nothing for a day the week has left (its day list is frozen: views/windows.h).
local function count_day(day, day_key, week_key, month_key, views, id)
  local week = window_first(week_key)
  if week and day[4] < week then return end
  zincr(day_key, views, id)
  expire[day_key] = day[3]
  if week then zincr(week_key, views, id) end
  local month = window_first(month_key)
  if month and day[4] >= month then zincr(month_key, views, id) end
end
for i = 1, tonumber(ARGV[a]) do
  local id, d, views = ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3]
  local trend = tonumber(ARGV[a + 4]) * factor
  a = a + 4
  if not exists(id) then
    unknown[#unknown + 1] = id
  else
    local day = days[d]
    local total = zincr(KEYS[2], views, id)
    if total then
      redis.pcall('SETRANGE', card_a .. id .. card_b, 0, card_views(total))
    end
    count_day(day, KEYS[8 + d], KEYS[7], KEYS[8], views, id)
    zincr(KEYS[3], trend, id)
    local f = redis.pcall('HMGET', video_a .. id .. video_b, unpack(video_list_fields))
    if type(f) == 'table' and not f.err then
      if f[1] then
        for slug in each_name(f[1]) do
          zincr(cat_all_a .. slug .. cat_all_b, views, id)
          count_day(day, day[1] .. slug .. day[2], cat_week_a .. slug .. cat_week_b,
                    cat_month_a .. slug .. cat_month_b, views, id)
          zincr(cat_trend_a .. slug .. cat_trend_b, trend, id)
        end
      end
      if f[2] then
        for tag in each_name(f[2]) do zincr(tag_a .. tag .. tag_b, views, id) end
      end
      if f[3] and f[3] ~= '' then zincr(channel_a .. f[3] .. channel_b, views, id) end
    end
  end
end
for key, ttl in pairs(expire) do redis.pcall('EXPIRE', key, ttl) end
a = a + 1
for i = 1, tonumber(ARGV[a]) do
  local x, y, c = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  a = a + 3
  if exists(x) and exists(y) then
    for _, pair in ipairs({{x, y}, {y, x}}) do
      local key = cov_a .. pair[1] .. cov_b
      local score = zincr(key, c, pair[2])
      -- Only a new member (score == count) can make the list longer.
      if score and tonumber(score) == tonumber(c) then
        local size = redis.pcall('ZCARD', key)
        if type(size) == 'number' and size > cov_trim_at then
          redis.pcall('ZREMRANGEBYRANK', key, 0, -(cov_keep + 1))
        end
      end
    end
  end
end
a = a + 1
for i = 1, tonumber(ARGV[a]) do
  zincr(KEYS[5], tonumber(ARGV[a + 2]) * factor, ARGV[a + 1])
  a = a + 2
end
local result = errors .. ' ' .. table.concat(unknown, ' ')
redis.call('SET', KEYS[1], result, 'EX', ARGV[1])
return {1, result}
)lua";

// KEYS: 1 trending epoch, 2.. trending lists and search:popular. ARGV: 1 now, 2 lambda, 3 rebase after
// (seconds).
constexpr std::string_view rebase_lua = R"lua(
local t0 = tonumber(redis.call('GET', KEYS[1]))
local now = tonumber(ARGV[1])
if not t0 or now - t0 < tonumber(ARGV[3]) then return 0 end
local factor = math.exp(-tonumber(ARGV[2]) * (now - t0))
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('ZUNIONSTORE', KEYS[i], 1, KEYS[i], 'WEIGHTS', factor)
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
)lua";

std::string to_text(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

const redis::Script& rebase_script() {
  static const redis::Script script{std::string(rebase_lua)};
  return script;
}

template <class T>
Status first_error(const Result<T>& result, std::string_view what) {
  if (!result) return Error{std::string(what) + ": " + result.error().message};
  return {};
}

}  // namespace

ChunkEncoder::ChunkEncoder(double lambda, FlushOptions options) : lambda_(lambda), options_(options) {
  templates_ = {
      keys::card(slot),
      keys::video(slot),
      keys::list({ListKind::category, slot}, Sort::views, Period::all),
      keys::trending({ListKind::category, slot}),
      keys::list({ListKind::tag, slot}, Sort::views, Period::all),
      keys::list({ListKind::channel, slot}, Sort::views, Period::all),
      keys::coviews(slot),
      keys::list({ListKind::category, slot}, Sort::views, Period::week),
      keys::list({ListKind::category, slot}, Sort::views, Period::month),
  };
}

const redis::Script& ChunkEncoder::script() {
  static const redis::Script script{projection::codec::lua_helpers() + window_lua_helpers() +
                                    std::string(flush_lua)};
  return script;
}

redis::Command ChunkEncoder::command(const FlushChunk& chunk, int64_t now, bool eval) const {
  std::vector<int32_t> days;
  for (const VideoIncrement& v : chunk.videos) {
    if (std::find(days.begin(), days.end(), v.day) == days.end()) days.push_back(v.day);
  }
  // Built in place (not through Script's vectors of strings): a flush encodes ~10^5 arguments.
  redis::Command c;
  c.arg(eval ? "EVAL" : "EVALSHA").arg(eval ? script().source() : script().sha1()).arg(9 + days.size());
  c.arg(keys::views_batch(chunk.token))
      .arg(keys::list({ListKind::all, {}}, Sort::views, Period::all))
      .arg(keys::trending({ListKind::all, {}}))
      .arg(keys::trending_epoch())
      .arg(keys::search_popular())
      .arg(keys::views_windows())
      .arg(keys::list({ListKind::all, {}}, Sort::views, Period::week))
      .arg(keys::list({ListKind::all, {}}, Sort::views, Period::month));
  for (int32_t day : days) c.arg(keys::list({ListKind::all, {}}, Sort::views, Period::day, day));
  c.arg(keys::views_hold());

  c.arg(options_.token_ttl_seconds).arg(lambda_).arg(chunk.trend_ref);
  for (const auto& t : templates_) c.arg(t);
  c.arg(options_.coview_keep).arg(options_.coview_trim_at).arg(days.size());
  for (int32_t day : days) {
    c.arg(day).arg(keys::list({ListKind::category, slot}, Sort::views, Period::day, day));
    c.arg(day_start(day) + options_.day_list_ttl_days * 86400 - now);
  }
  c.arg(chunk.videos.size());
  for (const VideoIncrement& v : chunk.videos) {
    const auto day_index = std::find(days.begin(), days.end(), v.day) - days.begin() + 1;
    c.arg(v.video_id).arg(day_index).arg(v.views).arg(v.trend);
  }
  c.arg(chunk.pairs.size());
  for (const PairIncrement& p : chunk.pairs) c.arg(p.video_a).arg(p.video_b).arg(p.count);
  c.arg(chunk.searches.size());
  for (const SearchIncrement& s : chunk.searches) c.arg(s.query).arg(s.trend);
  return c;
}

Result<ChunkResult> parse_chunk_reply(const redis::Reply& reply) {
  if (reply.is_error()) return Error{"view flush script: " + std::string(reply.str())};
  const auto& e = reply.elements();
  if (!reply.is_array() || e.size() != 2) return Error{"view flush script: unexpected reply"};
  ChunkResult result;
  if (e[0].integer() == 2) {
    result.held_by = e[1].str();
    return result;
  }
  result.replayed = e[0].integer() == 0;
  std::string_view text = e[1].str();
  bool first = true;
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    int64_t value = 0;
    if (!word.empty()) {
      auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
      if (ec != std::errc() || end != word.data() + word.size()) {
        return Error{"view flush script: unexpected result \"" + std::string(e[1].str()) + "\""};
      }
      if (first) {
        result.errors = value;
      } else {
        result.unknown_videos.push_back(value);
      }
      first = false;
    }
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return result;
}

RedisFlusher::RedisFlusher(Aggregator& aggregator, redis::Connection& connection, FlushOptions options)
    : aggregator_(aggregator), connection_(connection), encoder_(aggregator.lambda(), options) {}

std::vector<redis::Command> RedisFlusher::presence_commands() const {
  std::vector<redis::Command> commands;
  commands.emplace_back("HSET", keys::views_aggregators(), aggregator_.instance(), 1);
  commands.emplace_back("SET", keys::views_aggregator(aggregator_.instance()), aggregator_.confirmed_hold(),
                        "PX", encoder_.options().presence_ttl_ms);
  commands.emplace_back("GET", keys::views_hold());
  return commands;
}

Status RedisFlusher::read_hold(const std::vector<redis::Reply>& replies, size_t presence_end) {
  for (size_t i = 0; i < presence_end; ++i) {
    if (replies[i].is_error()) return Error{"presence: " + std::string(replies[i].str())};
  }
  const redis::Reply& hold = replies[presence_end - 1];
  hold_ = hold.is_nil() ? std::string() : std::string(hold.str());
  return {};
}

Task<Status> RedisFlusher::flush() {
  if (flushing_) co_return Status{};
  flushing_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{flushing_};

  const size_t per_trip = std::max<size_t>(encoder_.options().chunks_per_round_trip, 1);
  // The first write of every flush starts with the presence commands, so the hold it reads was
  // read before any chunk of this flush ran.
  bool hold_read = false;
  auto failure = [&](const Error& error) {
    ++stats_.failures;
    return Error{"view flush: " + error.message};
  };
  // Every chunk but those the current hold refused already (their fate is known: not applied).
  if (journal_ && !recovered_) {
    if (Status recovered = co_await recover(); !recovered) co_return failure(recovered.error());
  }
  auto to_send = [&] {
    std::vector<std::string> tokens;
    const std::vector<FlushChunk>& chunks = aggregator_.seal();
    // Right after the seal, before anything else is ingested: the position the generation covers.
    if (journal_ && aggregator_.generations() != seen_generations_) {
      seen_generations_ = aggregator_.generations();
      sealed_cursor_ = journal_->position();
      uncommitted_ = true;
    }
    for (const FlushChunk& chunk : chunks) {
      if (hold_.empty() || chunk.held_by != hold_) tokens.push_back(chunk.token);
    }
    return tokens;
  };
  // Two rounds: chunks left in flight by an earlier flush go first, then what was pending meanwhile.
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> tokens = to_send();
    if (tokens.empty() && !hold_read) {
      // Nothing to send under the hold known so far: the presence commands alone (so an idle
      // aggregator confirms holds too), then again with the hold just read.
      auto presence = presence_commands();  // named, not a temporary in co_await (STYLE.md)
      auto replies = co_await connection_.execute(std::move(presence));
      ++stats_.round_trips;
      if (!replies) co_return failure(replies.error());
      if (auto read = read_hold(*replies, replies->size()); !read) co_return failure(read.error());
      hold_read = true;
      tokens = to_send();
    }
    if (tokens.empty()) break;
    if (uncommitted_) {
      if (Status committed = co_await commit(sealed_cursor_, true); !committed)
        co_return failure(committed.error());
      uncommitted_ = false;
    }
    bool refused = false;
    for (size_t first = 0; first < tokens.size(); first += per_trip) {
      const size_t n = std::min(per_trip, tokens.size() - first);
      std::vector<redis::Command> commands;
      if (!hold_read) commands = presence_commands();
      const size_t skip = commands.size();
      const int64_t now = aggregator_.clock().unix_seconds();
      for (size_t i = first; i < first + n; ++i)
        commands.push_back(encoder_.command(*in_flight(tokens[i]), now));
      auto replies = co_await connection_.execute(std::move(commands));
      ++stats_.round_trips;
      stats_.commands += n;
      if (!replies) co_return failure(replies.error());
      if (skip > 0) {
        if (auto read = read_hold(*replies, skip); !read) co_return failure(read.error());
        hold_read = true;
      }
      // Chunks Redis had no script for did not run: send them again with EVAL.
      std::vector<size_t> noscript;
      for (size_t i = 0; i < n; ++i) {
        if (redis::Script::is_noscript((*replies)[skip + i])) noscript.push_back(i);
      }
      if (!noscript.empty()) {
        std::vector<redis::Command> evals;
        for (size_t i : noscript) evals.push_back(encoder_.command(*in_flight(tokens[first + i]), now, true));
        auto again = co_await connection_.execute(std::move(evals));
        ++stats_.round_trips;
        stats_.commands += noscript.size();
        if (!again) co_return failure(again.error());
        for (size_t j = 0; j < noscript.size(); ++j) (*replies)[skip + noscript[j]] = std::move((*again)[j]);
      }
      Status failed;
      for (size_t i = 0; i < n; ++i) {
        auto result = parse_chunk_reply((*replies)[skip + i]);
        if (!result) {
          if (failed) failed = result.error();
        } else if (!result->held_by.empty()) {
          aggregator_.held(tokens[first + i], result->held_by);
          refused = true;
        } else {
          aggregator_.applied(tokens[first + i], *result);
        }
      }
      if (!failed) {
        ++stats_.failures;
        co_return failed;
      }
    }
    if (refused) break;  // the rest waits for the hold to end
  }
  // Every chunk sent since the hold was read got its answer, so each one applied before the hold
  // began is among the aggregator's daily rows now.
  if (!hold_.empty()) aggregator_.hold_settled(hold_);
  if (journal_) {
    if (Status settled = co_await settle_journal(); !settled) co_return failure(settled.error());
  }
  ++stats_.flushes;
  co_return Status{};
}

Task<Status> RedisFlusher::recover() {
  auto commands = journal_->read_commands();
  auto replies = co_await connection_.execute(std::move(commands));
  ++stats_.round_trips;
  if (!replies) co_return replies.error();
  auto state = StreamJournal::read_state((*replies)[0], (*replies)[1]);
  if (!state) co_return state.error();
  generation_stored_ = !state->chunks.empty();
  aggregator_.restore(std::move(state->chunks));
  committed_cursor_ = sealed_cursor_ = state->cursor;
  recovered_ = true;
  co_return Status{};
}

Task<Status> RedisFlusher::commit(std::string cursor, bool with_chunks) {
  const std::vector<FlushChunk> none;
  const std::vector<FlushChunk>& chunks = with_chunks ? aggregator_.in_flight() : none;
  auto command = journal_->commit(cursor, chunks);
  auto reply = co_await connection_.execute(std::move(command));
  ++stats_.round_trips;
  if (reply && redis::Script::is_noscript(*reply)) {
    auto eval = journal_->commit(cursor, chunks, true);
    reply = co_await connection_.execute(std::move(eval));
    ++stats_.round_trips;
  }
  if (!reply) co_return reply.error();
  if (reply->is_error()) co_return Error{"views journal commit: " + std::string(reply->str())};
  generation_stored_ = with_chunks;
  committed_cursor_ = std::move(cursor);
  co_return Status{};
}

Task<Status> RedisFlusher::settle_journal() {
  if (!aggregator_.in_flight().empty()) co_return Status{};
  // With nothing pending either, every line read so far is applied (or was not a view to count).
  const bool nothing_pending = aggregator_.pending_videos() == 0 && aggregator_.pending_pairs() == 0 &&
                               aggregator_.pending_searches() == 0;
  std::string cursor =
      nothing_pending && !journal_->position().empty() ? journal_->position() : sealed_cursor_;
  if (!generation_stored_ && cursor == committed_cursor_) co_return Status{};
  co_return co_await commit(std::move(cursor), false);
}

const FlushChunk* RedisFlusher::in_flight(std::string_view token) const {
  const auto& chunks = aggregator_.in_flight();
  auto it = std::find_if(chunks.begin(), chunks.end(), [&](const FlushChunk& c) { return c.token == token; });
  return it == chunks.end() ? nullptr : &*it;
}

std::vector<redis::Command> maintenance_commands(int64_t now, double lambda,
                                                 const std::vector<std::string>& category_slugs,
                                                 const MaintenanceOptions& options) {
  std::vector<redis::Command> commands;
  std::vector<std::string> rebase_keys{std::string(keys::trending_epoch())};
  for (const keys::Scope& scope : projection::view_list_scopes(category_slugs)) {
    std::string trending = keys::trending(scope);
    commands.emplace_back("ZREMRANGEBYRANK", trending, 0, -(options.trending_keep + 1));
    rebase_keys.push_back(std::move(trending));
  }
  commands.emplace_back("ZREMRANGEBYRANK", keys::search_popular(), 0, -(options.popular_searches_keep + 1));
  rebase_keys.emplace_back(keys::search_popular());
  commands.push_back(rebase_script().evalsha_command(
      rebase_keys, {std::to_string(now), to_text(lambda), std::to_string(options.rebase_after_seconds)}));
  return commands;
}

Task<Result<WindowStats>> maintain(redis::Connection& connection, int64_t now, double lambda,
                                   const MaintenanceOptions& options) {
  redis::Command read_nav("GET", keys::nav());  // named, not a temporary in co_await (STYLE.md)
  auto nav = co_await connection.execute(std::move(read_nav));
  if (auto s = first_error(nav, "view maintenance"); !s) co_return s.error();
  std::vector<std::string> slugs;
  for (auto& link : projection::codec::decode_nav(nav->str())) slugs.push_back(std::move(link.slug));

  auto windows = co_await keep_windows(connection, now, slugs, options.windows);
  if (auto s = first_error(windows, "view maintenance"); !s) co_return s.error();
  auto commands = maintenance_commands(now, lambda, slugs, options);
  const redis::Command rebase = commands.back();
  auto replies = co_await connection.execute(std::move(commands));
  if (auto s = first_error(replies, "view maintenance"); !s) co_return s.error();
  if (redis::Script::is_noscript(replies->back())) {
    // Redis lost its script cache: load the rebase script and run it again (one more round trip).
    std::vector<redis::Command> load_and_run{redis::Command("SCRIPT", "LOAD", rebase_script().source()),
                                             rebase};
    auto again = co_await connection.execute(std::move(load_and_run));
    if (auto s = first_error(again, "view maintenance"); !s) co_return s.error();
    replies->back() = std::move(again->back());
  }
  for (const auto& reply : *replies) {
    if (reply.is_error()) co_return Error{"view maintenance: " + std::string(reply.str())};
  }
  co_return *windows;
}

}  // namespace reel::views
