#include "views/journal.h"

#include <fmt/format.h>

#include <charconv>

#include "projection/keys.h"
#include "redis/script.h"

namespace reel::views {
namespace {

namespace keys = projection::keys;

// KEYS: cursors hash, generation key, stream. ARGV: partition, cursor, generation ("" = none).
// Stream ids are "<ms>-<seq>"; both parts fit a Lua number exactly (ms < 2^53).
constexpr std::string_view commit_lua = R"lua(
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], ARGV[3]) end
local slowest_ms, slowest_seq
for _, id in ipairs(redis.call('HVALS', KEYS[1])) do
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  if ms then
    ms, seq = tonumber(ms), tonumber(seq)
    if slowest_ms == nil or ms < slowest_ms or (ms == slowest_ms and seq < slowest_seq) then
      slowest_ms, slowest_seq = ms, seq
    end
  end
end
if slowest_ms then
  -- LIMIT 0: whole nodes up to the slowest cursor, however many (the default stops at 10,000
  -- entries a call, which leaves a backlog's entries in place once the aggregators are idle).
  redis.call('XTRIM', KEYS[3], 'MINID', '~', string.format('%.0f-%.0f', slowest_ms, slowest_seq), 'LIMIT', 0)
end
return 1
)lua";

const redis::Script& commit_script() {
  static const redis::Script script{std::string(commit_lua)};
  return script;
}

template <class Number>
bool parse(std::string_view word, Number& out) {
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), out);
  return ec == std::errc{} && end == word.data() + word.size();
}

// The space-separated words of a line.
std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    const size_t space = line.find(' ');
    out.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return out;
}

}  // namespace

std::string encode_generation(const std::vector<FlushChunk>& chunks) {
  std::string out;
  for (const FlushChunk& chunk : chunks) {
    if (chunk.videos.empty() && chunk.searches.empty()) continue;
    fmt::format_to(std::back_inserter(out), "c {} {}\n", chunk.token, chunk.trend_ref);
    for (const VideoIncrement& v : chunk.videos) {
      fmt::format_to(std::back_inserter(out), "v {} {} {} {}\n", v.video_id, v.day, v.views, v.trend);
    }
    for (const SearchIncrement& search : chunk.searches) {
      fmt::format_to(std::back_inserter(out), "s {} {} ", search.searches, search.trend);
      append_query_encoded(out, search.query);
      out.push_back('\n');
    }
  }
  return out;
}

Result<std::vector<FlushChunk>> decode_generation(std::string_view text) {
  std::vector<FlushChunk> chunks;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    const auto w = words(line);
    bool ok = false;
    if (w.size() == 3 && w[0] == "c" && !w[1].empty()) {
      FlushChunk& chunk = chunks.emplace_back();
      chunk.token = std::string(w[1]);
      chunk.restored = true;
      ok = parse(w[2], chunk.trend_ref);
    } else if (w.size() == 5 && w[0] == "v" && !chunks.empty()) {
      VideoIncrement v;
      ok = parse(w[1], v.video_id) && parse(w[2], v.day) && parse(w[3], v.views) && parse(w[4], v.trend);
      if (ok) chunks.back().videos.push_back(v);
    } else if (w.size() == 4 && w[0] == "s" && !chunks.empty()) {
      SearchIncrement search;
      ok = parse(w[1], search.searches) && parse(w[2], search.trend) && decode_query(w[3], &search.query) &&
           !search.query.empty();
      if (ok) chunks.back().searches.push_back(std::move(search));
    }
    if (!ok)
      return Error{fmt::format("views journal: line {} of the stored generation is malformed", number)};
  }
  return chunks;
}

StreamJournal::StreamJournal(std::string partition, std::shared_ptr<const StreamPosition> position)
    : partition_(std::move(partition)), position_(std::move(position)) {}

std::vector<redis::Command> StreamJournal::read_commands() const {
  std::vector<redis::Command> commands;
  commands.emplace_back("HGET", keys::views_cursors(), partition_);
  commands.emplace_back("GET", keys::views_generation(partition_));
  return commands;
}

Result<JournalState> StreamJournal::read_state(const redis::Reply& cursor, const redis::Reply& generation) {
  for (const redis::Reply* reply : {&cursor, &generation}) {
    if (reply->is_error()) return Error{"views journal: " + std::string(reply->str())};
  }
  JournalState state;
  state.cursor = cursor.is_nil() ? "0-0" : std::string(cursor.str());
  if (!generation.is_nil()) {
    auto chunks = decode_generation(generation.str());
    if (!chunks) return chunks.error();
    state.chunks = std::move(*chunks);
  }
  return state;
}

redis::Command StreamJournal::commit(std::string_view cursor, const std::vector<FlushChunk>& chunks,
                                     bool eval) const {
  std::vector<std::string> keys{std::string(keys::views_cursors()), keys::views_generation(partition_),
                                std::string(keys::views_stream())};
  std::vector<std::string> args{partition_, std::string(cursor), encode_generation(chunks)};
  return eval ? commit_script().eval_command(keys, args) : commit_script().evalsha_command(keys, args);
}

}  // namespace reel::views
