// Journal: what makes `reel views --stream` count each event of the views stream exactly once,
// across a crash (SIGKILL, OOM, a lost machine) of the aggregator, not only a clean stop.
//
// The aggregator merges events in memory and applies them in chunks (views/flush.h); a crash
// loses what is merged but not applied. With the stream as input nothing needs to be lost: each
// partition keeps a cursor in views:cursors, the id of the last entry whose views are applied, and
// a restarted aggregator reads again from there (views/source.h). The cursor must move together
// with the views it covers, and one generation of chunks (everything sealed at once) is several
// script calls, any of which may be the last to run before a crash. So before its first chunk is
// sent, a generation is committed, in one script: the cursor moves to where the stream had been
// read when the generation was sealed, and the generation itself (its video increments, with
// their tokens, and its search increments) is stored in views:gen:{partition}. A restarted aggregator loads
// that generation back into flight before it seals anything new; each chunk's token makes the flush script
// skip the chunks that were applied before the crash (ChunkResult::replayed) and apply the others. Once every
// chunk of a generation is applied the key is removed (a commit with no chunks), and while nothing is merged
// the cursor follows the stream, so a restart rereads at most what was merged.
//
// The same commit trims the stream to the slowest partition's cursor (XTRIM MINID ~), so entries
// stay until every aggregator has applied them, and no longer. A partition without a cursor
// starts at the stream's start, and says so (cursor "0-0") before it reads: a partition that had
// read entries but not yet committed once, killed, found them trimmed by the others' commits
// (cluster_failure_test lost them 1 run in 4).
//
// Limits, each documented where the operator sees it:
//  - co-view pairs are not journaled (a relatedness signal, not a count anyone reads): pairs
//    sealed but not applied at a crash are lost, and so is the co-view session state;
//  - the dedupe table is memory only: after a restart, a viewer seen just before the crash and
//    again just after is counted twice (each event is still counted at most once);
//  - SQL's daily rows: a restored chunk that turns out to have been applied adds no daily rows
//    (they are likely in SQL already), so SQL may miss the views applied in the last SQL-write
//    interval before a crash, as it did before; the counts in Redis are exact.
//  - the guarantee holds while chunk tokens live (FlushOptions::token_ttl_seconds, a day): an
//    aggregator restarted after longer could apply a stored generation's chunks again.
//
// Thread-safety: a StreamJournal is used on the flusher's event loop; the functions are pure.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "redis/command.h"
#include "redis/reply.h"
#include "views/aggregator.h"
#include "views/source.h"

namespace reel::views {

// A generation's video and search chunks as text, and back: "c <token> <trend_ref>" per chunk, then
// "v <id> <day> <views> <trend>" per video increment or "s <searches> <trend> <query>" per search
// increment (the query in the search line's encoding, views/event.h), a line each (the trend as
// the shortest text that reads back to the same double). Chunks of co-view pairs are left out.
std::string encode_generation(const std::vector<FlushChunk>& chunks);
// An Error naming the line for text that encode_generation() did not write.
Result<std::vector<FlushChunk>> decode_generation(std::string_view text);

// What a restarted aggregator finds of its partition in Redis.
struct JournalState {
  std::string cursor;              // "0-0" when the partition has none yet
  std::vector<FlushChunk> chunks;  // the stored generation (empty: none)
};

class StreamJournal {
 public:
  // `partition` names the cursor ("I/N"); `position` is the stream source's (views/source.h).
  StreamJournal(std::string partition, std::shared_ptr<const StreamPosition> position);

  // Where the stream source has read to (empty until it has read the cursor).
  const std::string& position() const { return position_->last_id; }

  // HGET of the cursor and GET of the generation, in this order; read_state() parses their
  // replies (an Error for an error reply or a generation that does not decode).
  std::vector<redis::Command> read_commands() const;
  static Result<JournalState> read_state(const redis::Reply& cursor, const redis::Reply& generation);

  // The commit script's call: the cursor becomes `cursor`, the stored generation `chunks` (removed
  // when none), and the stream is trimmed to the slowest cursor. EVAL after a NOSCRIPT.
  redis::Command commit(std::string_view cursor, const std::vector<FlushChunk>& chunks,
                        bool eval = false) const;

 private:
  std::string partition_;
  std::shared_ptr<const StreamPosition> position_;
};

}  // namespace reel::views
