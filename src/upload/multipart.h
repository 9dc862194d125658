// multipart/form-data (RFC 7578, framing of RFC 2046) parsed from a body file on disk: the form of
// `POST /api/v1/uploads`, whose body the HTTP server streamed to a file (Request::body_file).
//
// The body is never loaded whole: the scanner reads it in bounded chunks (MultipartLimits::
// scan_chunk_bytes) and finds each delimiter with memmem, overlapping chunks by the delimiter's
// length so one split across a chunk edge is still found. Text fields come back as values (each at
// most max_field_bytes); a file part (one with a `filename` parameter) comes back as the byte range
// of its content in the body file, which extract() copies to a file of its own in the kernel.
//
// Strict where the format is: delimiters are CRLF "--" boundary, optionally followed by spaces or
// tabs, then CRLF (or "--" for the last); part header lines end with CRLF. The preamble before the
// first delimiter and the epilogue after the last are ignored.
//
// Filenames are returned as the client sent them (after unquoting, and percent-decoding of
// `filename*=UTF-8''…`): they may hold "../", "/", a leading "-", quotes, control characters or
// invalid UTF-8. Callers must never use one as a path or a command argument; store it as text only.
//
// Thread-safety: pure functions over files; concurrent calls on the same body file are fine.
// Blocking: these read and write files (a multi-GB body takes seconds); call them off the event
// loops (e.g. on the SQL Pool's threads or another blocking pool).
// Failure: an Error whose message names what is wrong (for a 400 with the message, except I/O
// errors reading the body, which are the server's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace reel::upload {

// A span of bytes of a file.
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const ByteRange&) const = default;
};

struct Part {
  std::string name;                     // Content-Disposition's `name`, never empty
  std::optional<std::string> filename;  // present for a file part (maybe empty); never a path, see above
  std::string content_type;             // the part's Content-Type, as sent; "" when absent
  std::string value;                    // a text field's value; empty for a file part
  ByteRange range;                      // the content's bytes within the body file (every part)

  bool is_file() const { return filename.has_value(); }
};

struct MultipartLimits {
  size_t max_parts = 32;
  size_t max_header_line_bytes = 4 * 1024;  // one header line of a part, CRLF excluded
  size_t max_header_bytes = 16 * 1024;      // all header lines of a part
  size_t max_field_bytes = 64 * 1024;       // a text field's value
  size_t scan_chunk_bytes = 1024 * 1024;    // read size of the scanner (raised to fit a delimiter)
};

// The boundary of a `multipart/form-data; boundary=…` Content-Type (token or quoted string;
// 1 to 70 characters of RFC 2046's bchars, not ending in a space). An Error for another media
// type, a missing boundary or an invalid one.
Result<std::string> boundary_from_content_type(std::string_view content_type);

// The parts of the multipart/form-data body in the file at `body_path`, in order. `content_type` is
// the request's Content-Type header. Errors: missing or invalid boundary, no delimiter, no closing
// delimiter (a truncated body), a delimiter followed by other bytes, a part without a
// Content-Disposition `form-data` with a non-empty name, more than max_parts parts, a header line
// or header block over its limit, a text field over max_field_bytes, a malformed parameter, an
// unreadable file.
Result<std::vector<Part>> parse_multipart(const std::string& body_path, std::string_view content_type,
                                          const MultipartLimits& limits = {});

// The first part named `name`, or null.
const Part* find_part(const std::vector<Part>& parts, std::string_view name);

enum class Copied {
  done,
  no_space,  // the destination's file system is full (ENOSPC, EDQUOT): answer 507
};

struct ExtractOptions {
  // Deallocate (punch out) the range from the body file as it is copied, so extracting a part
  // needs at most one step (64 MiB) of extra disk space instead of the part's size. The body file
  // keeps its length, but the range then reads as zeros: only for a body about to be discarded.
  bool release_source = false;
  bool sync = true;  // fdatasync the new file before returning, so a crash cannot lose it
};

// Copies `range` of the file at `body_path` into a new file `dest_path` (created with O_EXCL,
// mode 0600: an original upload is not served), in the kernel: copy_file_range(2) (a reflink on file systems
// that have them), else sendfile(2); no userspace buffer. On any failure `dest_path` is removed. An Error for
// a range beyond the file, an existing destination, or an I/O error.
Result<Copied> extract(const std::string& body_path, ByteRange range, const std::string& dest_path,
                       const ExtractOptions& options = {});

}  // namespace reel::upload
