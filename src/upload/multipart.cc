// The multipart scanner: delimiters found with memmem over bounded chunks of the body file (chunks
// overlap by the delimiter's length less one, so a delimiter split across two chunks is found),
// part headers read in one bounded peek, text values read with pread.
#include "upload/multipart.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/text.h"
#include "upload/file_io.h"

namespace reel::upload {

namespace {

constexpr size_t max_boundary_bytes = 70;  // RFC 2046 section 5.1.1
// Spaces or tabs allowed between a delimiter and its CRLF (RFC 2046's transport-padding).
constexpr size_t max_padding_bytes = 256;

// RFC 2046 bchars.
bool is_boundary_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::strchr("'()+_,-./:=? ", c) != nullptr;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// Up to 60 characters of untrusted text for a message, control characters replaced.
std::string excerpt(std::string_view text) {
  std::string out(text.substr(0, 60));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > 60) out += "...";
  return out;
}

struct Parameter {
  std::string name;   // lower case
  std::string value;  // unquoted
};

// A quoted-string starting at text[0] == '"': its value, `text` advanced past the closing quote.
// A backslash escapes only '"' and '\' (browsers send Windows paths with bare backslashes).
Result<std::string> take_quoted(std::string_view& text) {
  std::string value;
  for (size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      text.remove_prefix(i + 1);
      return value;
    }
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
      value += text[++i];
      continue;
    }
    value += c;
  }
  return Error{"a quoted parameter value is not closed"};
}

// The `; name=value` parameters of a header value (RFC 7231 section 3.1.1.1), after its first token.
Result<std::vector<Parameter>> parse_parameters(std::string_view text) {
  std::vector<Parameter> parameters;
  for (;;) {
    while (!text.empty() && (is_blank(text.front()) || text.front() == ';')) text.remove_prefix(1);
    if (text.empty()) return parameters;
    const size_t equals = text.find_first_of("=;");
    if (equals == std::string_view::npos || text[equals] != '=') {
      return Error{fmt::format("the parameter \"{}\" has no value", excerpt(trim(text.substr(0, equals))))};
    }
    Parameter parameter{lower(trim(text.substr(0, equals))), {}};
    text = trim(text.substr(equals + 1));
    if (!text.empty() && text.front() == '"') {
      auto value = take_quoted(text);
      if (!value) return value.error();
      parameter.value = std::move(*value);
      text = trim(text);
      if (!text.empty() && text.front() != ';') {
        return Error{fmt::format("unexpected text after the parameter {}", parameter.name)};
      }
    } else {
      const size_t end = text.find(';');
      parameter.value = std::string(trim(text.substr(0, end)));
      text = end == std::string_view::npos ? std::string_view() : text.substr(end);
    }
    parameters.push_back(std::move(parameter));
  }
}

const Parameter* find_parameter(const std::vector<Parameter>& parameters, std::string_view name) {
  for (const Parameter& parameter : parameters) {
    if (parameter.name == name) return &parameter;
  }
  return nullptr;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// An RFC 8187 ext-value ("UTF-8'en'%e2%82%ac.mp4"), as UTF-8. UTF-8 and ISO-8859-1 only.
Result<std::string> decode_ext_value(std::string_view text) {
  const size_t first = text.find('\'');
  const size_t second = first == std::string_view::npos ? first : text.find('\'', first + 1);
  if (second == std::string_view::npos) return Error{"filename* is not charset'language'value"};
  const std::string charset = lower(text.substr(0, first));
  const bool latin1 = charset == "iso-8859-1";
  if (charset != "utf-8" && !latin1) {
    return Error{fmt::format("filename* has the unsupported charset {}", excerpt(charset))};
  }
  std::string value;
  text.remove_prefix(second + 1);
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char byte = static_cast<unsigned char>(text[i]);
    if (byte == '%') {
      const int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      const int low = high < 0 ? -1 : hex_value(text[i + 2]);
      if (low < 0) return Error{"filename* holds a malformed percent-escape"};
      byte = static_cast<unsigned char>(high * 16 + low);
      i += 2;
    }
    if (latin1 && byte >= 0x80) {
      value += static_cast<char>(0xc0 | (byte >> 6));
      value += static_cast<char>(0x80 | (byte & 0x3f));
    } else {
      value += static_cast<char>(byte);
    }
  }
  return value;
}

