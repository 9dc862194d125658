// multipart/form-data bodies written to files, parsed from disk.
#include "upload/multipart.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace reel::upload {
namespace {

namespace fs = std::filesystem;
using reel::testing::read_file;

constexpr std::string_view boundary = "----ReelBoundary7MA4YWxk";
const std::string content_type = "multipart/form-data; boundary=" + std::string(boundary);

std::string slice(const std::string& body, ByteRange range) {
  return body.substr(range.offset, range.length);
}

// One part as it goes on the wire: its header lines (CRLF-joined) and its content.
struct RawPart {
  std::string headers;
  std::string content;
};

std::string field(std::string_view name, std::string_view value) {
  return "--" + std::string(boundary) + "\r\nContent-Disposition: form-data; name=\"" + std::string(name) +
         "\"\r\n\r\n" + std::string(value) + "\r\n";
}

std::string form(const std::vector<RawPart>& parts) {
  std::string body;
  for (const RawPart& part : parts) {
    body += "--" + std::string(boundary) + "\r\n" + part.headers + "\r\n\r\n" + part.content + "\r\n";
  }
  return body + "--" + std::string(boundary) + "--\r\n";
}

std::string file_headers(std::string_view disposition_parameters, std::string_view type = "video/mp4") {
  return "Content-Disposition: form-data; name=\"file\"; " + std::string(disposition_parameters) +
         "\r\nContent-Type: " + std::string(type);
}

class Multipart : public ::testing::Test {
 protected:
  // Writes `body` to a file and parses it.
  Result<std::vector<Part>> parse(const std::string& body, const MultipartLimits& limits = {},
                                  const std::string& type = content_type) {
    body_path_ = (dir_.path() / "body").string();
    std::ofstream(body_path_, std::ios::binary | std::ios::trunc) << body;
    return parse_multipart(body_path_, type, limits);
  }

  // The error message of parsing `body`; fails the test when it parses.
  std::string error_of(const std::string& body, const MultipartLimits& limits = {}) {
    auto parts = parse(body, limits);
    EXPECT_FALSE(parts.ok()) << "parsed " << parts->size() << " parts";
    return parts.ok() ? "" : parts.error().message;
  }

  // The filename of a one-file form whose Content-Disposition ends with `parameters`.
  std::optional<std::string> filename_of(std::string_view parameters) {
    auto parts = parse(form({{file_headers(parameters), "x"}}));
    EXPECT_TRUE(parts.ok()) << parts.error().message;
    if (!parts.ok() || parts->size() != 1) return std::nullopt;
    return (*parts)[0].filename;
  }

  reel::testing::TempDir dir_;
  std::string body_path_;
};

TEST_F(Multipart, ReturnsTextFieldsAsValuesAndAFilePartAsARange) {
  // The file's bytes hold CRLFs, dashes, a near-boundary and NULs: only the full delimiter ends it.
  const std::string video = std::string("\0\x01mp4\r\n--", 9) + std::string(boundary.substr(0, 10)) +
                            "\r\n\r\n--x" + std::string(1000, '\xff') + "\r\n";
  const std::string body = "preamble to ignore\r\n" + field("title", "A title") +
                           field("description", "two\r\nlines") +
                           form({{file_headers("filename=\"clip.mp4\""), video}}) + "epilogue to ignore";
  auto parts = parse(body);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "title");
  EXPECT_EQ((*parts)[0].value, "A title");
  EXPECT_FALSE((*parts)[0].is_file());
  EXPECT_EQ((*parts)[0].content_type, "");
  EXPECT_EQ((*parts)[1].value, "two\r\nlines");
  const Part& file = (*parts)[2];
  EXPECT_TRUE(file.is_file());
  EXPECT_EQ(file.name, "file");
  EXPECT_EQ(file.filename, "clip.mp4");
  EXPECT_EQ(file.content_type, "video/mp4");
  EXPECT_EQ(file.value, "");
  EXPECT_EQ(slice(body, file.range), video);
  EXPECT_EQ(find_part(*parts, "file"), &file);
  EXPECT_EQ(find_part(*parts, "tags"), nullptr);

