// The path-taking calls of the C library that no other plugin wraps, sent
// through the path map (ckpt_path_to_real), and the calls that return a path
// the kernel made (getcwd, realpath), sent back through it. The calls that
// also name /proc/<pid> paths (open, stat, access, readlink, chdir ...) are
// plugins/pid/proc_paths.cpp's, which apply the map first; exec is the
// core's (libckpt/src/exec.cpp).
//
// Each wrapper costs one test of an empty table when no map is set. A path
// the wrapper cannot read goes to the real call untouched, which answers
// EFAULT as it would without ckpt. Only functions resolved with
// dlsym(RTLD_NEXT) are called, never a symbol the application may define.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "path_state.h"

namespace {

template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

struct RealCalls {
  char* (*getcwd)(char*, size_t);
  char* (*get_current_dir_name)();
  char* (*realpath)(const char*, char*);
  char* (*canonicalize_file_name)(const char*);
  int (*mkdir)(const char*, mode_t);
  int (*mkdirat)(int, const char*, mode_t);
  int (*rmdir)(const char*);
  int (*unlink)(const char*);
  int (*unlinkat)(int, const char*, int);
  int (*rename)(const char*, const char*);
  int (*renameat)(int, const char*, int, const char*);
  int (*renameat2)(int, const char*, int, const char*, unsigned);
  int (*link)(const char*, const char*);
  int (*linkat)(int, const char*, int, const char*, int);
  int (*symlink)(const char*, const char*);
  int (*symlinkat)(const char*, int, const char*);
  int (*truncate)(const char*, off_t);
  int (*truncate64)(const char*, off64_t);
  int (*creat)(const char*, mode_t);
  int (*creat64)(const char*, mode_t);
  int (*chmod)(const char*, mode_t);
  int (*fchmodat)(int, const char*, mode_t, int);
  int (*chown)(const char*, uid_t, gid_t);
  int (*lchown)(const char*, uid_t, gid_t);
  int (*fchownat)(int, const char*, uid_t, gid_t, int);
  int (*utimensat)(int, const char*, const struct timespec*, int);
  int (*utimes)(const char*, const struct timeval*);
  int (*utime)(const char*, const struct utimbuf*);
  int (*mkfifo)(const char*, mode_t);
  int (*mknod)(const char*, mode_t, dev_t);
  int (*statfs)(const char*, struct statfs*);
  int (*statvfs)(const char*, struct statvfs*);
  FILE* (*freopen)(const char*, const char*, FILE*);
  FILE* (*freopen64)(const char*, const char*, FILE*);
  int (*chroot)(const char*);
};
RealCalls g_real;

__attribute__((constructor(150))) void resolve_path_calls() {
  g_real.getcwd = next<decltype(g_real.getcwd)>("getcwd");
  g_real.get_current_dir_name = next<decltype(g_real.get_current_dir_name)>("get_current_dir_name");
  g_real.realpath = next<decltype(g_real.realpath)>("realpath");
  g_real.canonicalize_file_name = next<decltype(g_real.canonicalize_file_name)>("canonicalize_file_name");
  g_real.mkdir = next<decltype(g_real.mkdir)>("mkdir");
  g_real.mkdirat = next<decltype(g_real.mkdirat)>("mkdirat");
  g_real.rmdir = next<decltype(g_real.rmdir)>("rmdir");
  g_real.unlink = next<decltype(g_real.unlink)>("unlink");
  g_real.unlinkat = next<decltype(g_real.unlinkat)>("unlinkat");
  g_real.rename = next<decltype(g_real.rename)>("rename");
  g_real.renameat = next<decltype(g_real.renameat)>("renameat");
  g_real.renameat2 = next<decltype(g_real.renameat2)>("renameat2");
  g_real.link = next<decltype(g_real.link)>("link");
  g_real.linkat = next<decltype(g_real.linkat)>("linkat");
  g_real.symlink = next<decltype(g_real.symlink)>("symlink");
  g_real.symlinkat = next<decltype(g_real.symlinkat)>("symlinkat");
  g_real.truncate = next<decltype(g_real.truncate)>("truncate");
  g_real.truncate64 = next<decltype(g_real.truncate64)>("truncate64");
  g_real.creat = next<decltype(g_real.creat)>("creat");
  g_real.creat64 = next<decltype(g_real.creat64)>("creat64");
  g_real.chmod = next<decltype(g_real.chmod)>("chmod");
  g_real.fchmodat = next<decltype(g_real.fchmodat)>("fchmodat");
  g_real.chown = next<decltype(g_real.chown)>("chown");
  g_real.lchown = next<decltype(g_real.lchown)>("lchown");
  g_real.fchownat = next<decltype(g_real.fchownat)>("fchownat");
  g_real.utimensat = next<decltype(g_real.utimensat)>("utimensat");
  g_real.utimes = next<decltype(g_real.utimes)>("utimes");
  g_real.utime = next<decltype(g_real.utime)>("utime");
  g_real.mkfifo = next<decltype(g_real.mkfifo)>("mkfifo");
  g_real.mknod = next<decltype(g_real.mknod)>("mknod");
  g_real.statfs = next<decltype(g_real.statfs)>("statfs");
  g_real.statvfs = next<decltype(g_real.statvfs)>("statvfs");
  g_real.freopen = next<decltype(g_real.freopen)>("freopen");
  g_real.freopen64 = next<decltype(g_real.freopen64)>("freopen64");
  g_real.chroot = next<decltype(g_real.chroot)>("chroot");
}

// Calls made before our constructor (other libraries' constructors) resolve then.
RealCalls& real() {
  if (!g_real.chroot) resolve_path_calls();
  return g_real;
}

bool mapped() { return !ckpt::path::process_map().empty(); }

// A path as the kernel must see it, rewritten (if at all) on the caller's stack.
class KernelPath {
 public:
  explicit KernelPath(const char* path) : path_(mapped() ? ckpt_path_to_real(path, buf_, sizeof buf_) : path) {}
  const char* get() const { return path_; }

