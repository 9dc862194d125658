#include "upload/resumable.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "upload/file_io.h"

namespace reel::upload {

namespace {

namespace fs = std::filesystem;
using SystemTime = std::chrono::system_clock::time_point;

constexpr size_t id_random_bytes = 16;
constexpr std::string_view new_prefix = ".new-";      // a session being created
constexpr std::string_view trash_prefix = ".trash-";  // a session being removed
constexpr size_t max_meta_bytes = 1024 * 1024;

Result<std::string> random_id() {
  unsigned char bytes[id_random_bytes];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{io_message("cannot draw a session id:", "getrandom", errno)};
    got += static_cast<size_t>(n);
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string id;
  for (unsigned char byte : bytes) {
    id += digits[byte >> 4];
    id += digits[byte & 0xf];
  }
  return id;
}

// Writes `content` to a new (or truncated) file and fdatasyncs it. 0 or errno.
int write_synced(const fs::path& path, std::string_view content) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return errno;
  while (!content.empty()) {
    const ssize_t n = ::write(fd.get(), content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    content.remove_prefix(static_cast<size_t>(n));
  }
  return ::fdatasync(fd.get()) == 0 ? 0 : errno;
}

// A small file's content; nullopt when it does not exist.
Result<std::optional<std::string>> read_small(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd && errno == ENOENT) return std::optional<std::string>();
  if (!fd) return Error{io_message("cannot open", path.string(), errno)};
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return Error{io_message("cannot read", path.string(), errno)};
  // Sized to the file (a few bytes for the offset), never beyond max_meta_bytes.
  std::string content(std::min<size_t>(static_cast<size_t>(info.st_size), max_meta_bytes), '\0');
  size_t got = 0;
  if (const int error = read_at(fd.get(), 0, content.data(), content.size(), got); error != 0) {
    return Error{io_message("cannot read", path.string(), error)};
  }
  content.resize(got);
  return std::optional<std::string>(std::move(content));
}

// The committed offset and the time of that activity, replaced atomically: readers see the old
// values or the new ones.
int write_offset(const fs::path& session, uint64_t offset, const Clock& clock) {
  const fs::path temporary = session / "offset.tmp";
  const std::string record = fmt::format("{} {}\n", offset, clock.unix_ms());
  if (const int error = write_synced(temporary, record); error != 0) return error;
  return ::rename(temporary.c_str(), (session / "offset").c_str()) == 0 ? 0 : errno;
}

SystemTime modified_at(const struct stat& status) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(
      std::chrono::seconds(status.st_mtim.tv_sec) + std::chrono::nanoseconds(status.st_mtim.tv_nsec)));
}

