// The Redis wire protocol (RESP): append_command() writes a command as a RESP array of bulk
// strings (by hand: hiredis's redisFormatCommandArgv allocates and sprintf()s per argument, ~6 %
// of a listing page's CPU; see docs/benchmarks.md), ReplyReader parses a byte stream into Reply
// values with hiredis 0.14's reader. Both are binary-safe. Used by Connection; public so tests can check the
// bytes.
//
// Thread-safety: append_command() is thread-safe; a ReplyReader belongs to one stream and one
// thread at a time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "redis/command.h"
#include "redis/reply.h"

struct redisReader;
struct redisReadTask;

namespace reel::redis {

// Appends `command` in RESP to `out`. Fails (leaving `out` unchanged) for a command without
// arguments, which Redis would silently ignore and so desynchronize the reply stream.
Status append_command(std::string& out, const Command& command);

// Incremental RESP parser. Replies are built directly as Reply values (hiredis's reader with
// Reel's object functions), so no intermediate redisReply tree is allocated or copied.
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  // Buffers bytes received from the server. Fails only after a protocol error.
  Status feed(std::string_view bytes);
  // The next complete reply; nullopt when more bytes are needed; an Error when the stream is not
  // valid RESP (the reader is then unusable and the connection must be dropped).
  Result<std::optional<Reply>> next();

 private:
  static void* create_string(const ::redisReadTask* task, char* text, size_t length) noexcept;
  static void* create_array(const ::redisReadTask* task, int elements) noexcept;
  static void* create_integer(const ::redisReadTask* task, long long value) noexcept;
  static void* create_nil(const ::redisReadTask* task) noexcept;
  static void free_object(void* object) noexcept;
  // Stores `value` where the reader expects it (the root slot or its parent array's element) and
  // returns its address, which hiredis keeps as the parent of nested elements.
  static void* place(const ::redisReadTask* task, Reply value) noexcept;

  redisReader* reader_;
  Reply root_;  // the reply being built; moved out by next()
};

}  // namespace reel::redis