 private:
  char buf_[PATH_MAX];
  const char* path_;
};

// The working directory as the application sees it, into `out` (PATH_MAX
// bytes); its length, or -1 with errno set. Only with a map set.
long virtual_cwd(char* out) {
  long n = ckpt::raw_syscall(SYS_getcwd, reinterpret_cast<long>(out), PATH_MAX);
  if (n < 0) {
    errno = static_cast<int>(-n);
    return -1;
  }
  size_t len = static_cast<size_t>(n) - 1;  // the kernel counts the NUL
  if (out[0] != '/') {                       // "(unreachable)/...": the C library says ENOENT
    errno = ENOENT;
    return -1;
  }
  len = ckpt_path_to_virtual(out, len, PATH_MAX);
  if (len == PATH_MAX) {  // cut: the virtual path does not fit
    errno = ENAMETOOLONG;
    return -1;
  }
  out[len] = '\0';
  return static_cast<long>(len);
}

// The C library's getcwd contract for a result of `len` bytes: into `buf`
// of `size` bytes, or into memory of its own when `buf` is NULL.
char* give_cwd(const char* cwd, size_t len, char* buf, size_t size) {
  if (!buf) {
    size_t need = size ? size : len + 1;
    if (need < len + 1) {
      errno = ERANGE;
      return nullptr;
    }
    buf = static_cast<char*>(malloc(need));
    if (!buf) return nullptr;
  } else if (size == 0) {
    errno = EINVAL;
    return nullptr;
  } else if (size < len + 1) {
    errno = ERANGE;
    return nullptr;
  } else if (!ckpt_readable_user_memory(buf, len + 1)) {
    errno = EFAULT;
    return nullptr;
  }
  memcpy(buf, cwd, len + 1);
  return buf;
}

char* virtual_realpath(const char* path, char* resolved) {
  char out[PATH_MAX];
  if (!real().realpath(KernelPath(path).get(), out)) return nullptr;
  size_t len = ckpt_path_to_virtual(out, strlen(out), PATH_MAX - 1);
  out[len] = '\0';
  if (!resolved) {
    resolved = static_cast<char*>(malloc(len + 1));
    if (!resolved) return nullptr;
  }
  memcpy(resolved, out, len + 1);
  return resolved;
}

}  // namespace

