// Reading /proc/<pid>/fdinfo/<fd> of event descriptors while threads are
// frozen: the whole file into an mmap-backed buffer, and a small scanner for
// its "key: value" lines (eventfd-count, clockid, it_value: (s, ns), the
// "tfd: ... events: ... data: ..." lines of an epoll instance and the
// "inotify wd:... ino:..." lines of an inotify instance). No allocation.
#pragma once

#include <stdint.h>
#include <string.h>

#include "ckpt/frozen_io.h"

namespace ckpt::event {

// The whole of a /proc file (an epoll instance's interest list can be long),
// NUL-terminated. Returns its length or a negative errno.
inline long read_proc_file(const char* path, MappedBuffer& out) {
  out.clear();
  long fd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  long n;
  for (;;) {
    char* room = out.grow_for(4096);
    if (!room) {
      n = -ENOMEM;
      break;
    }
    n = raw_syscall(SYS_read, fd, reinterpret_cast<long>(room), 4095);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    out.commit(static_cast<size_t>(n));
  }
  raw_syscall(SYS_close, fd);
  if (n < 0) return n;
  char* end = out.grow_for(1);
  if (!end) return -ENOMEM;
  *end = '\0';
  return static_cast<long>(out.size());
}

// A cursor over fdinfo text.
class FdinfoScan {
 public:
  explicit FdinfoScan(const char* text) : p_(text) {}

  // Moves to just after `key` at the start of a line (from the text's
  // start); false if no line starts with it.
  bool seek_line(const char* text, const char* key) {
    size_t n = strlen(key);
    for (const char* line = text; *line;) {
      if (strncmp(line, key, n) == 0) {
        p_ = line + n;
        return true;
      }
      const char* nl = strchr(line, '\n');
      if (!nl) break;
      line = nl + 1;
    }
    return false;
  }

  // Moves to just after the next occurrence of `word` on the current line.
  bool skip_to(const char* word) {
    size_t n = strlen(word);
    for (const char* q = p_; *q && *q != '\n'; ++q)
      if (strncmp(q, word, n) == 0) {
        p_ = q + n;
        return true;
      }
    return false;
  }

  // The next line of the text; false at its end.
  bool next_line() {
    const char* nl = strchr(p_, '\n');
    if (!nl || !nl[1]) return false;
    p_ = nl + 1;
    return true;
  }
  bool at(const char* prefix) const { return strncmp(p_, prefix, strlen(prefix)) == 0; }

  bool number(int base, uint64_t* out) {
    skip_blanks();
    bool negative = *p_ == '-';
    if (negative) ++p_;
    uint64_t v = 0;
    int digits = 0;
    for (int d; (d = digit(*p_, base)) >= 0; ++p_, ++digits) v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (!digits) return false;
    *out = negative ? 0 - v : v;
    return true;
  }
  bool signed_number(int64_t* out) {
    uint64_t v;
    if (!number(10, &v)) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }
  // "(sec, nsec)"
  bool pair(int64_t* a, int64_t* b) {
    skip_blanks();
    if (*p_ != '(') return false;
    ++p_;
    if (!signed_number(a)) return false;
    skip_blanks();
    if (*p_ != ',') return false;
    ++p_;
    if (!signed_number(b)) return false;
    skip_blanks();
    return *p_ == ')';
  }

 private:
  void skip_blanks() {
    while (*p_ == ' ' || *p_ == '\t') ++p_;
  }
  static int digit(char c, int base) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
    return d < base ? d : -1;
  }

  const char* p_;
};

// The number after "key:" at the start of a line of `text`, in `base`.
inline bool fdinfo_field(const char* text, const char* key, int base, uint64_t* out) {
  FdinfoScan scan(text);
  return scan.seek_line(text, key) && scan.number(base, out);
}

}  // namespace ckpt::event
