// A growable byte buffer backed by mmap/mremap: the fd plugin's only dynamic
// storage, usable while other threads are frozen (no malloc, no locks).
#pragma once

#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ckpt/raw_syscall.h"

namespace ckpt::fd {

class MappedBuffer {
 public:
  MappedBuffer() = default;
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;

  // Room for at least `bytes` in total; false if the kernel refuses memory.
  bool reserve(size_t bytes) {
    if (bytes <= cap_) return true;
    size_t cap = cap_ ? cap_ : kPage * 16;
    while (cap < bytes) cap *= 2;
    long p = data_ ? raw_syscall(SYS_mremap, reinterpret_cast<long>(data_), cap_, cap, MREMAP_MAYMOVE)
                   : raw_syscall(SYS_mmap, 0, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p < 0 && p > -4096) return false;
    data_ = reinterpret_cast<char*>(p);
    cap_ = cap;
    return true;
  }

  // Appends `len` bytes (zeros if `src` is NULL); returns their offset, or
  // kFailed.
  static constexpr size_t kFailed = ~size_t{0};
  size_t append(const void* src, size_t len) {
    if (!reserve(size_ + len)) return kFailed;
    size_t at = size_;
    if (src) memcpy(data_ + at, src, len);
    else memset(data_ + at, 0, len);
    size_ += len;
    return at;
  }

  // Makes `len` more bytes writable at end() without counting them yet;
  // commit() counts the ones actually filled.
  char* grow_for(size_t len) { return reserve(size_ + len) ? data_ + size_ : nullptr; }
  void commit(size_t len) { size_ += len; }

  template <typename T>
  T* at(size_t offset) { return reinterpret_cast<T*>(data_ + offset); }
  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  void clear() { size_ = 0; }
  void truncate(size_t size) {
    if (size < size_) size_ = size;
  }

  // Gives the memory back to the kernel.
  void release() {
    if (data_) raw_syscall(SYS_munmap, reinterpret_cast<long>(data_), cap_);
    data_ = nullptr;
    size_ = cap_ = 0;
  }

 private:
  static constexpr size_t kPage = 4096;
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
};

// An array of plain structs in a MappedBuffer.
template <typename T>
class MappedArray {
 public:
  bool push(const T& v) { return buf_.append(&v, sizeof v) != MappedBuffer::kFailed; }
  T* data() { return buf_.at<T>(0); }
  T& operator[](size_t i) { return data()[i]; }
  size_t size() const { return buf_.size() / sizeof(T); }
  void clear() { buf_.clear(); }
  void release() { buf_.release(); }

 private:
  MappedBuffer buf_;
};

}  // namespace ckpt::fd
