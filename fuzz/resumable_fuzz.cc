// Fuzzes the resumable upload protocol's parsing and bookkeeping (upload/resumable.h): the
// Upload-Length and Upload-Offset header values (parse_upload_number), session ids as they come in
// the URL (valid_id, find), and a session driven by a fuzzed sequence of PATCHes, as the router
// drives it, against a model of what it must hold.
// Invariants: a parsed number prints back as its header value (leading zeros aside) and every
// other value is refused; an id that is not 32 lowercase hex digits finds nothing; an append is
// stored exactly when its offset is the session's and it fits the total, else the answer says
// why and carries the session's offset; find() reports the model's offset; a complete session is
// taken out holding exactly the appended bytes, in order.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "check.h"
#include "common/clock.h"
#include "upload/resumable.h"

namespace {

using namespace reel::upload;

// The header value with its leading zeros dropped ("0" stays), or "" when it is not all digits.
std::string canonical_number(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return "";
  const size_t first = text.find_first_not_of('0');
  return first == std::string_view::npos ? "0" : std::string(text.substr(first));
}

void check_number(std::string_view text) {
  const auto value = parse_upload_number(text);
  const std::string canonical = canonical_number(text);
  // 2^64 - 1 has 20 digits: longer digit strings overflow, shorter ones never do.
  if (canonical.empty() || canonical.size() > 20) {
    FUZZ_CHECK(!value);
  } else if (value) {
    FUZZ_CHECK(std::to_string(*value) == canonical);
  } else {
    FUZZ_CHECK(canonical.size() == 20 && canonical > "18446744073709551615");
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const reel::ManualClock clock(1'795'867'200);
  static ResumableStore store(ResumableOptions{reel::fuzz::scratch_dir() / "sessions", 1 << 20}, clock);
  static const bool opened = store.open().ok();
  FUZZ_CHECK(opened);
  const std::string body_path = (reel::fuzz::scratch_dir() / "body").string();
  const std::string taken_path = (reel::fuzz::scratch_dir() / "taken").string();

  FuzzedDataProvider input(data, size);
  const std::string stranger = input.ConsumeRandomLengthString(40);
  FUZZ_CHECK(ResumableStore::valid_id(stranger) ==
             (stranger.size() == 32 && stranger.find_first_not_of("0123456789abcdef") == std::string::npos));
  const auto nobody = store.find(stranger);
  FUZZ_CHECK(nobody.ok() && !*nobody);  // the store holds no session between inputs

  const std::string length_header = input.ConsumeRandomLengthString(24);
  check_number(length_header);
  const auto total = parse_upload_number(length_header);
  if (!total || *total == 0 || *total > store.options().max_total_bytes) return 0;
  const UploadMetadata metadata{"title", "", {"tag"}, "music", "user:1", "clip.mp4"};
  const auto id = store.create(*total, metadata);
  FUZZ_CHECK(id.ok() && ResumableStore::valid_id(*id));

  std::string received;  // the model: every byte the session has accepted
  while (input.remaining_bytes() > 0 && received.size() < *total) {
    const std::string offset_header = input.ConsumeRandomLengthString(24);
    check_number(offset_header);
    const std::string chunk = input.ConsumeRandomLengthString(64);
    const auto offset = parse_upload_number(offset_header);
    if (!offset) continue;  // the router answers 400
    std::ofstream(body_path, std::ios::binary | std::ios::trunc)
        .write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto appended = store.append_file(*id, *offset, body_path);
    FUZZ_CHECK(appended.ok());
    if (*offset != received.size()) {
      FUZZ_CHECK(appended->status == AppendStatus::offset_mismatch && appended->offset == received.size());
    } else if (chunk.size() > *total - received.size()) {
      FUZZ_CHECK(appended->status == AppendStatus::beyond_total && appended->offset == received.size());
    } else {
      received += chunk;
      FUZZ_CHECK(appended->status == AppendStatus::appended && appended->offset == received.size());
    }
    const auto found = store.find(*id);
    FUZZ_CHECK(found.ok() && *found && (*found)->offset == received.size() &&
               (*found)->total_bytes == *total);
    FUZZ_CHECK((*found)->metadata == metadata);
  }

  const auto taken = store.take(*id, taken_path);
  FUZZ_CHECK(taken.ok());
  if (received.size() == *total) {
    FUZZ_CHECK(taken->status == TakeStatus::taken && read_file(taken_path) == received);
    ::unlink(taken_path.c_str());
  } else {
    FUZZ_CHECK(taken->status == TakeStatus::incomplete);
    FUZZ_CHECK(store.cancel(*id).ok());
  }
  return 0;
}
