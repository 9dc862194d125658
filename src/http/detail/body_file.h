// Body spooling: what the server needs to stream a request body to a temporary file instead of
// memory (ServerOptions::body_to_file). FileSinkBody is the Beast body that writes the parsed bytes
// to the file; BodyFile owns that file; the rest maps disk failures to statuses. Beast calls
// FileSinkBody through its Body concept only, so this header needs no Beast include.
// Thread-safety: a BodyFile and a FileSinkBody belong to one session, on its loop's thread; the
// free functions are pure or only read the file system.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <boost/optional/optional_fwd.hpp>
#include <boost/system/error_code.hpp>
#include <cerrno>
#include <cstdint>
#include <string>

#include "common/asio.h"

namespace reel::http::detail {

// A Beast body that writes what the parser decodes (chunked framing removed) straight to an open
// file with write(2), so a body of any size costs only the read buffer. The descriptor is borrowed
// from the session's BodyFile. A failed write stops the parse with the errno as its error.
struct FileSinkBody {
  struct value_type {
    int fd = -1;
    uint64_t size = 0;    // bytes written
    int write_errno = 0;  // errno of the write that failed, 0 if none did
  };

  class reader {
   public:
    template <class MessageHeader>
    reader(MessageHeader&, value_type& body) : body_(body) {}

    void init(const boost::optional<uint64_t>&, boost::system::error_code& ec) { ec = {}; }

    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      size_t written = 0;
      for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
        const asio::const_buffer buffer = *it;
        const char* data = static_cast<const char*>(buffer.data());
        size_t left = buffer.size();
        while (left > 0) {
          const ssize_t n = ::write(body_.fd, data, left);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) {
            body_.write_errno = n < 0 ? errno : EIO;
            ec.assign(body_.write_errno, boost::system::system_category());
            return written;
          }
          data += n;
          left -= static_cast<size_t>(n);
          written += static_cast<size_t>(n);
          body_.size += static_cast<uint64_t>(n);
        }
      }
      ec = {};
      return written;
    }

    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

// The temporary file of one streamed body. remove() (and the destructor) deletes it unless the
// handler renamed it away: the path is unlinked only while it still names the file this object
// created, so a rename, or a new file that reuses the name, is left alone.
class BodyFile {
 public:
  BodyFile() = default;
  BodyFile(const BodyFile&) = delete;
  BodyFile& operator=(const BodyFile&) = delete;
  ~BodyFile() { remove(); }

  // Creates "<dir>/reel-body-XXXXXX" (0600). 0, or the errno of the failure.
  int create(const std::string& dir);
  void remove();

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

// 0 when `length` more bytes fit on the file system of `fd` as far as it can tell now (concurrent
// writers may still fill it: writes report that), else ENOSPC. Reserves nothing, so a client that
// only declares a length cannot take the space from others.
int check_free_space(int fd, uint64_t length);

// The response status for a body that could not be stored, from the errno: 507 (disk full or
// quota), 413 (larger than the file system allows), else 500.
int status_for_storage_error(int error);

// ServerOptions::upload_temp_dir as configured, or $TMPDIR, or /tmp when empty.
std::string temp_dir_or_default(std::string dir);

}  // namespace reel::http::detail
