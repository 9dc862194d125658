#include "redis/protocol.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace reel::redis {
namespace {

// Replies larger than this leave hiredis's buffer allocated only until the next read.
constexpr size_t reader_max_idle_buffer = 256 * 1024;
// Elements an array reserves on its header; it grows as more arrive. An array's header alone must
// not allocate what it claims: "*2147483647\r\n" would ask for 150 GB (found by fuzz/resp).
constexpr size_t array_reserve_limit = 4096;

// Appends "<marker><n>\r\n", the header of a RESP array or bulk string.
void append_length(std::string& out, char marker, size_t n) {
  char buffer[24];
  buffer[0] = marker;
  auto [end, ec] = std::to_chars(buffer + 1, buffer + sizeof buffer - 2, n);
  *end++ = '\r';
  *end++ = '\n';
  out.append(buffer, static_cast<size_t>(end - buffer));
}

}  // namespace

Status append_command(std::string& out, const Command& command) {
  const auto& args = command.args();
  if (args.empty()) return Error{"redis command without arguments"};
  size_t size = 16;
  for (const auto& arg : args) size += arg.size() + 16;
  out.reserve(out.size() + size);
  append_length(out, '*', args.size());
  for (const auto& arg : args) {
    append_length(out, '$', arg.size());
    out.append(arg);
    out.append("\r\n", 2);
  }
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
    // Elements arrive in order, each after the previous one is complete, so growing the parent
    // moves only finished siblings; the parent itself, which hiredis holds, stays where it is.
    std::vector<Reply>& elements = static_cast<Reply*>(task->parent->obj)->elements_;
    const auto index = static_cast<size_t>(task->idx);
    if (elements.size() <= index) elements.resize(index + 1);
    slot = &elements[index];
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
  std::vector<Reply> reserved;
  reserved.reserve(std::min(static_cast<size_t>(elements), array_reserve_limit));
  return place(task, Reply::make_array(std::move(reserved)));
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
