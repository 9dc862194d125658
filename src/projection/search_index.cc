#include "projection/search_index.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "projection/keys.h"
#include "redis/script.h"

namespace reel::projection::search_index {
namespace {

// KEYS[1] = sx:{id}, KEYS[2] = search:videos, KEYS[3] = search:terms, KEYS[4] = search:words;
// ARGV[1] = the term prefix, ARGV[2] = the id.
const redis::Script& unindex_script() {
  static const redis::Script script(R"lua(
local terms = redis.call('GET', KEYS[1])
if not terms then return 0 end
for term in string.gmatch(terms, '%S+') do
  local set = ARGV[1] .. term
  redis.call('ZREM', set, ARGV[2])
  local videos = redis.call('ZCARD', set)
  if videos == 0 then
    redis.call('ZREM', KEYS[3], term)
    redis.call('HDEL', KEYS[4], term)
  else
    redis.call('ZADD', KEYS[3], videos, term)
  end
end
redis.call('DEL', KEYS[1])
redis.call('DECR', KEYS[2])
return 1
)lua");
  return script;
}

// After the video's ZADDs: each term's count from its set, its shown word by preferred_word
// (bytes compared one by one: Lua's string '<' follows the server's locale).
// KEYS[1] = search:terms, KEYS[2] = search:words; ARGV[1] = the term prefix, then term, word pairs.
const redis::Script& dictionary_script() {
  static const redis::Script script(R"lua(
local function preferred(a, b)
  if #a ~= #b then return #a < #b end
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return false
end
for i = 2, #ARGV, 2 do
  local term, word = ARGV[i], ARGV[i + 1]
  redis.call('ZADD', KEYS[1], redis.call('ZCARD', ARGV[1] .. term), term)
  local shown = redis.call('HGET', KEYS[2], term)
  if not shown or preferred(word, shown) then redis.call('HSET', KEYS[2], term, word) end
end
return 1
)lua");
  return script;
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) {
    if (!text.empty()) text += ' ';
    text += name;
  }
  return text;
}

}  // namespace

FieldWeight field_weight(Field field) {
  switch (field) {
    case Field::title:
      return {3.0, 0.75, 8};
    case Field::tags:
      return {2.0, 0.5, 6};
    case Field::categories:
      return {1.5, 0, 1};
    case Field::channel:
      return {1.0, 0, 2};
    case Field::description:
      return {0.5, 0.75, 40};
  }
  return {};
}

double term_weight(const std::vector<FieldCount>& counts) {
  double tf = 0;
  for (const FieldCount& count : counts) {
    if (count.count == 0) continue;
    const FieldWeight weight = field_weight(count.field);
    const double norm = 1 - weight.b + weight.b * count.length / weight.typical_length;
    tf += weight.boost * count.count / norm;
  }
  return tf <= 0 ? 0 : tf * (k1 + 1) / (tf + k1);
}

double idf(int64_t indexed_videos, int64_t videos_with_term) {
  const double with_term = static_cast<double>(std::max<int64_t>(videos_with_term, 0));
  const double all = std::max(static_cast<double>(indexed_videos), with_term);
  return std::log(1 + (all - with_term + 0.5) / (with_term + 0.5));
}

const std::string_view idf_lua = R"lua(
local function idf(indexed_videos, videos_with_term)
  local with_term = math.max(videos_with_term, 0)
  local all = math.max(indexed_videos, with_term)
  return math.log(1 + (all - with_term + 0.5) / (with_term + 0.5))
end
)lua";

bool preferred_word(std::string_view a, std::string_view b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

std::vector<TermEntry> video_terms(const catalog::Video& video, std::string_view channel_display_name) {
  search::Analyzer& analyzer = search::thread_analyzer();
  std::string channel = video.channel_name;
  if (channel_display_name != video.channel_name) {
    channel += ' ';
    channel += channel_display_name;
  }
  struct Counts {
    std::vector<FieldCount> fields;
    std::string word;
  };
  std::map<std::string, Counts> counts;
  std::string tags = joined(video.tags);
  std::string categories = joined(video.categories);
  const std::pair<Field, std::string_view> texts[] = {{Field::title, video.title},
                                                      {Field::tags, tags},
                                                      {Field::categories, categories},
                                                      {Field::channel, channel},
                                                      {Field::description, video.description}};
  for (const auto& [field, text] : texts) {
    search::FieldTerms terms = analyzer.index_terms(text);
    for (const search::TermCount& term : terms.terms) {
      Counts& of_term = counts[term.term];
      of_term.fields.push_back({field, term.count, terms.length});
      const std::string_view word = term.folded.empty() ? std::string_view(term.term) : term.folded;
      if (of_term.word.empty() || preferred_word(word, of_term.word)) of_term.word = word;
    }
  }
  std::vector<TermEntry> entries;
  entries.reserve(counts.size());
  for (auto& [term, of_term] : counts)
    entries.push_back({term, term_weight(of_term.fields), std::move(of_term.word)});
  if (entries.size() > max_terms_per_video) {
    std::sort(entries.begin(), entries.end(), [](const TermEntry& a, const TermEntry& b) {
      return a.weight != b.weight ? a.weight > b.weight : a.term < b.term;
    });
    entries.resize(max_terms_per_video);
    std::sort(entries.begin(), entries.end(),
              [](const TermEntry& a, const TermEntry& b) { return a.term < b.term; });
  }
  return entries;
}

std::string encode_record(const std::vector<TermEntry>& entries) {
  std::vector<std::string> terms;
  terms.reserve(entries.size());
  for (const TermEntry& entry : entries) terms.push_back(entry.term);
  return joined(terms);
}

redis::Command unindex_command(int64_t video_id) {
  return unindex_script().eval_command(
      {keys::search_record(video_id), std::string(keys::search_videos()),
       std::string(keys::search_dictionary()), std::string(keys::search_words())},
      {std::string(keys::search_term_prefix()), std::to_string(video_id)});
}

std::vector<redis::Command> index_commands(const catalog::Video& video,
                                           std::string_view channel_display_name) {
  const std::vector<TermEntry> entries = video_terms(video, channel_display_name);
  std::vector<redis::Command> commands;
  commands.reserve(entries.size() + 4);
  commands.push_back(unindex_command(video.id));
  std::vector<std::string> dictionary_args{std::string(keys::search_term_prefix())};
  dictionary_args.reserve(1 + 2 * entries.size());
  for (const TermEntry& entry : entries) {
    commands.emplace_back("ZADD", keys::search_term(entry.term), entry.weight, video.id);
    dictionary_args.push_back(entry.term);
    dictionary_args.push_back(entry.word);
  }
  commands.emplace_back("SET", keys::search_record(video.id), encode_record(entries));
  commands.emplace_back("INCR", keys::search_videos());
  if (!entries.empty()) {
    commands.push_back(dictionary_script().eval_command(
        {std::string(keys::search_dictionary()), std::string(keys::search_words())},
        std::move(dictionary_args)));
  }
  return commands;
}

}  // namespace reel::projection::search_index