  const fs::path dest = dir_.path() / "video.mp4";
  auto copied = extract(body_path_, file.range, dest.string());
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(*copied, Copied::done);
  EXPECT_EQ(read_file(dest), video);
  struct stat status {};
  ASSERT_EQ(::stat(dest.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);
}

TEST_F(Multipart, ReturnsFilenamesAsGivenWhateverTheyHold) {
  EXPECT_EQ(filename_of("filename=\"my holiday clip.mp4\""), "my holiday clip.mp4");
  EXPECT_EQ(filename_of(R"(filename="a \"quoted\" name.mp4")"), "a \"quoted\" name.mp4");
  EXPECT_EQ(filename_of("filename=\"caf\xc3\xa9 \xe2\x82\xac.mp4\""), "caf\xc3\xa9 \xe2\x82\xac.mp4");
  EXPECT_EQ(filename_of("filename=\"-rf.mp4\""), "-rf.mp4");
  EXPECT_EQ(filename_of("filename=\"../../etc/passwd\""), "../../etc/passwd");
  EXPECT_EQ(filename_of(R"(filename="C:\Users\me\clip.mp4")"), R"(C:\Users\me\clip.mp4)");
  EXPECT_EQ(filename_of("filename=clip.mp4"), "clip.mp4");  // a token, unquoted
  EXPECT_EQ(filename_of("filename=\"\""), "");              // a file input left empty
  EXPECT_EQ(filename_of("filename=\"semi;colon.mp4\""), "semi;colon.mp4");
  // RFC 8187's filename* wins over filename, in UTF-8 or ISO-8859-1.
  EXPECT_EQ(filename_of("filename=\"rates.mp4\"; filename*=UTF-8''%E2%82%AC%20rates.mp4"),
            "\xe2\x82\xac rates.mp4");
  EXPECT_EQ(filename_of("filename*=utf-8'en'..%2F..%2Fx"), "../../x");
  EXPECT_EQ(filename_of("filename*=ISO-8859-1''caf%E9.mp4"), "caf\xc3\xa9.mp4");
}

TEST_F(Multipart, ReadsTheBoundaryFromTheContentType) {
  EXPECT_EQ(boundary_from_content_type("multipart/form-data; boundary=abc").value(), "abc");
  EXPECT_EQ(boundary_from_content_type("Multipart/Form-Data;BOUNDARY=\"a b'c\"").value(), "a b'c");
  EXPECT_EQ(boundary_from_content_type("multipart/form-data; charset=utf-8; boundary=x-y").value(), "x-y");
  EXPECT_EQ(boundary_from_content_type("multipart/form-data; boundary=" + std::string(70, 'b')).value(),
            std::string(70, 'b'));
  for (const std::string& bad :
       {"multipart/form-data; boundary=" + std::string(71, 'b'), std::string("multipart/form-data"),
        std::string("multipart/form-data; boundary="), std::string("multipart/form-data; boundary=\"\""),
        std::string("multipart/form-data; boundary=\"ends with space \""),
        std::string("multipart/form-data; boundary=semi\x01"),
        std::string("multipart/form-data; boundary=\"open"), std::string("multipart/mixed; boundary=abc"),
        std::string("application/json"), std::string("")}) {
    auto result = boundary_from_content_type(bad);
    EXPECT_FALSE(result.ok()) << bad;
  }
  EXPECT_NE(boundary_from_content_type("text/plain").error().message.find("not multipart/form-data"),
            std::string::npos);
}

// A delimiter may straddle two scan chunks at any offset: move it across every position of a
// small window and compare with the parse of a window larger than the body.
TEST_F(Multipart, FindsADelimiterSplitAcrossChunkEdgesAtEveryOffset) {
  for (size_t window : {60u, 61u, 64u, 97u}) {
    for (size_t size = 0; size < 2 * window + 5; ++size) {
      std::string content(size, 'v');
      for (size_t i = 0; i < size; ++i) content[i] = static_cast<char>("\r\n-x"[i % 4]);
      const std::string body = field("title", "t") + form({{file_headers("filename=\"f\""), content}});
      MultipartLimits limits;
      limits.scan_chunk_bytes = window;
      auto parts = parse(body, limits);
      ASSERT_TRUE(parts.ok()) << "window " << window << ", size " << size << ": " << parts.error().message;
      ASSERT_EQ(parts->size(), 2u);
      EXPECT_EQ((*parts)[0].value, "t");
      ASSERT_EQ(slice(body, (*parts)[1].range), content) << "window " << window << ", size " << size;
    }
  }
}

TEST_F(Multipart, KeepsCarriageReturnsAndDashesThatAreNotADelimiter) {
  const std::string b(boundary);
  for (const std::string& value :
       {std::string("ends with CR\r"), std::string("ends with CRLF\r\n"), std::string("\r\nstarts with CRLF"),
        "dashes --" + b + " without CRLF", "\r\n--" + b.substr(0, b.size() - 1) + "X almost",
        std::string("\r\n--"), std::string("")}) {
    auto parts = parse(field("f", value) + "--" + b + "--");
    ASSERT_TRUE(parts.ok()) << parts.error().message;
    ASSERT_EQ(parts->size(), 1u);
    EXPECT_EQ((*parts)[0].value, value);
  }
}

TEST_F(Multipart, AcceptsPaddingAfterADelimiterAndNoCrlfAfterTheLast) {
  const std::string b(boundary);
  auto parts = parse("--" + b + " \t \r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--" + b + "--");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "a");
  EXPECT_EQ((*parts)[0].value, "1");

