/* Helpers for plugin code that runs while the application's threads are
 * frozen (CKPT_EVENT_PRE_CHECKPOINT, CKPT_EVENT_DRAIN, CKPT_EVENT_RESUME):
 * growable buffers backed by mmap/mremap, short texts built in place, and
 * small reads of /proc, all over raw system calls, with no malloc, no locks
 * and no stdio. Header-only C++, for libckpt's built-in plugins and third
 * parties alike. Every function returns a negative errno on failure. */
#ifndef CKPT_FROZEN_IO_H
#define CKPT_FROZEN_IO_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "ckpt/proc_dir.h"
#include "ckpt/raw_syscall.h"

namespace ckpt {

// A growable byte buffer (mmap/mremap): usable while other threads are frozen.
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
                   : raw_syscall(SYS_mmap, 0, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
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

// A short string built in place ("/proc/123/fdinfo/7", "pipe.4711").
class ShortText {
 public:
  ShortText& add(const char* s);
  ShortText& dec(long v);
  ShortText& hex(uint64_t v, int width);  // lower-case, zero-padded to `width`
  const char* c_str() const { return text_; }
  size_t size() const { return len_; }

 private:
  char text_[128] = {};
  size_t len_ = 0;
};

// Text appended into a caller's buffer, cut at its size: for messages,
// which may carry a whole path.
class MessageText {
 public:
  MessageText(char* buf, size_t cap) : buf_(buf), cap_(cap) { buf_[0] = '\0'; }
  MessageText& add(const char* s) {
    while (*s && len_ + 1 < cap_) buf_[len_++] = *s++;
    buf_[len_] = '\0';
    return *this;
  }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
};

// "/proc/self/<what>/<fd>" for pid 0, else "/proc/<pid>/<what>/<fd>"
// (fd < 0: without the last component).
ShortText proc_path(pid_t pid, const char* what, int fd = -1);

// The descriptor numbers in /proc/<pid>/fd (pid 0: this process), in
// directory order, without the descriptor used to read the directory.
long list_fds(pid_t pid, MappedArray<int>& out);

// Reads up to cap-1 bytes of a (small, /proc) file and NUL-terminates them.
long read_small_file(const char* path, char* buf, size_t cap);

// readlink(2), NUL-terminated; returns the length.
long read_link(const char* path, char* buf, size_t cap);

// In "Key:\tvalue\n" text (/proc/.../status, fdinfo): the number after
// `key` at the start of a line, in `base` (8 or 10). False if absent.
bool find_number_field(const char* text, const char* key, int base, uint64_t* out);

// Definitions.

inline ShortText& ShortText::add(const char* s) {
  while (*s && len_ + 1 < sizeof text_) text_[len_++] = *s++;
  text_[len_] = '\0';
  return *this;
}

inline ShortText& ShortText::dec(long v) {
  char digits[24];
  int n = 0;
  unsigned long u = v < 0 ? 0UL - static_cast<unsigned long>(v) : static_cast<unsigned long>(v);
  do {
    digits[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) digits[n++] = '-';
  while (n > 0 && len_ + 1 < sizeof text_) text_[len_++] = digits[--n];
  text_[len_] = '\0';
  return *this;
}

inline ShortText& ShortText::hex(uint64_t v, int width) {
  for (int shift = (width - 1) * 4; shift >= 0 && len_ + 1 < sizeof text_; shift -= 4)
    text_[len_++] = "0123456789abcdef"[(v >> shift) & 0xf];
  text_[len_] = '\0';
  return *this;
}

inline ShortText proc_path(pid_t pid, const char* what, int fd) {
  ShortText t;
  t.add("/proc/");
  if (pid == 0) t.add("self");
  else t.dec(pid);
  t.add("/").add(what);
  if (fd >= 0) t.add("/").dec(fd);
  return t;
}

inline long list_fds(pid_t pid, MappedArray<int>& out) {
  bool full = false;
  long walked = for_each_numbered_entry(proc_path(pid, "fd").c_str(), [&](long fd, int dir) {
    if (pid == 0 && fd == dir) return true;  // the walker's own descriptor
    full = !out.push(static_cast<int>(fd));
    return !full;
  });
  if (full) return -ENOMEM;
  return walked < 0 ? walked : static_cast<long>(out.size());
}

inline long read_small_file(const char* path, char* buf, size_t cap) {
  long fd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  size_t got = 0;
  while (got + 1 < cap) {
    long n = raw_syscall(SYS_read, fd, reinterpret_cast<long>(buf + got), cap - 1 - got);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  buf[got] = '\0';
  raw_syscall(SYS_close, fd);
  return static_cast<long>(got);
}

inline long read_link(const char* path, char* buf, size_t cap) {
  long n = raw_syscall(SYS_readlink, reinterpret_cast<long>(path), reinterpret_cast<long>(buf), cap - 1);
  buf[n > 0 ? n : 0] = '\0';
  return n;
}

inline bool find_number_field(const char* text, const char* key, int base, uint64_t* out) {
  size_t key_len = strlen(key);
  for (const char* line = text; *line;) {
    if (strncmp(line, key, key_len) == 0 && line[key_len] == ':') {
      const char* p = line + key_len + 1;
      while (*p == ' ' || *p == '\t') ++p;
      if (*p < '0' || *p > '9') return false;
      uint64_t v = 0;
      for (; *p >= '0' && *p < '0' + base; ++p) v = v * base + static_cast<uint64_t>(*p - '0');
      *out = v;
      return true;
    }
    const char* nl = strchr(line, '\n');
    if (!nl) break;
    line = nl + 1;
  }
  return false;
}

}  // namespace ckpt

#endif  // CKPT_FROZEN_IO_H