// Reads the body file through one bounded buffer: finds delimiters, peeks at header blocks.
class BodyReader {
 public:
  BodyReader(int fd, uint64_t size, const std::string& path, size_t window, size_t peek_bytes)
      : fd_(fd), size_(size), path_(path), window_(window), buffer_(std::max(window, peek_bytes)) {}

  uint64_t size() const { return size_; }

  // Offset of the first `needle` at or after `from`; nullopt when there is none.
  Result<std::optional<uint64_t>> find(std::string_view needle, uint64_t from) {
    while (from < size_ && size_ - from >= needle.size()) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(window_, size_ - from));
      size_t got = 0;
      if (const int error = read_at(fd_, from, buffer_.data(), want, got); error != 0) {
        return Error{io_message("cannot read the body", path_, error)};
      }
      if (got < needle.size()) break;
      // Start reading the next window while this one is searched: a cold scan runs at disk speed.
      ::posix_fadvise(fd_, static_cast<off_t>(from + got), static_cast<off_t>(window_), POSIX_FADV_WILLNEED);
      const void* hit = ::memmem(buffer_.data(), got, needle.data(), needle.size());
      if (hit)
        return std::optional<uint64_t>(from +
                                       static_cast<uint64_t>(static_cast<const char*>(hit) - buffer_.data()));
      if (got < want) break;
      from += got - (needle.size() - 1);  // the next window overlaps: a needle split here is found
    }
    return std::optional<uint64_t>();
  }

  // Up to `size` bytes at `offset` (fewer at the end of the file); valid until the next call.
  Result<std::string_view> peek(uint64_t offset, size_t size) {
    size_t got = 0;
    if (offset < size_) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>({size, buffer_.size(), size_ - offset}));
      if (const int error = read_at(fd_, offset, buffer_.data(), want, got); error != 0) {
        return Error{io_message("cannot read the body", path_, error)};
      }
    }
    return std::string_view(buffer_.data(), got);
  }

 private:
  int fd_;
  uint64_t size_;
  const std::string& path_;
  size_t window_;
  std::vector<char> buffer_;
};

Error truncated() {
  return Error{"the multipart body ends before its closing boundary (truncated upload?)"};
}

