// Catalog seeding: the demo catalog `reel up` puts into an empty store, and synthetic catalogs
// of any size for benchmarks (`reel seed --videos N`), written through SQL (a rebuild then
// projects them into Redis). Deterministic for a given seed value.
// Failure: the first SQL error; the caller's transaction handling decides what stays.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/result.h"
#include "seed/demo_media.h"
#include "sql/catalog_store.h"

namespace reel::seed {

// Creates the categories every catalog uses (idempotent).
Status ensure_categories(sql::CatalogStore& store);

// Inserts the demo catalog: 24+ videos across several categories and channels, with view
// history, all playing one of `clips`. `now` is Unix seconds.
Status insert_demo_catalog(sql::CatalogStore& store, const std::vector<Clip>& clips, int64_t now);

struct SyntheticOptions {
  int64_t videos = 1000;
  uint64_t seed = 1;
  int64_t now = 0;
  std::function<void(int64_t done, int64_t total)> progress;
};

// Inserts `videos` synthetic videos (realistic titles, skewed views, 3-5 tags, 1-2 categories,
// recent daily views for the popular ones), committing in batches.
Status insert_synthetic(sql::CatalogStore& store, const std::vector<Clip>& clips,
                        const SyntheticOptions& options);

}  // namespace reel::seed
