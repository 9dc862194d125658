#include "projection/suggest_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "projection/keys.h"
#include "projection/search_index.h"

namespace reel::projection {
namespace {

// Terms per ZREVRANGE and HMGET: short enough that no one command holds Redis for long.
constexpr size_t chunk = 2'000;

// The member, score pairs of a ZREVRANGE ... WITHSCORES reply (flat, as RESP2 sends them, or as
// pairs); nullopt for anything else.
std::optional<std::vector<std::pair<std::string, double>>> scored_members(const redis::Reply& reply) {
  if (!reply.is_array()) return std::nullopt;
  std::vector<std::pair<std::string, double>> members;
  const auto& elements = reply.elements();
  if (!elements.empty() && elements.front().is_array()) {
    for (const auto& pair : elements) {
      if (pair.elements().size() != 2) return std::nullopt;
      members.emplace_back(std::string(pair.elements()[0].str()), pair.elements()[1].number());
    }
    return members;
  }
  if (elements.size() % 2 != 0) return std::nullopt;
  for (size_t i = 0; i < elements.size(); i += 2)
    members.emplace_back(std::string(elements[i].str()), elements[i + 1].number());
  return members;
}

Error unexpected(std::string_view what, const redis::Reply& reply) {
  return Error{fmt::format("suggestions: unexpected reply to {}: {}", what,
                           reply.is_error() ? reply.str() : std::string_view("not a list"))};
}

}  // namespace

SuggestSource::SuggestSource(redis::ConnectionOptions redis, SuggestSourceOptions options)
    : redis_options_(std::move(redis)),
      options_(std::move(options)),
      current_(std::make_shared<const search::Suggester>()) {}

SuggestSource::~SuggestSource() {
  thread_.reset();  // joined before redis_ goes
}

void SuggestSource::start() {
  if (thread_) return;
  // At idle priority: a refresh costs ~180 ms of CPU (docs/benchmarks.md), which at normal priority
  // took that long from the event loops sharing its core once a minute (§24).
  thread_.emplace(
      options_.interval,
      [this] {
        if (Status refreshed = refresh(); !refreshed) spdlog::warn("{}", refreshed.error().message);
        return true;
      },
      PeriodicThread::Options{.idle_priority = true});
  thread_->wake();
}

Status SuggestSource::refresh() {
  auto built = read();
  if (!built) return built.error();
  current_.store(std::make_shared<const search::Suggester>(std::move(*built)), std::memory_order_release);
  return {};
}

Result<search::Suggester> SuggestSource::read() {
  if (!redis_) {
    auto connected = redis::BlockingClient::connect(redis_options_);
    if (!connected) return Error{"suggestions: " + connected.error().message};
    redis_.emplace(std::move(*connected));
  }
  // One round trip: the dictionary's top terms and the popular searches.
  std::vector<redis::Command> ranges;
  for (size_t from = 0; from < options_.dictionary_terms; from += chunk) {
    const size_t to = std::min(from + chunk, options_.dictionary_terms) - 1;
    ranges.emplace_back("ZREVRANGE", keys::search_dictionary(), from, to, "WITHSCORES");
  }
  if (options_.popular_searches > 0) {
    ranges.emplace_back("ZREVRANGE", keys::search_popular(), 0, options_.popular_searches - 1, "WITHSCORES");
  }
  auto replies = redis_->execute(std::move(ranges));
  if (!replies) return Error{"suggestions: " + replies.error().message};

  std::vector<search::DictionaryTerm> dictionary;
  std::vector<search::PopularSearch> popular;
  const size_t dictionary_replies = replies->size() - (options_.popular_searches > 0 ? 1 : 0);
  for (size_t i = 0; i < replies->size(); ++i) {
    auto members = scored_members((*replies)[i]);
    if (!members) return unexpected("ZREVRANGE", (*replies)[i]);
    for (auto& [member, score] : *members) {
      if (i < dictionary_replies)
        dictionary.push_back({std::move(member), {}, static_cast<int64_t>(score)});
      else
        popular.push_back({std::move(member), score});
    }
  }

  // The second: the shown word of each term, chunk by chunk.
  std::vector<redis::Command> lookups;
  for (size_t from = 0; from < dictionary.size(); from += chunk) {
    redis::Command command("HMGET", keys::search_words());
    for (size_t i = from; i < std::min(from + chunk, dictionary.size()); ++i) command.arg(dictionary[i].term);
    lookups.push_back(std::move(command));
  }
  if (!lookups.empty()) {
    auto words = redis_->execute(std::move(lookups));
    if (!words) return Error{"suggestions: " + words.error().message};
    size_t next = 0;
    for (const auto& reply : *words) {
      if (!reply.is_array()) return unexpected("HMGET", reply);
      // A term gone between the two round trips has no word: the Suggester leaves it out.
      for (const auto& word : reply.elements()) {
        if (next < dictionary.size() && !word.is_nil()) dictionary[next].word = word.str();
        ++next;
      }
    }
  }
  return search::Suggester::build(std::move(dictionary), std::move(popular), search::thread_analyzer(),
                                  options_.suggester);
}

}  // namespace reel::projection