  auto empty = parse("--" + b + "--\r\n");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(empty->empty());
}

TEST_F(Multipart, ReadsHeadersCaseInsensitivelyAndFolded) {
  const std::string b(boundary);
  auto parts =
      parse("--" + b + "\r\ncontent-type: text/plain\r\nCONTENT-DISPOSITION: Form-Data;\r\n name=\"n\"\r\n" +
            "X-Other: ignored\r\n\r\nv\r\n--" + b + "--");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "n");
  EXPECT_EQ((*parts)[0].content_type, "text/plain");
}

TEST_F(Multipart, RefusesATruncatedBody) {
  const std::string complete =
      field("title", "t") + form({{file_headers("filename=\"f\""), std::string(5000, 'z')}});
  const std::string b(boundary);
  // Cut inside the file's content, inside its headers, right after a delimiter, and before the
  // closing dashes.
  for (size_t cut : {complete.size() - 100, complete.find("Content-Type"),
                     complete.rfind("--" + b + "--") - 2, complete.rfind("--" + b + "--") + 2 + b.size()}) {
    const std::string message = error_of(complete.substr(0, cut));
    EXPECT_NE(message.find("truncated"), std::string::npos) << "cut at " << cut << ": " << message;
  }
}

TEST_F(Multipart, RefusesMalformedBodies) {
  const std::string b(boundary);
  const std::string close = "--" + b + "--\r\n";
  EXPECT_NE(error_of("no delimiter here at all").find("no multipart boundary"), std::string::npos);
  EXPECT_NE(
      error_of("--" + b + "\nContent-Disposition: form-data; name=a\n\nv\n" + close).find("neither CRLF"),
      std::string::npos);  // LF line ends
  EXPECT_NE(error_of("--" + b + "X\r\n" + close).find("neither CRLF"), std::string::npos);
  EXPECT_NE(error_of("--" + b + "\r\n\r\nv\r\n" + close).find("no headers"), std::string::npos);
  EXPECT_NE(
      error_of("--" + b + "\r\nContent-Type: text/plain\r\n\r\nv\r\n" + close).find("no Content-Disposition"),
      std::string::npos);
  EXPECT_NE(
      error_of("--" + b + "\r\nContent-Disposition: form-data\r\n\r\nv\r\n" + close).find("no field name"),
      std::string::npos);
  EXPECT_NE(error_of("--" + b + "\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n" + close)
                .find("no field name"),
            std::string::npos);
  EXPECT_NE(error_of("--" + b + "\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n" + close)
                .find("not form-data"),
            std::string::npos);
  EXPECT_NE(error_of("--" + b + "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n" + close)
                .find("not closed"),
            std::string::npos);
  EXPECT_NE(
      error_of("--" + b + "\r\nContent-Disposition: form-data; name\r\n\r\nv\r\n" + close).find("no value"),
      std::string::npos);
  EXPECT_NE(error_of("--" + b + "\r\nno colon\r\n\r\nv\r\n" + close).find("malformed header"),
            std::string::npos);
  EXPECT_NE(error_of(form({{file_headers("filename*=UTF-8''%E2%8"), "x"}})).find("percent"),
            std::string::npos);
  EXPECT_NE(error_of(form({{file_headers("filename*=KOI8-R''x"), "x"}})).find("charset"), std::string::npos);

  auto wrong_type =
      parse(form({{file_headers("filename=a"), "x"}}), {}, "multipart/form-data; boundary=other");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().message.find("no multipart boundary"), std::string::npos);
}

