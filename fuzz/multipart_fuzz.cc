// Fuzzes upload/multipart.h: boundary_from_content_type on any Content-Type, and parse_multipart on
// any body (written to a scratch file, since the parser reads files).
// Invariants: a boundary is 1 to 70 characters; each part has a name, its range lies inside the
// body, after the previous part's, holds no delimiter and is followed by one; a text field's value
// is the bytes of its range; and the scanner finds the same parts whatever its chunk size (a
// delimiter split across two chunks is found), so a parse with tiny chunks equals a one-chunk one.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "check.h"
#include "upload/multipart.h"

namespace {

using reel::upload::Part;

bool same_parts(const std::vector<Part>& a, const std::vector<Part>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].filename != b[i].filename || a[i].content_type != b[i].content_type ||
        a[i].value != b[i].value || !(a[i].range == b[i].range)) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reel::upload;
  FuzzedDataProvider input(data, size);
  const size_t small_chunk = input.ConsumeIntegralInRange<size_t>(1, 64);
  const std::string content_type = input.ConsumeRandomLengthString(128);
  const std::string body = input.ConsumeRemainingBytesAsString();

  const auto boundary = boundary_from_content_type(content_type);
  if (boundary) FUZZ_CHECK(!boundary->empty() && boundary->size() <= 70);

  static const std::string path = (reel::fuzz::scratch_dir() / "body").string();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(body.data(), static_cast<std::streamsize>(body.size()));

  // One chunk holds the whole body (as the default 1 MiB does, without allocating it per input).
  MultipartLimits limits;
  limits.scan_chunk_bytes = std::max<size_t>(body.size(), 1);
  const auto parts = parse_multipart(path, content_type, limits);
  MultipartLimits small = limits;
  small.scan_chunk_bytes = small_chunk;
  const auto parts_in_small_chunks = parse_multipart(path, content_type, small);
  FUZZ_CHECK(parts.ok() == parts_in_small_chunks.ok());
  if (!parts) return 0;
  FUZZ_CHECK(boundary.ok());
  FUZZ_CHECK(same_parts(*parts, *parts_in_small_chunks));
  FUZZ_CHECK(parts->size() <= limits.max_parts);

  const std::string delimiter = "\r\n--" + *boundary;
  uint64_t previous_end = 0;
  for (const Part& part : *parts) {
    FUZZ_CHECK(!part.name.empty());
    FUZZ_CHECK(part.range.offset >= previous_end);
    FUZZ_CHECK(part.range.offset <= body.size() && part.range.length <= body.size() - part.range.offset);
    const std::string_view content = std::string_view(body).substr(part.range.offset, part.range.length);
    FUZZ_CHECK(content.find(delimiter) == std::string_view::npos);
    FUZZ_CHECK(std::string_view(body).substr(part.range.offset + part.range.length).starts_with(delimiter));
    if (part.is_file()) {
      FUZZ_CHECK(part.value.empty());
    } else {
      FUZZ_CHECK(part.value == content && part.value.size() <= limits.max_field_bytes);
    }
    previous_end = part.range.offset + part.range.length;
  }
  return 0;
}