std::string meta_json(uint64_t total_bytes, int64_t created_at, const UploadMetadata& metadata) {
  const nlohmann::json meta = {
      {"total_bytes", total_bytes},
      {"created_at", created_at},
      {"metadata",
       {{"title", metadata.title},
        {"description", metadata.description},
        {"tags", metadata.tags},
        {"category", metadata.category},
        {"owner", metadata.owner},
        {"filename", metadata.filename}}},
  };
  return meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The session in `dir` as committed; nullopt when it is not (or no longer) there.
Result<std::optional<SessionInfo>> load(const fs::path& dir, std::string_view id) {
  auto meta_text = read_small(dir / "meta.json");
  if (!meta_text) return meta_text.error();
  auto offset_text = read_small(dir / "offset");
  if (!offset_text) return offset_text.error();
  if (!*meta_text || !*offset_text) return std::optional<SessionInfo>();
  SessionInfo session;
  session.id = std::string(id);
  try {
    const nlohmann::json meta = nlohmann::json::parse(**meta_text);
    session.total_bytes = meta.at("total_bytes").get<uint64_t>();
    session.created_at = SystemTime(std::chrono::seconds(meta.at("created_at").get<int64_t>()));
    const nlohmann::json& fields = meta.at("metadata");
    session.metadata.title = fields.at("title").get<std::string>();
    session.metadata.description = fields.at("description").get<std::string>();
    session.metadata.tags = fields.at("tags").get<std::vector<std::string>>();
    session.metadata.category = fields.at("category").get<std::string>();
    session.metadata.owner = fields.at("owner").get<std::string>();
    session.metadata.filename = fields.at("filename").get<std::string>();
  } catch (const std::exception& e) {
    return Error{fmt::format("upload session {}: meta.json is damaged: {}", id, e.what())};
  }
  // "<offset> <last activity, Unix ms>"; a session written before the activity was recorded there
  // counts as last active when it was created.
  const std::string& text = **offset_text;
  const char* const last = text.data() + text.size();
  const auto [end, error] = std::from_chars(text.data(), last, session.offset);
  bool damaged = error != std::errc() || end == text.data() || session.offset > session.total_bytes;
  session.last_activity = session.created_at;
  if (!damaged && end != last && *end == ' ') {
    int64_t ms = 0;
    damaged = std::from_chars(end + 1, last, ms).ec != std::errc();
    session.last_activity = SystemTime(std::chrono::milliseconds(ms));
  }
  if (damaged) return Error{fmt::format("upload session {}: the offset file is damaged", id)};
  return std::optional<SessionInfo>(std::move(session));
}

enum class Lock { locked, not_found, busy };

// Opens the session's data file and takes its exclusive lock without waiting.
Result<Lock> lock_data(const fs::path& dir, Fd& data) {
  const fs::path path = dir / "data";
  data = Fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!data && (errno == ENOENT || errno == ENOTDIR)) return Lock::not_found;
  if (!data) return Error{io_message("cannot open", path.string(), errno)};
  if (::flock(data.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Lock::busy;
    return Error{io_message("cannot lock", path.string(), errno)};
  }
  return Lock::locked;
}

// Removes a session directory: renamed aside first (atomic: no one opens its files afterwards),
// then deleted. false when it was not there.
Result<bool> remove_session(const fs::path& dir) {
  fs::path trash = dir.parent_path() / (std::string(trash_prefix) + dir.filename().string());
  if (::rename(dir.c_str(), trash.c_str()) != 0) {
    if (errno == ENOENT) return false;
    return Error{io_message("cannot remove the upload session", dir.string(), errno)};
  }
  std::error_code ec;
  fs::remove_all(trash, ec);
  if (ec) return Error{fmt::format("cannot remove {}: {}", trash.string(), ec.message())};
  return true;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::optional<uint64_t> parse_upload_number(std::string_view header_value) {
  uint64_t value = 0;
  const char* end = header_value.data() + header_value.size();
  const auto [stop, error] = std::from_chars(header_value.data(), end, value);
  if (error != std::errc{} || stop != end || header_value.empty()) return std::nullopt;
  return value;
}

ResumableStore::ResumableStore(ResumableOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

bool ResumableStore::valid_id(std::string_view id) {
  if (id.size() != 2 * id_random_bytes) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

fs::path ResumableStore::session_dir(std::string_view id) const {
  return options_.dir / std::string(id);
}

Status ResumableStore::open() {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec)
    return Error{
        fmt::format("cannot create the uploads directory {}: {}", options_.dir.string(), ec.message())};
  return {};
}

Result<std::string> ResumableStore::create(uint64_t total_bytes, const UploadMetadata& metadata) {
  if (total_bytes == 0 || total_bytes > options_.max_total_bytes) {
    return Error{
        fmt::format("an upload of {} bytes is outside 1 .. {}", total_bytes, options_.max_total_bytes),
        ErrorKind::invalid_input};
  }
  auto id = random_id();
  if (!id) return id.error();
  const fs::path final_dir = session_dir(*id);
  const fs::path building = options_.dir / (std::string(new_prefix) + *id);
  if (::mkdir(building.c_str(), 0700) != 0)
    return Error{io_message("cannot create", building.string(), errno)};
  int error = write_synced(building / "meta.json", meta_json(total_bytes, clock_.unix_seconds(), metadata));
  if (error == 0) error = write_offset(building, 0, clock_);
  if (error == 0) {
    Fd data(::open((building / "data").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!data) error = errno;
  }
  if (error == 0) error = sync_parent_dir((building / "data").string());
  if (error == 0 && ::rename(building.c_str(), final_dir.c_str()) != 0) error = errno;
  if (error == 0) error = sync_parent_dir(final_dir.string());
  if (error != 0) {
    std::error_code ignored;
    fs::remove_all(building, ignored);
    return Error{io_message("cannot create the upload session", final_dir.string(), error)};
  }
  return id;
}

Result<std::optional<SessionInfo>> ResumableStore::find(std::string_view id) {
  if (!valid_id(id)) return std::optional<SessionInfo>();
  return load(session_dir(id), id);
}

Result<AppendResult> ResumableStore::append(std::string_view id, uint64_t offset, int source_fd,
                                            ByteRange source) {
  if (!valid_id(id)) return AppendResult{AppendStatus::not_found, 0};
  const fs::path dir = session_dir(id);
  Fd data;
  auto lock = lock_data(dir, data);
  if (!lock) return lock.error();
  if (*lock == Lock::not_found) return AppendResult{AppendStatus::not_found, 0};
  if (*lock == Lock::busy) return AppendResult{AppendStatus::busy, 0};
  // Read under the lock: a take() or cancel() that finished first leaves nothing to load.
  auto session = load(dir, id);
  if (!session) return session.error();
  if (!*session) return AppendResult{AppendStatus::not_found, 0};
  const uint64_t current = (*session)->offset;
  if (offset != current) return AppendResult{AppendStatus::offset_mismatch, current};
  if (source.length > (*session)->total_bytes - current)
    return AppendResult{AppendStatus::beyond_total, current};

  const std::string data_path = (dir / "data").string();
  struct stat status {};
  if (::fstat(data.get(), &status) != 0) return Error{io_message("cannot stat", data_path, errno)};
  // Bytes past the committed offset are what an append cut short by a crash left: drop them.
  int error = 0;
  if (static_cast<uint64_t>(status.st_size) != current &&
      ::ftruncate(data.get(), static_cast<off_t>(current)) != 0) {
    error = errno;
  }
  if (error == 0) error = copy_range(source_fd, source.offset, data.get(), current, source.length);
  if (error == 0 && ::fdatasync(data.get()) != 0) error = errno;
  if (error == 0) error = write_offset(dir, current + source.length, clock_);
  if (error != 0) {
    if (::ftruncate(data.get(), static_cast<off_t>(current)) != 0) {
      // The offset still says `current`: the next append truncates again.
    }
    if (is_no_space(error)) return AppendResult{AppendStatus::no_space, current};
    return Error{
        io_message(fmt::format("cannot append to upload session {}:", id).c_str(), data_path, error)};
  }
  return AppendResult{AppendStatus::appended, current + source.length};
}

Result<AppendResult> ResumableStore::append_file(std::string_view id, uint64_t offset,
                                                 const std::string& source_path) {
  Fd source(::open(source_path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat status {};
  if (!source || ::fstat(source.get(), &status) != 0) {
    return Error{io_message("cannot open", source_path, errno)};
  }
  return append(id, offset, source.get(), ByteRange{0, static_cast<uint64_t>(status.st_size)});
}

Result<TakeResult> ResumableStore::take(std::string_view id, const std::string& dest_path) {
  if (!valid_id(id)) return TakeResult{TakeStatus::not_found, {}};
  const fs::path dir = session_dir(id);
  Fd data;
  auto lock = lock_data(dir, data);
  if (!lock) return lock.error();
  if (*lock == Lock::not_found) return TakeResult{TakeStatus::not_found, {}};
  auto session = load(dir, id);
  if (!session) return session.error();
  if (!*session) return TakeResult{TakeStatus::not_found, {}};
  if (*lock == Lock::busy) return TakeResult{TakeStatus::busy, std::move(**session)};
  if (!(*session)->complete()) return TakeResult{TakeStatus::incomplete, std::move(**session)};

  const std::string data_path = (dir / "data").string();
  int error = 0;
  if (::renameat2(AT_FDCWD, data_path.c_str(), AT_FDCWD, dest_path.c_str(), RENAME_NOREPLACE) != 0) {
    error = errno;
    if (error == EINVAL) {  // no RENAME_NOREPLACE on this file system: link(2) refuses to replace too
      error = ::link(data_path.c_str(), dest_path.c_str()) == 0 ? 0 : errno;
    }
    if (error == EXDEV) {  // another file system: copy, then drop the session's copy
      Fd out(::open(dest_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      error = !out ? errno : copy_range(data.get(), 0, out.get(), 0, (*session)->total_bytes);
      if (error == 0 && ::fdatasync(out.get()) != 0) error = errno;
      if (error != 0 && out) ::unlink(dest_path.c_str());
    }
  }
  if (error == 0) error = sync_parent_dir(dest_path);
  if (error != 0) {
    return Error{io_message(fmt::format("cannot move upload session {} to", id).c_str(), dest_path, error)};
  }
  auto removed = remove_session(dir);
  if (!removed) return removed.error();
  return TakeResult{TakeStatus::taken, std::move(**session)};
}

Result<bool> ResumableStore::cancel(std::string_view id) {
  if (!valid_id(id)) return false;
  return remove_session(session_dir(id));
}

Result<size_t> ResumableStore::expire(std::chrono::seconds max_idle) {
  const SystemTime cutoff = clock_.now() - max_idle;
  std::error_code ec;
  fs::directory_iterator entries(options_.dir, ec);
  if (ec) return Error{fmt::format("cannot list {}: {}", options_.dir.string(), ec.message())};
  size_t removed = 0;
  for (const fs::directory_entry& entry : entries) {
    const std::string name = entry.path().filename().string();
    struct stat status {};
    if (starts_with(name, trash_prefix) || starts_with(name, new_prefix)) {
      // Leftovers of a crash (a create in progress is fresh, so it is left alone). Their age is
      // read on the file system's own clock, which stamped them (the store's clock dates only a
      // session's activity, in its offset file), so an injected clock ahead of it cannot take a
      // create in progress.
      if (::stat(entry.path().c_str(), &status) == 0 &&
          modified_at(status) < SystemTime::clock::now() - max_idle) {
        fs::remove_all(entry.path(), ec);
        if (!ec) ++removed;
      }
      continue;
    }
    if (!valid_id(name)) continue;  // not ours
    // A session that cannot be read (damaged) is of no use to its client: it goes too.
    const auto active_since_cutoff = [&] {
      auto session = load(entry.path(), name);
      return session && *session && (*session)->last_activity >= cutoff;
    };
    if (active_since_cutoff()) continue;
    Fd data;
    auto lock = lock_data(entry.path(), data);
    if (!lock) return lock.error();
    if (*lock == Lock::busy) continue;
    // Locked: look again, an append may have finished since the first look.
    if (*lock == Lock::locked && active_since_cutoff()) continue;
    auto gone = remove_session(entry.path());
    if (!gone) return gone.error();
    if (*gone) ++removed;
  }
  return removed;
}

}  // namespace reel::upload
