#include "http/detail/body_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace reel::http::detail {

namespace {

bool no_space(int error) {
  return error == ENOSPC || error == EDQUOT;
}

}  // namespace

int BodyFile::create(const std::string& dir) {
  remove();
  path_.assign(dir);
  path_.append("/reel-body-XXXXXX");
  fd_ = ::mkostemp(path_.data(), O_CLOEXEC);
  if (fd_ < 0) return errno;
  struct stat status {};
  if (::fstat(fd_, &status) != 0) {
    const int error = errno;
    ::unlink(path_.c_str());
    ::close(fd_);
    fd_ = -1;
    return error;
  }
  device_ = status.st_dev;
  inode_ = status.st_ino;
  return 0;
}

void BodyFile::remove() {
  if (fd_ < 0) return;
  struct stat status {};
  if (::stat(path_.c_str(), &status) == 0 && status.st_dev == device_ && status.st_ino == inode_) {
    ::unlink(path_.c_str());
  }
  ::close(fd_);
  fd_ = -1;
}

int check_free_space(int fd, uint64_t length) {
  struct statvfs usage {};
  if (::fstatvfs(fd, &usage) != 0) return 0;  // unknown: let the writes tell
  const uint64_t available = static_cast<uint64_t>(usage.f_bavail) * usage.f_frsize;
  return length > available ? ENOSPC : 0;
}

int status_for_storage_error(int error) {
  if (no_space(error)) return 507;
  if (error == EFBIG) return 413;  // larger than the file system allows
  return 500;
}

std::string temp_dir_or_default(std::string dir) {
  if (!dir.empty()) return dir;
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir && *tmpdir ? std::string(tmpdir) : std::string("/tmp");
}

}  // namespace reel::http::detail
