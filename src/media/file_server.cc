#include "media/file_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "common/text.h"
#include "http/date.h"
#include "http/url.h"

namespace reel::media {

namespace {

using http::Response;

// Owns a descriptor until it is released into a FileRange.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

struct ContentType {
  std::string_view extension;  // lower case, without the dot
  std::string_view type;
};
constexpr std::array<ContentType, 20> content_types = {{
    {"html", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"webp", "image/webp"},
    {"gif", "image/gif"},
    {"ico", "image/x-icon"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"ts", "video/mp2t"},
    {"m4s", "video/iso.segment"},
    {"vtt", "text/vtt"},
    {"woff2", "font/woff2"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml"},
}};
constexpr std::string_view default_content_type = "application/octet-stream";

std::string_view content_type_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return default_content_type;
  const std::string_view extension = name.substr(dot + 1);
  for (const ContentType& entry : content_types) {
    if (iequals(entry.extension, extension)) return entry.type;
  }
  return default_content_type;
}

// The file path a URL path names below the root, or nullopt when it must not be opened: a bad
// percent escape, a NUL byte, a ".." segment, or nothing but a directory ("" or ending in '/').
// Empty and "." segments are dropped. An absolute result is left for openat2 to refuse.
std::optional<std::string> to_file_path(std::string_view url_path) {
  url_path = url_path.substr(0, url_path.find_first_of("?#"));
  const std::optional<std::string> escaped = http::percent_decode(url_path);
  if (!escaped || escaped->empty() || escaped->back() == '/') return std::nullopt;
  const std::string& decoded = *escaped;
  std::string path;
  path.reserve(decoded.size());
  if (decoded.front() == '/') path += '/';
  size_t start = 0;
  while (start <= decoded.size()) {
    size_t end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    const std::string_view segment = std::string_view(decoded).substr(start, end - start);
    if (segment == "..") return std::nullopt;
    if (!segment.empty() && segment != ".") {
      if (!path.empty() && path.back() != '/') path += '/';
      path += segment;
    }
    start = end + 1;
  }
  if (path.empty() || path == "/") return std::nullopt;
  return path;
}

// openat2(2) confined to the directory `root_fd`: absolute paths, ".." and symlinks that leave it
// fail with EXDEV, /proc magic links with ELOOP. glibc 2.36 has no wrapper, hence syscall().
int open_beneath(int root_fd, const char* path, uint64_t flags) {
  open_how how{};
  how.flags = flags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const long fd = ::syscall(SYS_openat2, root_fd, path, &how, sizeof how);
    // EAGAIN: a concurrent rename raced the lookup; the kernel asks for a retry.
    if (fd >= 0 || (errno != EAGAIN && errno != EINTR)) return static_cast<int>(fd);
  }
  return -1;
}

std::string etag_of(const struct stat& info) {
  const int64_t mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
  return fmt::format("\"{:x}-{:x}\"", static_cast<uint64_t>(info.st_size), static_cast<uint64_t>(mtime_ns));
}

// True when an If-None-Match list names `etag` ("*" names any); weak comparison, as RFC 9110
// prescribes for If-None-Match.
bool etag_listed(std::string_view list, std::string_view etag) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view candidate = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!candidate.empty() && (candidate.front() == ' ' || candidate.front() == '\t'))
      candidate.remove_prefix(1);
    while (!candidate.empty() && (candidate.back() == ' ' || candidate.back() == '\t'))
      candidate.remove_suffix(1);
    if (candidate == "*") return true;
    if (candidate.substr(0, 2) == "W/") candidate.remove_prefix(2);
    if (candidate == etag) return true;
  }
  return false;
}

// A run of decimal digits, any number of them (RFC 9110 puts no bound on a range's digits, and
// leading zeros are allowed); a value past uint64_t saturates at its maximum, which is past the end
// of any file. False when the text is empty or holds anything but digits.
bool parse_decimal(std::string_view text, uint64_t& value) {
  if (text.empty()) return false;
  constexpr uint64_t max = std::numeric_limits<uint64_t>::max();
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<uint64_t>(c - '0');
    value = value > (max - digit) / 10 ? max : value * 10 + digit;
  }
  return true;
}

struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
};

// What a Range header asks of a file of `size` bytes.
enum class RangeKind { whole, single, unsatisfiable };
struct RangeRequest {
  RangeKind kind = RangeKind::whole;
  ByteRange range;
};

// Single ranges "a-b", "a-" and "-n" are served; a list of ranges gets the whole file; anything
// malformed or outside the file is unsatisfiable.
RangeRequest parse_range(std::string_view header, uint64_t size) {
  constexpr std::string_view unit = "bytes=";
  if (header.size() < unit.size() || !iequals(header.substr(0, unit.size()), unit)) {
    return {RangeKind::unsatisfiable, {}};
  }
  const std::string_view spec = header.substr(unit.size());
  if (spec.find(',') != std::string_view::npos) return {RangeKind::whole, {}};
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return {RangeKind::unsatisfiable, {}};
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  uint64_t first = 0;
  uint64_t last = 0;
  if (first_text.empty()) {  // "-n": the last n bytes
    if (!parse_decimal(last_text, last) || last == 0 || size == 0) return {RangeKind::unsatisfiable, {}};
    const uint64_t length = std::min(last, size);
    return {RangeKind::single, {size - length, length}};
  }
  if (!parse_decimal(first_text, first) || first >= size) return {RangeKind::unsatisfiable, {}};
  if (last_text.empty()) return {RangeKind::single, {first, size - first}};  // "a-"
  if (!parse_decimal(last_text, last) || last < first) return {RangeKind::unsatisfiable, {}};
  last = std::min(last, size - 1);
  return {RangeKind::single, {first, last - first + 1}};
}

