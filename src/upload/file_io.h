// File helpers shared by the multipart parser and the resumable sessions: an owned descriptor,
// reads that do not stop short, and the in-kernel copy of a byte range between files.
// Thread-safety: Fd is a value owned by one thread at a time; the functions are reentrant.
// Failure: errno values (0 = success), which callers turn into Errors naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace reel::upload {

// An open file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// ENOSPC or EDQUOT: the file system (or the user's quota) is full.
bool is_no_space(int error);

// Reads up to `size` bytes at `offset`, retrying short reads and EINTR; stops early only at the end
// of the file. Sets `got` to the bytes read; returns 0 or the errno.
int read_at(int fd, uint64_t offset, char* buffer, size_t size, size_t& got);

// Copies `length` bytes from `in` at `in_offset` to `out` at `out_offset` without a userspace
// buffer: copy_file_range(2), falling back to sendfile(2) where the kernel cannot (another file
// system). With `release_source`, each copied step is then punched out of `in` (where supported).
// Returns 0, ENODATA when `in` ends before `length` bytes, or the errno of the failure.
int copy_range(int in, uint64_t in_offset, int out, uint64_t out_offset, uint64_t length,
               bool release_source = false);

// fsync of the directory holding `path`, so a rename or create in it survives a crash. 0 or errno.
int sync_parent_dir(const std::string& path);

// "<what> <path>: <strerror>", the message of an I/O Error.
std::string io_message(const char* what, const std::string& path, int error);

}  // namespace reel::upload
