// TableMemory: zeroed, fixed-size memory for the dedupe and session tables, from mmap with
// transparent huge pages requested (madvise), so random probes into tens of MiB walk the page
// tables less often. All-zero bytes must be a valid empty value of T.
// Thread-safety: as a plain array. Failure: throws std::bad_alloc when the memory cannot be
// mapped, as `new` would.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <type_traits>

namespace reel::views {

template <class T>
class TableMemory {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  explicit TableMemory(size_t count) : bytes_(count * sizeof(T)) {
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    ::madvise(p, bytes_, MADV_HUGEPAGE);  // advice only: ignored where unsupported
    data_ = static_cast<T*>(p);
  }
  ~TableMemory() { ::munmap(data_, bytes_); }
  TableMemory(const TableMemory&) = delete;
  TableMemory& operator=(const TableMemory&) = delete;

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() { return data_; }

 private:
  size_t bytes_;
  T* data_;
};

}  // namespace reel::views