TEST_F(Multipart, EnforcesItsLimits) {
  MultipartLimits limits;
  std::vector<RawPart> parts(limits.max_parts, RawPart{"Content-Disposition: form-data; name=f", "v"});
  auto at_limit = parse(form(parts));
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  EXPECT_EQ(at_limit->size(), limits.max_parts);
  parts.push_back(parts.back());
  EXPECT_NE(error_of(form(parts)).find("more than 32 parts"), std::string::npos);

  auto largest =
      parse(field("f", std::string(limits.max_field_bytes, 'v')) + "--" + std::string(boundary) + "--");
  ASSERT_TRUE(largest.ok()) << largest.error().message;
  EXPECT_EQ((*largest)[0].value.size(), limits.max_field_bytes);
  EXPECT_NE(
      error_of(field("f", std::string(limits.max_field_bytes + 1, 'v')) + "--" + std::string(boundary) + "--")
          .find("larger than 65536 bytes"),
      std::string::npos);
  // A file part has no such limit.
  auto file = parse(form({{file_headers("filename=big"), std::string(3 * limits.max_field_bytes, 'f')}}));
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ((*file)[0].range.length, 3 * limits.max_field_bytes);

  const std::string long_line = "X-Long: " + std::string(limits.max_header_line_bytes, 'h');
  EXPECT_NE(
      error_of(form({{long_line + "\r\nContent-Disposition: form-data; name=f", "v"}})).find("longer than"),
      std::string::npos);
  std::string many_lines;
  for (int i = 0; i < 8; ++i)
    many_lines += "X-Line: " + std::string(limits.max_header_line_bytes - 100, 'h') + "\r\n";
  EXPECT_NE(error_of(form({{many_lines + "Content-Disposition: form-data; name=f", "v"}})).find("exceed"),
            std::string::npos);
}

TEST_F(Multipart, ExtractRefusesAnExistingDestinationOrARangeBeyondTheBody) {
  const std::string body = form({{file_headers("filename=f"), "content"}});
  auto parts = parse(body);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  const fs::path dest = dir_.path() / "out";
  std::ofstream(dest) << "already here";
  auto existing = extract(body_path_, (*parts)[0].range, dest.string());
  ASSERT_FALSE(existing.ok());
  EXPECT_EQ(read_file(dest), "already here");  // not touched
  auto beyond = extract(body_path_, ByteRange{body.size() - 2, 3}, (dir_.path() / "other").string());
  ASSERT_FALSE(beyond.ok());
  EXPECT_NE(beyond.error().message.find("beyond"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_.path() / "other"));
  auto empty = extract(body_path_, ByteRange{5, 0}, (dir_.path() / "empty").string());
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(fs::file_size(dir_.path() / "empty"), 0u);
}

TEST_F(Multipart, ExtractCanReleaseTheCopiedBytesOfTheBody) {
  const std::string video(3 * 1024 * 1024 + 17, 'm');
  const std::string body = form({{file_headers("filename=f"), video}});
  auto parts = parse(body);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ExtractOptions options;
  options.release_source = true;
  const fs::path dest = dir_.path() / "video";
  auto copied = extract(body_path_, (*parts)[0].range, dest.string(), options);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(read_file(dest), video);
  const std::string after = read_file(body_path_);
  ASSERT_EQ(after.size(), body.size());  // same length: only blocks were released
  struct stat status {};
  ASSERT_EQ(::stat(body_path_.c_str(), &status), 0);
  // Where the file system punches holes, the body no longer holds the video's blocks.
  if (slice(after, (*parts)[0].range) != video) {
    EXPECT_LT(static_cast<uint64_t>(status.st_blocks) * 512, body.size() / 2);
  }
}

}  // namespace
}  // namespace reel::upload
