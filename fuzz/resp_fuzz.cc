// Fuzzes the Redis wire protocol (redis/protocol.h): ReplyReader on any byte stream from a server,
// fed in fuzzed pieces, and append_command on any arguments.
// Invariants: a stream parses to the same replies whatever pieces it arrives in (one at once, or
// split at fuzzed points), and once the reader has reported a protocol error it stays failed;
// a command formatted by append_command reads back, as a RESP array of bulk strings, to exactly
// its arguments, binary bytes and CRLFs included.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <string>
#include <vector>

#include "check.h"
#include "redis/protocol.h"

namespace {

using reel::redis::Command;
using reel::redis::Reply;
using reel::redis::ReplyReader;

bool same(const Reply& a, const Reply& b) {
  if (a.type() != b.type() || a.str() != b.str() || a.integer() != b.integer() ||
      a.elements().size() != b.elements().size()) {
    return false;
  }
  for (size_t i = 0; i < a.elements().size(); ++i) {
    if (!same(a.elements()[i], b.elements()[i])) return false;
  }
  return true;
}

// The replies of `stream` fed in pieces that end at `cuts`; `failed` tells whether it was not RESP.
std::vector<Reply> read_all(std::string_view stream, const std::vector<size_t>& cuts, bool& failed) {
  ReplyReader reader;
  std::vector<Reply> replies;
  failed = false;
  size_t fed = 0;
  auto drain = [&] {
    for (;;) {
      auto next = reader.next();
      if (!next) {
        failed = true;
        return;
      }
      if (!*next) return;
      replies.push_back(std::move(**next));
    }
  };
  for (size_t cut : cuts) {
    cut = std::min(std::max(cut, fed), stream.size());
    if (!reader.feed(stream.substr(fed, cut - fed)).ok()) {
      failed = true;
      return replies;
    }
    fed = cut;
    drain();
    if (failed) {
      FUZZ_CHECK(!reader.next().ok());  // the reader stays failed
      return replies;
    }
  }
  return replies;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  std::vector<size_t> cuts;
  const size_t pieces = input.ConsumeIntegralInRange<size_t>(0, 8);
  for (size_t i = 0; i < pieces; ++i) cuts.push_back(input.ConsumeIntegralInRange<size_t>(0, 512));
  std::sort(cuts.begin(), cuts.end());
  const std::string stream = input.ConsumeRemainingBytesAsString();
  cuts.push_back(stream.size());

  bool failed_whole = false;
  bool failed_split = false;
  const std::vector<Reply> whole = read_all(stream, {stream.size()}, failed_whole);
  const std::vector<Reply> split = read_all(stream, cuts, failed_split);
  FUZZ_CHECK(failed_whole == failed_split);
  FUZZ_CHECK(whole.size() == split.size());
  for (size_t i = 0; i < whole.size(); ++i) FUZZ_CHECK(same(whole[i], split[i]));

  // The same bytes as the arguments of a command: cut at NUL bytes (the arguments may hold CRLFs).
  Command command;
  size_t start = 0;
  for (size_t nul = stream.find('\0'); start <= stream.size(); nul = stream.find('\0', start)) {
    command.arg(
        std::string_view(stream).substr(start, nul == std::string::npos ? std::string::npos : nul - start));
    if (nul == std::string::npos) break;
    start = nul + 1;
  }
  std::string formatted;
  FUZZ_CHECK(reel::redis::append_command(formatted, command).ok());
  bool failed = false;
  const std::vector<Reply> read_back = read_all(formatted, {formatted.size()}, failed);
  FUZZ_CHECK(!failed && read_back.size() == 1 && read_back[0].is_array());
  const std::vector<Reply>& arguments = read_back[0].elements();
  FUZZ_CHECK(arguments.size() == command.args().size());
  for (size_t i = 0; i < arguments.size(); ++i) {
    FUZZ_CHECK(arguments[i].type() == Reply::Type::string && arguments[i].str() == command.args()[i]);
  }
  FUZZ_CHECK(!reel::redis::append_command(formatted, Command()).ok());
  return 0;
}
