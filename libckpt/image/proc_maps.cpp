// /proc/<pid>/maps parsing. Runs in the snapshot child, where the parent's
// frozen threads may hold the malloc and stdio locks: so no allocation, no
// stdio, only open/read/close and a fixed buffer on the stack.
#include "proc_maps.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

namespace ckpt {
namespace {

struct Cursor {
  const char* p;
  const char* end;

  bool eat(char c) {
    if (p == end || *p != c) return false;
    p++;
    return true;
  }

  bool hex(uint64_t& v) {
    const char* start = p;
    v = 0;
    for (; p != end; p++) {
      char c = *p;
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else break;
      if (v >> 60) return false;  // more than 64 bits
      v = v << 4 | d;
    }
    return p != start;
  }

  bool dec(uint64_t& v) {
    const char* start = p;
    v = 0;
    for (; p != end && *p >= '0' && *p <= '9'; p++) {
      uint64_t d = *p - '0';
      if (v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
    }
    return p != start;
  }
};

constexpr char kDeleted[] = " (deleted)";
constexpr size_t kDeletedLen = sizeof(kDeleted) - 1;

// Like parse_maps_line, but tells a line that is malformed (-EINVAL) from one
// whose path does not fit MapEntry::path (-ENAMETOOLONG).
int parse_line(const char* line, size_t len, MapEntry& out) {
  if (len && line[len - 1] == '\n') len--;
  Cursor c{line, line + len};
  uint64_t maj, min;
  if (!c.hex(out.start) || !c.eat('-') || !c.hex(out.end) || !c.eat(' ')) return -EINVAL;
  if (c.end - c.p < 5) return -EINVAL;
  const char* perms = c.p;
  out.prot = 0;
  if (perms[0] == 'r') out.prot |= PROT_READ;
  else if (perms[0] != '-') return -EINVAL;
  if (perms[1] == 'w') out.prot |= PROT_WRITE;
  else if (perms[1] != '-') return -EINVAL;
  if (perms[2] == 'x') out.prot |= PROT_EXEC;
  else if (perms[2] != '-') return -EINVAL;
  if (perms[3] != 's' && perms[3] != 'p') return -EINVAL;
  out.shared = perms[3] == 's';
  c.p += 4;
  if (!c.eat(' ') || !c.hex(out.offset) || !c.eat(' ')) return -EINVAL;
  if (!c.hex(maj) || !c.eat(':') || !c.hex(min) || !c.eat(' ') || !c.dec(out.inode)) return -EINVAL;
  if (maj > UINT32_MAX || min > UINT32_MAX || out.start >= out.end) return -EINVAL;
  out.dev_major = static_cast<uint32_t>(maj);
  out.dev_minor = static_cast<uint32_t>(min);

  // The kernel pads the inode column with spaces before a path; every path it
  // prints starts with '/' or '[' (or is empty), so leading spaces are padding.
  if (c.p != c.end && *c.p != ' ') return -EINVAL;
  while (c.p != c.end && *c.p == ' ') c.p++;
  size_t plen = c.end - c.p;
  out.path_deleted = plen > kDeletedLen && memcmp(c.end - kDeletedLen, kDeleted, kDeletedLen) == 0;
  if (out.path_deleted) plen -= kDeletedLen;
  if (plen >= sizeof(out.path)) return -ENAMETOOLONG;
  memcpy(out.path, c.p, plen);
  out.path[plen] = '\0';
  return 0;
}

// Appends the decimal form of v to buf at *pos.
void append_uint(char* buf, size_t& pos, unsigned v) {
  char digits[16];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) buf[pos++] = digits[--n];
}

}  // namespace

bool parse_maps_line(const char* line, size_t len, MapEntry& out) {
  return parse_line(line, len, out) == 0;
}

long read_proc_maps(int pid, MapEntry* out, size_t max) {
  char path[32] = "/proc/self/maps";
  if (pid > 0) {
    size_t pos = 6;  // after "/proc/"
    append_uint(path, pos, static_cast<unsigned>(pid));
    memcpy(path + pos, "/maps", 6);
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;

  // Longest possible line: ~100 bytes of columns, a PATH_MAX path and " (deleted)".
  char buf[8192];
  size_t have = 0;
  size_t count = 0;
  long result = 0;
  for (bool eof = false; !eof && result == 0;) {
    ssize_t n = read(fd, buf + have, sizeof(buf) - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = -errno;
      break;
    }
    eof = n == 0;
    have += n;
    size_t used = 0;
    while (used < have) {
      const char* line = buf + used;
      const char* nl = static_cast<const char*>(memchr(line, '\n', have - used));
      if (!nl && !eof) break;  // incomplete line: read more
      size_t len = nl ? nl - line + 1 : have - used;
      if (count == max) {
        result = -ENOSPC;
        break;
      }
      if (int err = parse_line(line, len, out[count])) {
        result = err;
        break;
      }
      count++;
      used += len;
    }
    if (result) break;
    if (used == 0 && have == sizeof(buf)) {
      result = -ENAMETOOLONG;  // a line longer than any the kernel can produce
      break;
    }
    memmove(buf, buf + used, have - used);
    have -= used;
  }
  close(fd);
  return result ? result : static_cast<long>(count);
}

}  // namespace ckpt
