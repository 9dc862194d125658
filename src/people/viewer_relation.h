// A signed-in viewer's relation to one video, as the watch page's controls show it: their vote,
// whether the video is a favorite, whether they follow its channel, and their newest playlists,
// each saying whether it holds the video. Read in two pipelined round trips whatever the number
// of playlists (the vote hash, two ZSCOREs and the playlist ids; then the playlists' values and one
// ZSCORE per playlist), where one read per part cost four sequential ones and no "holds" at all.
//
// Thread-safety: runs on the Connection's event loop.
// Failure: an Error when Redis fails; the caller shows the controls unset.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/collections.h"
#include "common/asio.h"
#include "common/result.h"
#include "redis/connection.h"

namespace reel::people {

using catalog::ViewerRelation;

Task<Result<ViewerRelation>> read_viewer_relation(redis::Connection& redis, int64_t user_id, int64_t video_id,
                                                  std::string channel_name, int max_playlists);

}  // namespace reel::people
