#include "pipes.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "mapped_buffer.h"
#include "proc_io.h"

namespace ckpt::fd {
namespace {

struct Drained {
  int fd;  // the read end the bytes came out of (the application's number)
  uint32_t reserved;
  size_t offset;  // in g_bytes
  size_t len;
};

MappedBuffer g_bytes;
MappedArray<Drained> g_drained;

// A new description of the pipe behind `fd` (through /proc/self/fd, which
// reopens the pipe itself, whichever end `fd` is).
long reopen(int fd, int flags) {
  ShortText path = proc_path(0, "fd", fd);
  return raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path.c_str()), flags | O_CLOEXEC);
}

// Whether the refill at RESUME will be able to open the pipe for writing;
// checked without opening it: a transient extra writer would be seen by the
// other processes classifying their pipe ends at the same time.
bool can_refill(int fd) {
  ShortText path = proc_path(0, "fd", fd);
  long r = raw_syscall(SYS_faccessat2, AT_FDCWD, reinterpret_cast<long>(path.c_str()), W_OK, AT_EACCESS);
  if (r == -ENOSYS) r = raw_syscall(SYS_faccessat, AT_FDCWD, reinterpret_cast<long>(path.c_str()), W_OK);
  return r == 0;
}

bool write_all(long fd, const char* p, size_t len) {
  while (len > 0) {
    long n = raw_syscall(SYS_write, fd, reinterpret_cast<long>(p), len);
    if (n == -EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

DrainResult drain_pipe(int fd, uint64_t ino) {
  if (!can_refill(fd)) return DrainResult::Skipped;
  // Our own non-blocking description: the application's may block, and its
  // flags must not change.
  long rfd = reopen(fd, O_RDONLY | O_NONBLOCK);
  if (rfd < 0) return DrainResult::Skipped;
  size_t start = g_bytes.size();
  for (;;) {
    constexpr size_t kChunk = 64 * 1024;
    char* dst = g_bytes.grow_for(kChunk);
    if (!dst) break;  // out of memory: what was read so far is kept and put back
    long n = raw_syscall(SYS_read, rfd, reinterpret_cast<long>(dst), kChunk);
    if (n == -EINTR) continue;
    if (n <= 0) break;  // -EAGAIN: empty; 0: empty and no writer left
    g_bytes.commit(static_cast<size_t>(n));
  }
  raw_syscall(SYS_close, rfd);
  size_t len = g_bytes.size() - start;
  if (len == 0) return DrainResult::Empty;
  if (!g_drained.push({fd, 0, start, len})) {
    // Cannot remember them for the refill: put them back right away.
    long wfd = reopen(fd, O_WRONLY | O_NONBLOCK);
    if (wfd >= 0) {
      write_all(wfd, g_bytes.data() + start, len);
      raw_syscall(SYS_close, wfd);
    }
    return DrainResult::Skipped;
  }
  ShortText name;
  name.add("pipe.").dec(static_cast<long>(ino));
  return ckpt_save_section(name.c_str(), g_bytes.data() + start, len) == 0 ? DrainResult::Saved
                                                                          : DrainResult::Unsaved;
}

void refill_pipes() {
  for (size_t i = 0; i < g_drained.size(); ++i) {
    const Drained& d = g_drained[i];
    // Non-blocking: the bytes came out of this pipe, so they fit back in.
    long wfd = reopen(d.fd, O_WRONLY | O_NONBLOCK);
    if (wfd < 0) continue;
    write_all(wfd, g_bytes.data() + d.offset, d.len);
    raw_syscall(SYS_close, wfd);
  }
  forget_drained_pipes();
}

void forget_drained_pipes() {
  g_drained.release();
  g_bytes.release();
}

}  // namespace ckpt::fd
