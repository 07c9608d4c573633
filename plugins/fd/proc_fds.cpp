#include "proc_fds.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ckpt/raw_syscall.h"
#include "ckpt/frozen_io.h"

namespace ckpt::fd {
namespace {

using image::FdKind;
using image::FdRecord;

// What the restart needs of one descriptor; static memory (DRAIN runs with
// every thread frozen), restored with the process's memory.
struct ProcFd {
  int fd;
  uint32_t fd_flags;
  uint32_t status_flags;
  int64_t offset;
  pid_t pid;          // virtual
  pid_t tid;          // virtual, 0 if the path has no /task/<tid>
  char rest[256];     // what follows the id(s), "/status"
};
constexpr int kMaxProcFds = 64;
ProcFd g_proc[kMaxProcFds];
int g_count = 0;

// Reads a whole path component of digits at `p`: its value, or -1.
long read_component(const char*& p) {
  long v = 0;
  const char* q = p;
  for (; *q >= '0' && *q <= '9'; ++q)
    if ((v = v * 10 + (*q - '0')) > 0x7fffffff) return -1;
  if (q == p || (*q != '/' && *q != '\0')) return -1;
  p = q;
  return v;
}

// The new kernel id of virtual `id` in the restored process `info`: this
// process and its threads from the restart's own record, anyone else from
// the pid table.
pid_t restored_id(pid_t id, const ckpt_restart_info& info) {
  if (id == info.virt_pid) return info.real_pid;
  for (int i = 0; i < info.thread_count; ++i)
    if (info.threads[i].virt_tid == id) return info.threads[i].real_tid;
  return ckpt_real_pid(id);
}

}  // namespace

bool claim_proc_fd(FdRecord& r) {
  const char* p = r.path;
  if (strncmp(p, "/proc/", 6) != 0) return false;
  p += 6;
  long pid = read_component(p), tid = 0;
  if (pid <= 0) return false;  // /proc/meminfo and the like reopen as they are
  if (strncmp(p, "/task/", 6) == 0) {
    const char* q = p + 6;
    if ((tid = read_component(q)) <= 0) return false;
    p = q;
  }
  if (strlen(p) >= sizeof g_proc[0].rest) return false;
  if (g_count == kMaxProcFds) {
    ckpt_fail_checkpoint("more than 64 descriptors of /proc/<pid> files in one process");
    return false;
  }
  ProcFd& f = g_proc[g_count++];
  f = ProcFd{r.fd, r.fd_flags, r.status_flags, r.offset, ckpt_virtual_pid(static_cast<pid_t>(pid)),
             tid ? ckpt_virtual_pid(static_cast<pid_t>(tid)) : 0, {}};
  memcpy(f.rest, p, strlen(p) + 1);
  ShortText path;
  path.add("/proc/").dec(f.pid);
  if (f.tid) path.add("/task/").dec(f.tid);
  MessageText(r.path, sizeof r.path).add(path.c_str()).add(f.rest);
  r.kind = FdKind::Elsewhere;
  return true;
}

void forget_proc_fds() { g_count = 0; }

void reopen_proc_fds(const ckpt_restart_info& info) {
  for (int i = 0; i < g_count; ++i) {
    const ProcFd& f = g_proc[i];
    ShortText path;
    path.add("/proc/").dec(restored_id(f.pid, info));
    if (f.tid) path.add("/task/").dec(restored_id(f.tid, info));
    char full[300];
    MessageText(full, sizeof full).add(path.c_str()).add(f.rest);
    const int flags = static_cast<int>(f.status_flags & ~(O_CREAT | O_TRUNC | O_EXCL)) | O_CLOEXEC;
    long fd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(full), flags);
    if (fd < 0) {
      // The process it named is gone: the number stays closed, as if the
      // file had been. Said in the log; the application sees EBADF.
      ShortText fd_text;
      fd_text.add("fd ").dec(f.fd).add(": cannot reopen ");
      char line[400];
      MessageText(line, sizeof line).add(fd_text.c_str()).add(full).add(" after the restart");
      ckpt_log_warning(line);
      continue;
    }
    if (fd != f.fd) {
      raw_syscall(SYS_dup3, fd, f.fd, (f.fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
      raw_syscall(SYS_close, fd);
    } else if (!(f.fd_flags & FD_CLOEXEC)) {
      raw_syscall(SYS_fcntl, fd, F_SETFD, 0);
    }
    if (f.offset > 0) raw_syscall(SYS_lseek, f.fd, f.offset, SEEK_SET);
  }
}

}  // namespace ckpt::fd
