// A ReadModel held in memory for router tests: answers from fixed values, or fails like an
// unreachable Redis when `available` is false. Records the last listing and search queries.
#pragma once

#include <map>

#include "projection/read_model.h"
#include "search/analyzer.h"

namespace reel::app::testing {

class FakeReadModel final : public projection::ReadModel {
 public:
  bool available = true;
  projection::Home home_value;
  projection::Listing listing_value;
  std::map<int64_t, projection::VideoPage> videos;
  projection::ListQuery last_query;

  Task<Result<std::shared_ptr<const projection::Home>>> home() override {
    if (!available) co_return Error{"redis unavailable"};
    co_return std::make_shared<const projection::Home>(home_value);
  }
  Task<Result<std::shared_ptr<const projection::Listing>>> listing(
      const projection::ListQuery& query) override {
    last_query = query;
    if (!available) co_return Error{"redis unavailable"};
    co_return std::make_shared<const projection::Listing>(listing_value);
  }
  projection::SearchResults search_value;
  projection::SearchQuery last_search;
  Task<Result<std::shared_ptr<const projection::SearchResults>>> search(
      const projection::SearchQuery& query) override {
    last_search = query;
    if (!available) co_return Error{"redis unavailable"};
    // The query's terms, analyzed as the Redis read model's planner does.
    projection::SearchResults results = search_value;
    results.terms = search::thread_analyzer().parse_query(query.text).required_terms();
    co_return std::make_shared<const projection::SearchResults>(std::move(results));
  }
  Task<Result<std::optional<projection::VideoPage>>> video(int64_t id) override {
    if (!available) co_return Error{"redis unavailable"};
    auto it = videos.find(id);
    if (it == videos.end()) co_return std::optional<projection::VideoPage>{};
    co_return std::optional<projection::VideoPage>{it->second};
  }
  Task<Result<bool>> video_exists(int64_t id) override {
    if (!available) co_return Error{"redis unavailable"};
    co_return videos.contains(id);
  }
  std::map<int64_t, projection::UploadStatus> uploads;
  Task<Result<std::optional<projection::UploadStatus>>> upload_status(int64_t id) override {
    if (!available) co_return Error{"redis unavailable"};
    auto it = uploads.find(id);
    if (it == uploads.end()) co_return std::optional<projection::UploadStatus>{};
    co_return std::optional<projection::UploadStatus>{it->second};
  }
  Task<bool> ready() override { co_return available; }
};

}  // namespace reel::app::testing
