/* Walks directories (/proc/self/task, /proc/<pid>/fd, a checkpoint
 * directory) for libckpt and its plugins: raw getdents64 into a stack
 * buffer, no allocation and no locks, so it is safe while other threads are
 * frozen and in the image writer. */
#ifndef CKPT_PROC_DIR_H
#define CKPT_PROC_DIR_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "ckpt/raw_syscall.h"

#ifdef __cplusplus
extern "C++" {
namespace ckpt {

/* Calls fn(name, dir_fd) for every entry of `path` but "." and "..";
 * dir_fd is the walker's own descriptor (listing /proc/self/fd shows it too,
 * and unlinkat on it removes an entry). fn returns false to stop. Returns 0
 * after the last entry, 1 if fn stopped the walk, or -errno if the directory
 * could not be opened or read. */
template <typename Fn>
long for_each_entry(const char* path, Fn&& fn) {
  struct Dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
  };
  long dir = raw_syscall(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return dir;
  alignas(8) char buf[4096];
  long result = 0;
  while (result == 0) {
    long n = raw_syscall(SYS_getdents64, dir, (long)buf, sizeof buf);
    if (n <= 0) {
      result = n;
      break;
    }
    for (long off = 0; off < n && result == 0;) {
      const Dirent64* d = (const Dirent64*)(buf + off);
      off += d->d_reclen;
      if (d->d_name[0] == '.' && (d->d_name[1] == '\0' || (d->d_name[1] == '.' && d->d_name[2] == '\0'))) continue;
      if (!fn((const char*)d->d_name, (int)dir)) result = 1;
    }
  }
  raw_syscall(SYS_close, dir);
  return result;
}

/* Calls fn(number, dir_fd) for every numeric entry of `path`, as
 * for_each_entry does. */
template <typename Fn>
long for_each_numbered_entry(const char* path, Fn&& fn) {
  return for_each_entry(path, [&](const char* name, int dir) {
    if (name[0] < '0' || name[0] > '9') return true;
    long number = 0;
    for (const char* c = name; *c; ++c) number = number * 10 + (*c - '0');
    return (bool)fn(number, dir);
  });
}

}  // namespace ckpt
}
#endif

#endif
