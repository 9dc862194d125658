// Fuzzes media/file_server.h's request parsing: the Range header (with If-Range, GET and HEAD) and
// the percent-encoded path, served by a FileServer over a scratch root that holds one file of
// fuzzed length; a file beside the root stands for everything a path must not reach.
// Invariants: the status is one the contract lists; a 206 carries a Content-Range "bytes a-b/size"
// inside the file and exactly those bytes; a 416 carries "bytes */size"; a 200 carries the whole
// file; a well-formed single range "bytes=a-b" or "bytes=a-" with a inside the file is always
// served as 206, and "bytes=-n" as the last n bytes; nothing outside the root is ever served.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <string>

#include "check.h"
#include "media/file_server.h"

namespace {

namespace fs = std::filesystem;
using reel::http::Request;
using reel::http::Response;

const std::string secret = "outside the root";

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::optional<uint64_t> number(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The bytes a response sends: its body, or its FileRange read back.
std::string sent_bytes(const Response& response) {
  if (!response.file) return response.body;
  std::string bytes(response.file->length, '\0');
  const ssize_t got =
      ::pread(response.file->fd, bytes.data(), bytes.size(), static_cast<off_t>(response.file->offset));
  FUZZ_CHECK(got >= 0 && static_cast<size_t>(got) == bytes.size());
  return bytes;
}

// The range a simple, well-formed single Range header must be served as: nullopt when the header
// is not of the forms the oracle knows ("bytes=a-b", "bytes=a-", "bytes=-n", digits only).
struct Expected {
  uint64_t first;
  uint64_t length;
};
std::optional<Expected> simple_range(std::string_view header, uint64_t size) {
  if (!header.starts_with("bytes=")) return std::nullopt;
  header.remove_prefix(6);
  const size_t dash = header.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view first_text = header.substr(0, dash);
  const std::string_view last_text = header.substr(dash + 1);
  if (first_text.empty()) {
    const auto suffix = number(last_text);
    if (!suffix || *suffix == 0 || size == 0) return std::nullopt;
    const uint64_t length = std::min(*suffix, size);
    return Expected{size - length, length};
  }
  const auto first = number(first_text);
  if (!first || *first >= size) return std::nullopt;
  if (last_text.empty()) return Expected{*first, size - *first};
  const auto last = number(last_text);
  if (!last || *last < *first) return std::nullopt;
  return Expected{*first, std::min(*last, size - 1) - *first + 1};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path root = reel::fuzz::scratch_dir() / "root";
  static const reel::media::FileServer& server = *[] {
    fs::create_directories(root / "sub");
    write_file(reel::fuzz::scratch_dir() / "secret", secret);
    write_file(root / "sub" / "b.txt", "b");
    static auto opened = reel::media::FileServer::open({root.string(), "public", 16});
    FUZZ_CHECK(opened.ok());
    return &*opened;
  }();

  FuzzedDataProvider input(data, size);
  const bool head = input.ConsumeBool();
  const uint8_t if_range_kind = input.ConsumeIntegralInRange<uint8_t>(0, 2);  // none, the ETag, fuzzed
  const std::string path = input.ConsumeRandomLengthString(64);
  const std::string range = input.ConsumeRandomLengthString(64);
  const std::string if_range = input.ConsumeRandomLengthString(32);
  const std::string content = input.ConsumeRemainingBytesAsString();
  write_file(root / "a.bin", content);

  Request request;
  request.method = "GET";
  const Response plain = server.serve(request, "a.bin");
  FUZZ_CHECK(plain.status == 200 && sent_bytes(plain) == content);
  request.method = head ? "HEAD" : "GET";
  request.headers.push_back({"Range", range});
  if (if_range_kind == 1) request.headers.push_back({"If-Range", std::string(*plain.header("ETag"))});
  if (if_range_kind == 2) request.headers.push_back({"If-Range", if_range});

  // The fuzzed path: whatever it names, it serves bytes of the files inside the root only.
  const Response other = server.serve(request, path);
  FUZZ_CHECK(other.status == 200 || other.status == 206 || other.status == 404 || other.status == 416);
  if (other.status == 200 || other.status == 206) {
    const std::string other_sent = sent_bytes(other);
    FUZZ_CHECK(content.find(other_sent) != std::string::npos || other_sent == "b" || other_sent.empty());
  }

  const Response response = server.serve(request, "a.bin");
  const std::string sent = sent_bytes(response);
  // A fuzzed If-Range may name the file's own ETag or Last-Modified (the fuzzer copies compared
  // values): then it matches, as the server's exact comparison says.
  const bool fuzzed_matches =
      if_range == plain.header("ETag").value_or("") || if_range == plain.header("Last-Modified").value_or("");
  const bool range_applies = !head && (if_range_kind != 2 || fuzzed_matches);
  const auto expected = simple_range(range, content.size());
  if (range_applies && expected) FUZZ_CHECK(response.status == 206);
  switch (response.status) {
    case 200:
      FUZZ_CHECK(sent == content && !response.header("Content-Range"));
      break;
    case 206: {
      FUZZ_CHECK(!head);
      const std::string_view content_range = response.header("Content-Range").value_or("");
      FUZZ_CHECK(content_range.starts_with("bytes "));
      const size_t dash = content_range.find('-');
      const size_t slash = content_range.find('/');
      FUZZ_CHECK(dash != std::string_view::npos && slash != std::string_view::npos && dash < slash);
      const auto first = number(content_range.substr(6, dash - 6));
      const auto last = number(content_range.substr(dash + 1, slash - dash - 1));
      FUZZ_CHECK(number(content_range.substr(slash + 1)) == content.size());
      FUZZ_CHECK(first && last && *first <= *last && *last < content.size());
      FUZZ_CHECK(sent == content.substr(*first, *last - *first + 1));
      if (expected) FUZZ_CHECK(*first == expected->first && *last - *first + 1 == expected->length);
      break;
    }
    case 416:
      FUZZ_CHECK(range_applies && !expected);
      FUZZ_CHECK(response.header("Content-Range") == "bytes */" + std::to_string(content.size()));
      break;
    default:
      FUZZ_CHECK(!"an unexpected status");
  }
  return 0;
}