// Sets the part's name, filename and content type from its header lines.
Status apply_headers(std::string_view headers, size_t number, const MultipartLimits& limits, Part& part) {
  std::vector<std::pair<std::string_view, std::string>> fields;
  while (!headers.empty()) {
    const size_t end = headers.find("\r\n");
    const std::string_view line = headers.substr(0, end);
    headers = end == std::string_view::npos ? std::string_view() : headers.substr(end + 2);
    if (line.size() > limits.max_header_line_bytes) {
      return Error{fmt::format("a header line of part {} is longer than {} bytes", number,
                               limits.max_header_line_bytes)};
    }
    if (line.find_first_of("\r\n") != std::string_view::npos) {
      return Error{fmt::format("a header line of part {} holds a bare CR or LF", number)};
    }
    if (!line.empty() && is_blank(line.front())) {  // obsolete line folding: continues the last field
      if (fields.empty()) return Error{fmt::format("part {} starts with a folded header line", number)};
      fields.back().second.append(" ").append(trim(line));
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Error{fmt::format("part {} has a malformed header line \"{}\"", number, excerpt(line))};
    }
    fields.emplace_back(line.substr(0, colon), std::string(trim(line.substr(colon + 1))));
  }
  const std::string* disposition = nullptr;
  for (const auto& [name, value] : fields) {
    if (!disposition && iequals(name, "Content-Disposition")) disposition = &value;
    if (part.content_type.empty() && iequals(name, "Content-Type")) part.content_type = value;
  }
  if (!disposition) return Error{fmt::format("part {} has no Content-Disposition header", number)};
  const std::string_view text = *disposition;
  const size_t semicolon = text.find(';');
  if (!iequals(trim(text.substr(0, semicolon)), "form-data")) {
    return Error{fmt::format("part {} is not form-data (Content-Disposition: {})", number, excerpt(text))};
  }
  auto parameters =
      parse_parameters(semicolon == std::string_view::npos ? std::string_view() : text.substr(semicolon));
  if (!parameters) return Error{fmt::format("part {}: {}", number, parameters.error().message)};
  const Parameter* name = find_parameter(*parameters, "name");
  if (!name || name->value.empty()) return Error{fmt::format("part {} has no field name", number)};
  part.name = name->value;
  if (const Parameter* extended = find_parameter(*parameters, "filename*")) {
    auto decoded = decode_ext_value(extended->value);
    if (!decoded) return Error{fmt::format("part {}: {}", number, decoded.error().message)};
    part.filename = std::move(*decoded);
  } else if (const Parameter* filename = find_parameter(*parameters, "filename")) {
    part.filename = filename->value;
  }
  return {};
}

// Reads the header block of part `number` starting at `start`; sets `content_start` past its
// blank line.
Status read_part_headers(BodyReader& reader, uint64_t start, size_t number, const MultipartLimits& limits,
                         Part& part, uint64_t& content_start) {
  auto block = reader.peek(start, limits.max_header_bytes + 4);
  if (!block) return block.error();
  if (block->substr(0, 2) == "\r\n") {
    return Error{fmt::format("part {} has no headers (it needs a Content-Disposition)", number)};
  }
  const size_t end = block->find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (start + block->size() >= reader.size()) return truncated();
    return Error{fmt::format("the headers of part {} exceed {} bytes", number, limits.max_header_bytes)};
  }
  content_start = start + end + 4;
  return apply_headers(block->substr(0, end), number, limits, part);
}

}  // namespace

Result<std::string> boundary_from_content_type(std::string_view content_type) {
  const size_t semicolon = content_type.find(';');
  const std::string_view media_type = trim(content_type.substr(0, semicolon));
  if (!iequals(media_type, "multipart/form-data")) {
    return Error{fmt::format("the Content-Type is \"{}\", not multipart/form-data", excerpt(media_type))};
  }
  auto parameters = parse_parameters(semicolon == std::string_view::npos ? std::string_view()
                                                                         : content_type.substr(semicolon));
  if (!parameters) return Error{"the multipart Content-Type is malformed: " + parameters.error().message};
  const Parameter* boundary = find_parameter(*parameters, "boundary");
  if (!boundary) return Error{"the multipart Content-Type has no boundary"};
  const std::string& value = boundary->value;
  if (value.empty() || value.size() > max_boundary_bytes || value.back() == ' ' ||
      !std::all_of(value.begin(), value.end(), is_boundary_char)) {
    return Error{
        fmt::format("the multipart boundary \"{}\" is invalid (1 to {} letters, digits or '()+_,-./:=? )",
                    excerpt(value), max_boundary_bytes)};
  }
  return value;
}