extern "C" {

char* getcwd(char* buf, size_t size) {
  if (!mapped()) return real().getcwd(buf, size);
  char cwd[PATH_MAX];
  long len = virtual_cwd(cwd);
  return len < 0 ? nullptr : give_cwd(cwd, static_cast<size_t>(len), buf, size);
}

char* get_current_dir_name() {
  if (!mapped()) return real().get_current_dir_name();
  char cwd[PATH_MAX];
  long len = virtual_cwd(cwd);
  return len < 0 ? nullptr : give_cwd(cwd, static_cast<size_t>(len), nullptr, 0);
}

char* realpath(const char* path, char* resolved) {
  if (!mapped()) return real().realpath(path, resolved);
  return virtual_realpath(path, resolved);
}

char* canonicalize_file_name(const char* path) {
  if (!mapped()) return real().canonicalize_file_name(path);
  return virtual_realpath(path, nullptr);
}

int mkdir(const char* path, mode_t mode) { return real().mkdir(KernelPath(path).get(), mode); }
int mkdirat(int dirfd, const char* path, mode_t mode) { return real().mkdirat(dirfd, KernelPath(path).get(), mode); }
int rmdir(const char* path) { return real().rmdir(KernelPath(path).get()); }
int unlink(const char* path) { return real().unlink(KernelPath(path).get()); }
int unlinkat(int dirfd, const char* path, int flags) { return real().unlinkat(dirfd, KernelPath(path).get(), flags); }

int rename(const char* from, const char* to) { return real().rename(KernelPath(from).get(), KernelPath(to).get()); }
int renameat(int fromfd, const char* from, int tofd, const char* to) {
  return real().renameat(fromfd, KernelPath(from).get(), tofd, KernelPath(to).get());
}
int renameat2(int fromfd, const char* from, int tofd, const char* to, unsigned flags) {
  return real().renameat2(fromfd, KernelPath(from).get(), tofd, KernelPath(to).get(), flags);
}

int link(const char* from, const char* to) { return real().link(KernelPath(from).get(), KernelPath(to).get()); }
int linkat(int fromfd, const char* from, int tofd, const char* to, int flags) {
  return real().linkat(fromfd, KernelPath(from).get(), tofd, KernelPath(to).get(), flags);
}
// An absolute target is stored as its real path: the kernel follows it later
// without us, and readlink gives it back virtual.
int symlink(const char* target, const char* path) {
  return real().symlink(KernelPath(target).get(), KernelPath(path).get());
}
int symlinkat(const char* target, int dirfd, const char* path) {
  return real().symlinkat(KernelPath(target).get(), dirfd, KernelPath(path).get());
}

int truncate(const char* path, off_t len) { return real().truncate(KernelPath(path).get(), len); }
int truncate64(const char* path, off64_t len) { return real().truncate64(KernelPath(path).get(), len); }
int creat(const char* path, mode_t mode) { return real().creat(KernelPath(path).get(), mode); }
int creat64(const char* path, mode_t mode) { return real().creat64(KernelPath(path).get(), mode); }

int chmod(const char* path, mode_t mode) { return real().chmod(KernelPath(path).get(), mode); }
int fchmodat(int dirfd, const char* path, mode_t mode, int flags) {
  return real().fchmodat(dirfd, KernelPath(path).get(), mode, flags);
}
int chown(const char* path, uid_t uid, gid_t gid) { return real().chown(KernelPath(path).get(), uid, gid); }
int lchown(const char* path, uid_t uid, gid_t gid) { return real().lchown(KernelPath(path).get(), uid, gid); }
int fchownat(int dirfd, const char* path, uid_t uid, gid_t gid, int flags) {
  return real().fchownat(dirfd, KernelPath(path).get(), uid, gid, flags);
}

int utimensat(int dirfd, const char* path, const struct timespec times[2], int flags) {
  return real().utimensat(dirfd, KernelPath(path).get(), times, flags);
}
int utimes(const char* path, const struct timeval times[2]) { return real().utimes(KernelPath(path).get(), times); }
int utime(const char* path, const struct utimbuf* times) { return real().utime(KernelPath(path).get(), times); }

int mkfifo(const char* path, mode_t mode) { return real().mkfifo(KernelPath(path).get(), mode); }
int mknod(const char* path, mode_t mode, dev_t dev) { return real().mknod(KernelPath(path).get(), mode, dev); }

int statfs(const char* path, struct statfs* buf) { return real().statfs(KernelPath(path).get(), buf); }
int statvfs(const char* path, struct statvfs* buf) { return real().statvfs(KernelPath(path).get(), buf); }
// On x86-64 the 64-bit structures are the same and glibc exports both names.
int statfs64(const char* path, struct statfs64* buf) {
  return real().statfs(KernelPath(path).get(), reinterpret_cast<struct statfs*>(buf));
}
int statvfs64(const char* path, struct statvfs64* buf) {
  return real().statvfs(KernelPath(path).get(), reinterpret_cast<struct statvfs*>(buf));
}

FILE* freopen(const char* path, const char* mode, FILE* stream) {
  return real().freopen(KernelPath(path).get(), mode, stream);
}
FILE* freopen64(const char* path, const char* mode, FILE* stream) {
  return real().freopen64(KernelPath(path).get(), mode, stream);
}

int chroot(const char* path) { return real().chroot(KernelPath(path).get()); }

}  // extern "C"
