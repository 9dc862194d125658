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

// Members per ZREVRANGE and HMGET: each holds Redis about half a millisecond (docs/benchmarks.md §18).
constexpr size_t chunk = 1'000;

using ScoredMembers = std::vector<std::pair<std::string, double>>;

// The member, score pairs of a ZREVRANGE ... WITHSCORES reply (flat, as RESP2 sends them, or as
// pairs); nullopt for anything else.
std::optional<ScoredMembers> scored_members(const redis::Reply& reply) {
  if (!reply.is_array()) return std::nullopt;
  ScoredMembers members;
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

// Members [from, from + chunk) of the sorted set `key`, highest score first, capped at `limit`
// overall: one round trip.
Result<ScoredMembers> read_chunk(redis::BlockingClient& redis, std::string_view key, size_t from,
                                 size_t limit) {
  const size_t to = std::min(from + chunk, limit) - 1;
  redis::Command range("ZREVRANGE", key, from, to, "WITHSCORES");
  auto reply = redis.execute(std::move(range));
  if (!reply) return Error{"suggestions: " + reply.error().message};
  auto members = scored_members(*reply);
  if (!members) return unexpected("ZREVRANGE", *reply);
  return std::move(*members);
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
  // One chunk per round trip, never a pipeline of them: Redis runs a client's pipelined commands
  // back to back, so 100,000 terms sent at once held it 41-64 ms for every other client
  // (docs/benchmarks.md §25).
  std::vector<search::DictionaryTerm> dictionary;
  while (dictionary.size() < options_.dictionary_terms) {
    auto members =
        read_chunk(*redis_, keys::search_dictionary(), dictionary.size(), options_.dictionary_terms);
    if (!members) return members.error();
    if (members->empty()) break;

    // The shown word of each term of the chunk. A term gone between the two round trips has no
    // word: the Suggester leaves it out.
    redis::Command lookup("HMGET", keys::search_words());
    for (const auto& [term, count] : *members) lookup.arg(term);
    auto words = redis_->execute(std::move(lookup));
    if (!words) return Error{"suggestions: " + words.error().message};
    if (!words->is_array() || words->elements().size() != members->size()) return unexpected("HMGET", *words);
    for (size_t i = 0; i < members->size(); ++i) {
      auto& [term, count] = (*members)[i];
      const auto& word = words->elements()[i];
      dictionary.push_back({std::move(term), word.is_nil() ? std::string() : std::string(word.str()),
                            static_cast<int64_t>(count)});
    }
    if (members->size() < chunk) break;  // the dictionary's end
  }

  std::vector<search::PopularSearch> popular;
  while (popular.size() < options_.popular_searches) {
    auto members = read_chunk(*redis_, keys::search_popular(), popular.size(), options_.popular_searches);
    if (!members) return members.error();
    for (auto& [query, score] : *members) popular.push_back({std::move(query), score});
    if (members->size() < chunk) break;
  }
  return search::Suggester::build(std::move(dictionary), std::move(popular), search::thread_analyzer(),
                                  options_.suggester);
}

}  // namespace reel::projection
