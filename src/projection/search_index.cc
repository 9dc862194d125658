#include "projection/search_index.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "projection/keys.h"
#include "redis/script.h"

namespace reel::projection::search_index {
namespace {

// KEYS[1] = sx:{id}, KEYS[2] = search:videos; ARGV[1] = the term prefix, ARGV[2] = the id.
const redis::Script& unindex_script() {
  static const redis::Script script(R"lua(
local terms = redis.call('GET', KEYS[1])
if not terms then return 0 end
for term in string.gmatch(terms, '%S+') do redis.call('ZREM', ARGV[1] .. term, ARGV[2]) end
redis.call('DEL', KEYS[1])
redis.call('DECR', KEYS[2])
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

search::Analyzer& thread_analyzer() {
  return search::thread_analyzer();
}

std::vector<TermEntry> video_terms(const catalog::Video& video, std::string_view channel_display_name) {
  search::Analyzer& analyzer = thread_analyzer();
  std::string channel = video.channel_name;
  if (channel_display_name != video.channel_name) {
    channel += ' ';
    channel += channel_display_name;
  }
  std::map<std::string, std::vector<FieldCount>> counts;
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
      counts[term.term].push_back({field, term.count, terms.length});
    }
  }
  std::vector<TermEntry> entries;
  entries.reserve(counts.size());
  for (const auto& [term, by_field] : counts) entries.push_back({term, term_weight(by_field)});
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
  return unindex_script().eval_command({keys::search_record(video_id), std::string(keys::search_videos())},
                                       {std::string(keys::search_term_prefix()), std::to_string(video_id)});
}

std::vector<redis::Command> index_commands(const catalog::Video& video,
                                           std::string_view channel_display_name) {
  const std::vector<TermEntry> entries = video_terms(video, channel_display_name);
  std::vector<redis::Command> commands;
  commands.reserve(entries.size() + 3);
  commands.push_back(unindex_command(video.id));
  for (const TermEntry& entry : entries)
    commands.emplace_back("ZADD", keys::search_term(entry.term), entry.weight, video.id);
  commands.emplace_back("SET", keys::search_record(video.id), encode_record(entries));
  commands.emplace_back("INCR", keys::search_videos());
  return commands;
}

}  // namespace reel::projection::search_index
