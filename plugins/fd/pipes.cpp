#include "pipes.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "ckpt/frozen_io.h"
#include "tree_sections.h"

namespace ckpt::fd {
namespace {

// Bytes read out of a pipe (the fallback), to be written back at RESUME.
struct ReadOut {
  int fd;  // the read end they came out of (the application's number)
  uint32_t reserved;
  size_t offset;  // in g_read_out_bytes
  size_t len;
};

MappedBuffer g_bytes;  // tee'd copies, only until they are in a section
MappedBuffer g_read_out_bytes;
MappedArray<ReadOut> g_read_out;

// A new description of the pipe behind `fd` (through /proc/self/fd, which
// reopens the pipe itself, whichever end `fd` is).
long reopen(int fd, int flags) {
  ShortText path = proc_path(0, "fd", fd);
  return raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path.c_str()), flags | O_CLOEXEC);
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

// Reads what `rfd` (non-blocking) holds, at most `limit` bytes, onto the
// end of `out`.
size_t read_into(long rfd, MappedBuffer& out, size_t limit) {
  size_t got = 0;
  while (got < limit) {
    constexpr size_t kChunk = 64 * 1024;
    size_t want = limit - got < kChunk ? limit - got : kChunk;
    char* dst = out.grow_for(want);
    if (!dst) break;
    long n = raw_syscall(SYS_read, rfd, reinterpret_cast<long>(dst), want);
    if (n == -EINTR) continue;
    if (n <= 0) break;  // -EAGAIN: empty; 0: empty and no writer left
    out.commit(static_cast<size_t>(n));
    got += static_cast<size_t>(n);
  }
  return got;
}

// Copies all `avail` bytes of the pipe onto the end of g_bytes without
// taking them out of it. False if tee could not copy everything.
bool copy_with_tee(int fd, size_t avail) {
  int tmp[2];
  if (raw_syscall(SYS_pipe2, reinterpret_cast<long>(tmp), O_CLOEXEC | O_NONBLOCK) < 0) return false;
  long size = raw_syscall(SYS_fcntl, fd, F_GETPIPE_SZ);
  if (size > 0) raw_syscall(SYS_fcntl, tmp[1], F_SETPIPE_SZ, size);
  long copied = raw_syscall(SYS_tee, fd, tmp[1], avail, SPLICE_F_NONBLOCK);
  bool ok = copied == static_cast<long>(avail) && read_into(tmp[0], g_bytes, avail) == avail;
  raw_syscall(SYS_close, tmp[0]);
  raw_syscall(SYS_close, tmp[1]);
  return ok;
}

// The fallback: reads the bytes out through a non-blocking description of
// our own (the application's may block, and its flags must not change) and
// keeps them for refill_pipes(). Only if they can be written back: checked
// without opening the pipe for writing, because a transient extra writer
// would be seen by other processes classifying their pipe ends right now.
bool read_out(int fd, size_t* offset, size_t* len) {
  ShortText path = proc_path(0, "fd", fd);
  long r = raw_syscall(SYS_faccessat2, AT_FDCWD, reinterpret_cast<long>(path.c_str()), W_OK, AT_EACCESS);
  if (r == -ENOSYS) r = raw_syscall(SYS_faccessat, AT_FDCWD, reinterpret_cast<long>(path.c_str()), W_OK);
  if (r != 0) return false;
  long rfd = reopen(fd, O_RDONLY | O_NONBLOCK);
  if (rfd < 0) return false;
  *offset = g_read_out_bytes.size();
  *len = read_into(rfd, g_read_out_bytes, ~size_t{0});
  raw_syscall(SYS_close, rfd);
  if (g_read_out.push({fd, 0, *offset, *len})) return true;
  // Cannot remember them for the refill: put them back right away.
  long wfd = reopen(fd, O_WRONLY | O_NONBLOCK);
  if (wfd >= 0) {
    write_all(wfd, g_read_out_bytes.data() + *offset, *len);
    raw_syscall(SYS_close, wfd);
  }
  return false;
}

}  // namespace

DrainResult drain_pipe(int fd, uint64_t ino) {
  int avail = 0;
  if (raw_syscall(SYS_ioctl, fd, FIONREAD, reinterpret_cast<long>(&avail)) < 0) return DrainResult::Skipped;
  if (avail <= 0) return DrainResult::Empty;
  ShortText name;
  name.add(image::kPipeBytesPrefix).dec(static_cast<long>(ino));
  g_bytes.clear();
  if (copy_with_tee(fd, static_cast<size_t>(avail))) {
    bool saved = ckpt_save_section(name.c_str(), g_bytes.data(), g_bytes.size()) == 0;
    g_bytes.release();
    return saved ? DrainResult::Saved : DrainResult::Unsaved;
  }
  g_bytes.release();
  size_t offset, len;
  if (!read_out(fd, &offset, &len)) return DrainResult::Skipped;
  if (len == 0) return DrainResult::Empty;
  return ckpt_save_section(name.c_str(), g_read_out_bytes.data() + offset, len) == 0 ? DrainResult::Saved
                                                                                      : DrainResult::Unsaved;
}

void refill_pipes() {
  for (size_t i = 0; i < g_read_out.size(); ++i) {
    const ReadOut& d = g_read_out[i];
    // Non-blocking: the bytes came out of this pipe, so they fit back in.
    long wfd = reopen(d.fd, O_WRONLY | O_NONBLOCK);
    if (wfd < 0) continue;
    write_all(wfd, g_read_out_bytes.data() + d.offset, d.len);
    raw_syscall(SYS_close, wfd);
  }
  forget_drained_pipes();
}

void forget_drained_pipes() {
  g_read_out.release();
  g_read_out_bytes.release();
}

}  // namespace ckpt::fd
