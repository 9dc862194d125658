// Applying deltas to Redis: one script call per delta, which runs the delta's commands only when
// it is the object's next one, and records it as the object's watermark (keys::write_seq).
//
// The script answers per delta:
//   applied  — it was the next one (watermark = seq − 1, or no watermark and seq = 1, or `force`):
//              its commands ran, atomically, and the watermark is now seq;
//   already  — the watermark is at or past seq: it landed before (a retry, the relay after the
//              writer), nothing ran;
//   gap      — an earlier delta of the object has not landed: nothing ran; the relay applies the
//              object's rows from the watermark on, in order.
// A Redis error inside the script (a wrong type: a bug) answers `failed` with the message; the
// commands before the failing one may have run, and running the delta again is safe, as every
// delta is (transaction.h).
//
// Thread-safety: pure functions over an immutable script.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "redis/command.h"
#include "redis/reply.h"
#include "writes/transaction.h"

namespace reel::writes {

enum class Landing { applied, already, gap, failed };

struct ApplyReply {
  Landing landing = Landing::failed;
  int64_t watermark = 0;  // the object's watermark after the call
  std::string error;      // for failed
};

// EVALSHA (or EVAL, for a Redis that lost its script cache) of the apply script for one delta.
// `force` applies it even after a gap (the relay, when the rows in between are gone).
redis::Command apply_command(const Delta& delta, bool force, bool eval);

ApplyReply parse_apply_reply(const redis::Reply& reply);

// One apply_command per delta, in order (EVALSHA; EVAL with `eval`).
std::vector<redis::Command> apply_commands(const std::vector<Delta>& deltas, bool force, bool eval);

// True when Redis lacked the script for any of these replies: send the batch again with EVAL
// (safe: what landed answers `already`).
bool needs_eval(const std::vector<redis::Reply>& replies);

// True when every reply is applied or already.
bool all_landed(const std::vector<redis::Reply>& replies);

// True for an object of the sessions class (projection::account_keys::sessions_object: a user's
// sessions): its deltas, and its watermark, live on the sessions node when the site has one
// ([redis] sessions), else on the main Redis with everything else.
bool on_sessions_node(std::string_view object);

// The objects the deltas change, each once, sorted.
std::vector<std::string> objects_of(const std::vector<Delta>& deltas);

}  // namespace reel::writes
