#include "redis/protocol.h"

#include <hiredis/hiredis.h>

#include <array>
#include <cstdlib>
#include <vector>

namespace reel::redis {
namespace {

// Replies larger than this leave hiredis's buffer allocated only until the next read.
constexpr size_t reader_max_idle_buffer = 256 * 1024;
// Commands with at most this many arguments are formatted without a heap-allocated argv.
constexpr size_t inline_argument_count = 16;

}  // namespace

Status append_command(std::string& out, const Command& command) {
  const auto& args = command.args();
  if (args.empty()) return Error{"redis command without arguments"};

  std::array<const char*, inline_argument_count> inline_argv;
  std::array<size_t, inline_argument_count> inline_lengths;
  std::vector<const char*> heap_argv;
  std::vector<size_t> heap_lengths;
  const char** argv = inline_argv.data();
  size_t* lengths = inline_lengths.data();
  if (args.size() > inline_argument_count) {
    heap_argv.resize(args.size());
    heap_lengths.resize(args.size());
    argv = heap_argv.data();
    lengths = heap_lengths.data();
  }
  for (size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lengths[i] = args[i].size();
  }

  char* formatted = nullptr;
  int length = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), argv, lengths);
  if (length < 0) return Error{"redis command could not be formatted (out of memory)"};
  out.append(formatted, static_cast<size_t>(length));
  redisFreeCommand(formatted);
  return {};
}

ReplyReader::ReplyReader() {
  static redisReplyObjectFunctions functions = {&ReplyReader::create_string, &ReplyReader::create_array,
                                                &ReplyReader::create_integer, &ReplyReader::create_nil,
                                                &ReplyReader::free_object};
  reader_ = redisReaderCreateWithFunctions(&functions);
  if (reader_ == nullptr) std::abort();  // out of memory
  reader_->privdata = this;
  reader_->maxbuf = reader_max_idle_buffer;
}

ReplyReader::~ReplyReader() {
  redisReaderFree(reader_);
}

Status ReplyReader::feed(std::string_view bytes) {
  if (redisReaderFeed(reader_, bytes.data(), bytes.size()) != REDIS_OK) {
    return Error{std::string("redis protocol error: ") + reader_->errstr};
  }
  return {};
}

Result<std::optional<Reply>> ReplyReader::next() {
  void* reply = nullptr;
  if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
    return Error{std::string("redis protocol error: ") + reader_->errstr};
  }
  if (reply == nullptr) return std::optional<Reply>();
  return std::optional<Reply>(std::move(root_));
}

void* ReplyReader::place(const redisReadTask* task, Reply value) noexcept {
  Reply* slot;
  if (task->parent == nullptr) {
    slot = &static_cast<ReplyReader*>(task->privdata)->root_;
  } else {
    // Arrays are created with all their elements, so these addresses stay valid while parsing.
    slot = &static_cast<Reply*>(task->parent->obj)->elements_[static_cast<size_t>(task->idx)];
  }
  *slot = std::move(value);
  return slot;
}

void* ReplyReader::create_string(const redisReadTask* task, char* text, size_t length) noexcept {
  std::string s(text, length);
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      return place(task, Reply::make_error(std::move(s)));
    case REDIS_REPLY_STATUS:
      return place(task, Reply::make_status(std::move(s)));
    default:
      return place(task, Reply::make_string(std::move(s)));
  }
}

void* ReplyReader::create_array(const redisReadTask* task, int elements) noexcept {
  return place(task, Reply::make_array(std::vector<Reply>(static_cast<size_t>(elements))));
}

void* ReplyReader::create_integer(const redisReadTask* task, long long value) noexcept {
  return place(task, Reply::make_integer(value));
}

void* ReplyReader::create_nil(const redisReadTask* task) noexcept {
  return place(task, Reply::make_nil());
}

// Every object lives inside root_, which the ReplyReader owns, so there is nothing to free.
void ReplyReader::free_object(void*) noexcept {}

}  // namespace reel::redis
