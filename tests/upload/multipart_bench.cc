// Measures the multipart scanner and extract() on a large body: writes DIR/body.multipart (two text
// fields and one file part of SIZE_MB pseudo-random bytes) unless it exists, then times
// parse_multipart with the file's pages cached and evicted (POSIX_FADV_DONTNEED on this file
// only), and extract() into DIR/extracted.
//   upload_multipart_bench /var/tmp/bench 1024
// Not installed and not a test.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "upload/multipart.h"

namespace {

constexpr std::string_view boundary = "----WebKitFormBoundaryq8ZbJ2rDx9LkT3vA";

void write_body(const std::string& path, uint64_t file_bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::string b(boundary);
  out << "--" << b << "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nA title\r\n"
      << "--" << b << "\r\nContent-Disposition: form-data; name=\"tags\"\r\n\r\ncats dogs\r\n"
      << "--" << b << "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n"
      << "Content-Type: video/mp4\r\n\r\n";
  std::vector<uint64_t> block(1 << 17);
  uint64_t state = 0x9e3779b97f4a7c15u;
  for (uint64_t written = 0; written < file_bytes;) {
    for (uint64_t& word : block) {  // xorshift64: incompressible, like video
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      word = state;
    }
    const uint64_t n = std::min<uint64_t>(file_bytes - written, block.size() * sizeof(uint64_t));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    written += n;
  }
  out << "\r\n--" << b << "--\r\n";
}

void evict(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

template <class F>
double seconds(F&& run) {
  const auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: upload_multipart_bench DIR SIZE_MB\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const uint64_t size = std::strtoull(argv[2], nullptr, 10) << 20;
  const std::string body = (dir / "body.multipart").string();
  const std::string type = "multipart/form-data; boundary=" + std::string(boundary);
  if (!std::filesystem::exists(body)) write_body(body, size);
  const double gib = static_cast<double>(std::filesystem::file_size(body)) / (1 << 30);

  reel::Result<std::vector<reel::upload::Part>> parts = reel::Error{""};
  for (const bool cold : {true, false, false}) {
    if (cold) evict(body);
    const double took = seconds([&] { parts = reel::upload::parse_multipart(body, type); });
    if (!parts) {
      fmt::print(stderr, "{}\n", parts.error().message);
      return 1;
    }
    fmt::print("parse ({}): {:.3f} s, {:.2f} GiB/s\n", cold ? "cold" : "cached", took, gib / took);
  }
  const reel::upload::Part* file = reel::upload::find_part(*parts, "file");
  const std::string dest = (dir / "extracted").string();
  std::filesystem::remove(dest);
  const double took = seconds([&] { (void)reel::upload::extract(body, file->range, dest); });
  fmt::print("extract (fdatasync'ed): {:.3f} s, {:.2f} GiB/s, {} bytes\n", took, gib / took,
             std::filesystem::file_size(dest));
  std::filesystem::remove(dest);
  return 0;
}