Result<std::vector<Part>> parse_multipart(const std::string& body_path, std::string_view content_type,
                                          const MultipartLimits& limits) {
  auto boundary = boundary_from_content_type(content_type);
  if (!boundary) return boundary.error();
  Fd fd(::open(body_path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat status {};
  if (!fd || ::fstat(fd.get(), &status) != 0)
    return Error{io_message("cannot open the body", body_path, errno)};
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  const std::string delimiter = "\r\n--" + *boundary;
  const std::string_view dash_boundary = std::string_view(delimiter).substr(2);
  BodyReader reader(fd.get(), static_cast<uint64_t>(status.st_size), body_path,
                    std::max(limits.scan_chunk_bytes, 2 * delimiter.size()), limits.max_header_bytes + 4);

  // The first delimiter opens the body, or follows a preamble after a CRLF.
  uint64_t position = dash_boundary.size();
  auto start = reader.peek(0, dash_boundary.size());
  if (!start) return start.error();
  if (*start != dash_boundary) {
    auto first = reader.find(delimiter, 0);
    if (!first) return first.error();
    if (!*first) return Error{"the body holds no multipart boundary"};
    position = **first + delimiter.size();
  }

  std::vector<Part> parts;
  for (;;) {
    // After a delimiter: "--" closes the body; else optional padding, CRLF, and a part.
    auto after = reader.peek(position, max_padding_bytes + 2);
    if (!after) return after.error();
    if (after->substr(0, 2) == "--") return parts;
    const size_t padding = std::min(after->find_first_not_of(" \t"), after->size());
    if (after->substr(padding, 2) != "\r\n") {
      if (position + padding + 2 > reader.size()) return truncated();
      return Error{
          fmt::format("the boundary ending at byte {} is followed by neither CRLF nor \"--\"", position)};
    }
    if (parts.size() == limits.max_parts) {
      return Error{fmt::format("the form has more than {} parts", limits.max_parts)};
    }
    const size_t number = parts.size() + 1;
    Part part;
    uint64_t content_start = 0;
    if (Status headers =
            read_part_headers(reader, position + padding + 2, number, limits, part, content_start);
        !headers) {
      return headers.error();
    }
    auto end = reader.find(delimiter, content_start);
    if (!end) return end.error();
    if (!*end) return truncated();
    part.range = {content_start, **end - content_start};
    if (!part.is_file()) {
      if (part.range.length > limits.max_field_bytes) {
        return Error{fmt::format("the field {} is larger than {} bytes (send files with a filename)",
                                 excerpt(part.name), limits.max_field_bytes)};
      }
      part.value.resize(static_cast<size_t>(part.range.length));
      size_t got = 0;
      if (const int error = read_at(fd.get(), content_start, part.value.data(), part.value.size(), got);
          error != 0 || got != part.value.size()) {
        return Error{io_message("cannot read the body", body_path, error != 0 ? error : ENODATA)};
      }
    }
    parts.push_back(std::move(part));
    position = **end + delimiter.size();
  }
}

const Part* find_part(const std::vector<Part>& parts, std::string_view name) {
  for (const Part& part : parts) {
    if (part.name == name) return &part;
  }
  return nullptr;
}

Result<Copied> extract(const std::string& body_path, ByteRange range, const std::string& dest_path,
                       const ExtractOptions& options) {
  Fd in(::open(body_path.c_str(), (options.release_source ? O_RDWR : O_RDONLY) | O_CLOEXEC));
  struct stat status {};
  if (!in || ::fstat(in.get(), &status) != 0)
    return Error{io_message("cannot open the body", body_path, errno)};
  const uint64_t size = static_cast<uint64_t>(status.st_size);
  if (range.offset > size || range.length > size - range.offset) {
    return Error{fmt::format("the range {}+{} lies beyond the {} bytes of {}", range.offset, range.length,
                             size, body_path)};
  }
  Fd out(::open(dest_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out) return Error{io_message("cannot create", dest_path, errno)};
  int error = copy_range(in.get(), range.offset, out.get(), 0, range.length, options.release_source);
  if (error == 0 && options.sync && ::fdatasync(out.get()) != 0) error = errno;
  if (error == 0 && options.sync) error = sync_parent_dir(dest_path);
  if (error != 0) {
    ::unlink(dest_path.c_str());
    if (is_no_space(error)) return Copied::no_space;
    return Error{io_message("cannot copy the part to", dest_path, error)};
  }
  return Copied::done;
}

}  // namespace reel::upload
