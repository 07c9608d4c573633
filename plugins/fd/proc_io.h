// Small raw-syscall helpers over /proc for the frozen phase: no stdio, no
// opendir, no malloc. Every function returns a negative errno on failure.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mapped_buffer.h"

namespace ckpt::fd {

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

}  // namespace ckpt::fd
