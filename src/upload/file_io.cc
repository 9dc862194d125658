#include "upload/file_io.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace reel::upload {

namespace {

// One step of copy_range: bounds a single system call, and the disk space a release_source copy
// holds twice at any moment.
constexpr uint64_t copy_step_bytes = 64 * 1024 * 1024;

// copy_file_range's errors that mean "not between these files": fall back to sendfile.
bool copy_unsupported(int error) {
  return error == EXDEV || error == EINVAL || error == ENOSYS || error == EOPNOTSUPP;
}

// Copies one step with sendfile(2), which writes at `out`'s file position. Returns bytes or -1.
ssize_t sendfile_step(int in, off_t& in_offset, int out, off_t out_offset, size_t size) {
  if (::lseek(out, out_offset, SEEK_SET) < 0) return -1;
  return ::sendfile(out, in, &in_offset, size);
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

bool is_no_space(int error) {
  return error == ENOSPC || error == EDQUOT;
}

int read_at(int fd, uint64_t offset, char* buffer, size_t size, size_t& got) {
  got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, buffer + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return 0;
}

int copy_range(int in, uint64_t in_offset, int out, uint64_t out_offset, uint64_t length,
               bool release_source) {
  bool use_sendfile = false;
  while (length > 0) {
    const size_t step = static_cast<size_t>(std::min(length, copy_step_bytes));
    off_t from = static_cast<off_t>(in_offset);
    off_t to = static_cast<off_t>(out_offset);
    ssize_t n;
    if (!use_sendfile) {
      n = ::copy_file_range(in, &from, out, &to, step, 0);
      if (n < 0 && copy_unsupported(errno)) {
        use_sendfile = true;
        continue;
      }
    } else {
      n = sendfile_step(in, from, out, to, step);
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ENODATA;  // the source ended early
    if (release_source) {
      if (::fallocate(in, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(in_offset), n) !=
          0) {
        // Best effort: a file system without hole punching just keeps the bytes.
      }
    }
    in_offset += static_cast<uint64_t>(n);
    out_offset += static_cast<uint64_t>(n);
    length -= static_cast<uint64_t>(n);
  }
  return 0;
}

int sync_parent_dir(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  Fd fd(::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errno;
  return ::fsync(fd.get()) == 0 ? 0 : errno;
}

std::string io_message(const char* what, const std::string& path, int error) {
  return fmt::format("{} {}: {}", what, path,
                     error == ENODATA ? "the file ended early" : std::strerror(error));
}

}  // namespace reel::upload