Response not_found() {
  Response response = Response::text(404, "Not Found\n");
  response.route = "static";
  return response;
}

// Reads `length` bytes at `offset`; false on an I/O error or a file that shrank meanwhile.
bool read_exactly(int fd, uint64_t offset, uint64_t length, std::string& out) {
  out.resize(length);
  uint64_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

Result<FileServer> FileServer::open(FileServerOptions options) {
  const int root_fd = ::open(options.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    return Error{fmt::format("file server: cannot open the root {}: {}", options.root, std::strerror(errno))};
  }
  // Refuse to start on a kernel without openat2 (Linux < 5.6) rather than answer 404 to everything.
  const int probe = open_beneath(root_fd, ".", O_PATH | O_CLOEXEC);
  if (probe < 0) {
    const int error = errno;
    ::close(root_fd);
    return Error{fmt::format("file server: openat2 beneath {} failed ({}); Linux 5.6 or later is needed",
                             options.root, std::strerror(error))};
  }
  ::close(probe);
  return FileServer(root_fd, std::move(options));
}

FileServer::FileServer(int root_fd, FileServerOptions options)
    : root_fd_(root_fd), options_(std::move(options)) {}

FileServer::FileServer(FileServer&& other) noexcept
    : root_fd_(std::exchange(other.root_fd_, -1)), options_(std::move(other.options_)) {}

FileServer::~FileServer() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

http::Response FileServer::serve(const http::Request& request, std::string_view relative_path) const {
  const bool head = request.method == "HEAD";
  if (request.method != "GET" && !head) {
    Response response = Response::text(405, "Method Not Allowed\n");
    response.set("Allow", "GET, HEAD");
    response.route = "static";
    return response;
  }
  const std::optional<std::string> path = to_file_path(relative_path);
  if (!path) return not_found();
  // O_NONBLOCK: opening a FIFO someone planted must not block the loop (it is refused below).
  UniqueFd file(open_beneath(root_fd_, path->c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (file.get() < 0) return not_found();
  struct stat info {};
  if (::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) return not_found();
  const auto size = static_cast<uint64_t>(info.st_size);

  Response response;
  response.route = "static";
  const std::string etag = etag_of(info);
  const std::string last_modified = http::format_http_date(info.st_mtim.tv_sec);
  response.headers.reserve(7);
  response.headers.push_back({"ETag", etag});
  response.headers.push_back({"Last-Modified", last_modified});
  response.headers.push_back({"Cache-Control", options_.cache_control});

  // RFC 9110 13.2.2: If-None-Match, when present, decides; otherwise If-Modified-Since.
  if (auto if_none_match = request.header("If-None-Match")) {
    if (etag_listed(*if_none_match, etag)) {
      response.status = 304;
      return response;
    }
  } else if (auto if_modified_since = request.header("If-Modified-Since")) {
    const std::optional<std::time_t> since = http::parse_http_date(*if_modified_since);
    if (since && info.st_mtim.tv_sec <= *since) {
      response.status = 304;
      return response;
    }
  }

  response.headers.push_back({"Content-Type", std::string(content_type_of(*path))});
  response.headers.push_back({"Accept-Ranges", "bytes"});

  ByteRange range{0, size};
  // Range applies to GET only (RFC 9110 14.2). If-Range is honoured: the range is served only when
  // it names the current strong ETag or exact Last-Modified date; otherwise the whole file.
  const auto range_header = request.header("Range");
  const auto if_range = request.header("If-Range");
  const bool range_applies =
      range_header && !head && (!if_range || *if_range == etag || *if_range == last_modified);
  if (range_applies) {
    const RangeRequest asked = parse_range(*range_header, size);
    if (asked.kind == RangeKind::unsatisfiable) {
      response.status = 416;
      response.headers.push_back({"Content-Range", fmt::format("bytes */{}", size)});
      return response;
    }
    if (asked.kind == RangeKind::single) {
      range = asked.range;
      response.status = 206;
      response.headers.push_back({"Content-Range", fmt::format("bytes {}-{}/{}", range.first,
                                                               range.first + range.length - 1, size)});
    }
  }

  // HEAD needs only the length, which a FileRange carries without reading the file.
  if (head || range.length > options_.inline_max_bytes) {
    response.file = std::make_shared<http::FileRange>(file.release(), range.first, range.length);
    return response;
  }
  if (!read_exactly(file.get(), range.first, range.length, response.body)) {
    Response failure = Response::text(500, "Internal Server Error\n");
    failure.route = "static";
    return failure;
  }
  return response;
}

std::optional<std::string> FileServer::read(std::string_view relative_path, size_t max_bytes) const {
  const std::optional<std::string> path = to_file_path(relative_path);
  if (!path) return std::nullopt;
  UniqueFd file(open_beneath(root_fd_, path->c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (file.get() < 0) return std::nullopt;
  struct stat info {};
  if (::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  const auto size = static_cast<uint64_t>(info.st_size);
  std::string contents;
  if (size > max_bytes || !read_exactly(file.get(), 0, size, contents)) return std::nullopt;
  return contents;
}

}  // namespace reel::media
