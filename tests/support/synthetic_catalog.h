// A synthetic catalog of any size for suites that need a realistic one (rebuild and view-count
// suites): seed::insert_synthetic with one clip whose files are never read, at the real time.
// Thread-safety: as the store. Failure: the store's first error.
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "seed/catalog_seed.h"

namespace reel::testing {

inline Status insert_synthetic_catalog(sql::CatalogStore& store, int64_t videos) {
  seed::Clip clip;
  clip.duration_s = 30;
  clip.files = {{"mp4", 360, "demo/a.mp4", 1, "video/mp4"}, {"thumb", 180, "demo/a.jpg", 1, "image/jpeg"}};
  seed::SyntheticOptions options;
  options.videos = videos;
  options.now = SystemClock().unix_seconds();
  return seed::insert_synthetic(store, {clip}, options);
}

}  // namespace reel::testing
