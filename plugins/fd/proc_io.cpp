#include "proc_io.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>

#include "ckpt/proc_dir.h"
#include "ckpt/raw_syscall.h"

namespace ckpt::fd {
ShortText& ShortText::add(const char* s) {
  while (*s && len_ + 1 < sizeof text_) text_[len_++] = *s++;
  text_[len_] = '\0';
  return *this;
}

ShortText& ShortText::dec(long v) {
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

ShortText& ShortText::hex(uint64_t v, int width) {
  for (int shift = (width - 1) * 4; shift >= 0 && len_ + 1 < sizeof text_; shift -= 4)
    text_[len_++] = "0123456789abcdef"[(v >> shift) & 0xf];
  text_[len_] = '\0';
  return *this;
}

ShortText proc_path(pid_t pid, const char* what, int fd) {
  ShortText t;
  t.add("/proc/");
  if (pid == 0) t.add("self");
  else t.dec(pid);
  t.add("/").add(what);
  if (fd >= 0) t.add("/").dec(fd);
  return t;
}

long list_fds(pid_t pid, MappedArray<int>& out) {
  bool full = false;
  long walked = for_each_numbered_entry(proc_path(pid, "fd").c_str(), [&](long fd, int dir) {
    if (pid == 0 && fd == dir) return true;  // the walker's own descriptor
    full = !out.push(static_cast<int>(fd));
    return !full;
  });
  if (full) return -ENOMEM;
  return walked < 0 ? walked : static_cast<long>(out.size());
}

long read_small_file(const char* path, char* buf, size_t cap) {
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

long read_link(const char* path, char* buf, size_t cap) {
  long n = raw_syscall(SYS_readlink, reinterpret_cast<long>(path), reinterpret_cast<long>(buf), cap - 1);
  buf[n > 0 ? n : 0] = '\0';
  return n;
}

bool find_number_field(const char* text, const char* key, int base, uint64_t* out) {
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

}  // namespace ckpt::fd
