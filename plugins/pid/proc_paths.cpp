// /proc paths named by virtual ids: /proc/<vpid>/..., /proc/<vpid>/task/<vtid>/...
// and /proc/self/task/<vtid>/... reach the kernel as the real ids, in the
// calls programs use to look at processes (open, stat, access, readlink,
// opendir, chdir ...). readlink("/proc/self") and "/proc/thread-self" answer
// with virtual ids. Paths are rewritten on the stack; a path that names no
// translated id goes through untouched.
//
// These wrappers are also where the path map of plugins/path applies to
// these calls (ckpt_path_to_real first, ckpt_path_to_virtual on readlink's
// answer): one wrapper per C library function, whatever it translates.
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/plugin.h"
#include "ckpt/raw_syscall.h"
#include "virtual_ids.h"

namespace {

using namespace ckpt::pid;

// Appends the decimal `v` at `out`; returns the end.
char* put_number(char* out, long v) {
  char digits[24];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + v % 10);
  while ((v /= 10) > 0);
  while (n) *out++ = digits[--n];
  return out;
}

// Reads a run of digits: the id, or -1 if `p` does not start a whole
// component of digits.
long read_id(const char*& p) {
  if (*p < '0' || *p > '9') return -1;
  long v = 0;
  const char* q = p;
  for (; *q >= '0' && *q <= '9'; ++q) {
    v = v * 10 + (*q - '0');
    if (v > INT_MAX) return -1;
  }
  if (*q != '/' && *q != '\0') return -1;
  p = q;
  return v;
}

bool starts_with(const char* s, const char* prefix, const char*& rest) {
  size_t n = strlen(prefix);
  if (strncmp(s, prefix, n) != 0) return false;
  rest = s + n;
  return true;
}

// Copies the id component from `p`, translated by `translate`, into `out`.
template <typename Translate>
bool copy_id(const char*& p, char*& out, Translate translate, bool& changed) {
  long id = read_id(p);
  if (id < 0) return false;
  long real = translate(static_cast<pid_t>(id));
  changed |= real != id;
  out = put_number(out, real);
  return true;
}

// `path` with its virtual ids made real, in `buf`; `path` itself if nothing
// changes. A path the kernel would refuse (a bad pointer, unmapped or
// PROT_NONE memory) goes to the real call as it is, which answers EFAULT.
const char* real_proc_path(const char* path, char* buf, size_t len) {
  if (!active()) return path;
  const long total = ckpt_user_string_length(path, len);
  const char* p;
  if (total < 0 || static_cast<size_t>(total) + 32 >= len || !starts_with(path, "/proc/", p)) return path;
  char* out = buf;
  memcpy(out, "/proc/", 6);
  out += 6;
  bool changed = false;
  if (starts_with(p, "self", p)) {
    memcpy(out, "self", 4);
    out += 4;
  } else if (!copy_id(p, out, to_real, changed)) {
    return path;
  }
  const char* rest;
  if (starts_with(p, "/task/", rest)) {
    memcpy(out, "/task/", 6);
    out += 6;
    p = rest;
    if (!copy_id(p, out, to_real, changed)) return path;
  }
  if (!changed) return path;
  strcpy(out, p);
  return buf;
}

// readlink of /proc/self and /proc/thread-self: "<pid>" and "<pid>/task/<tid>".
// Only after the kernel answered with a link (n > 0): it read `path` (or our
// copy of it, made only from a path that could be read).
ssize_t virtualize_self_link(const char* path, char* buf, size_t size, ssize_t n) {
  if (n <= 0 || !active() || (strcmp(path, "/proc/self") != 0 && strcmp(path, "/proc/thread-self") != 0)) return n;
  char link[64];
  if (static_cast<size_t>(n) >= sizeof link) return n;
  memcpy(link, buf, n);
  link[n] = '\0';
  char out[64];
  char* o = out;
  const char* p = link;
  bool changed = false;
  if (!copy_id(p, o, to_virtual, changed)) return n;
  const char* rest;
  if (starts_with(p, "/task/", rest)) {
    memcpy(o, "/task/", 6);
    o += 6;
    p = rest;
    if (!copy_id(p, o, to_virtual, changed)) return n;
  }
  size_t len = static_cast<size_t>(o - out);
  if (len > size) len = size;  // readlink truncates silently
  memcpy(buf, out, len);
  return static_cast<ssize_t>(len);
}

template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

// The C library's functions, resolved once before main.
struct RealCalls {
  int (*open)(const char*, int, ...);
  int (*open64)(const char*, int, ...);
  int (*openat)(int, const char*, int, ...);
  int (*openat64)(int, const char*, int, ...);
  FILE* (*fopen)(const char*, const char*);
  FILE* (*fopen64)(const char*, const char*);
  DIR* (*opendir)(const char*);
  int (*stat)(const char*, struct stat*);
  int (*lstat)(const char*, struct stat*);
  int (*fstatat)(int, const char*, struct stat*, int);
  int (*statx)(int, const char*, int, unsigned, struct statx*);
  int (*access)(const char*, int);
  int (*faccessat)(int, const char*, int, int);
  ssize_t (*readlink)(const char*, char*, size_t);
  ssize_t (*readlinkat)(int, const char*, char*, size_t);
  int (*chdir)(const char*);
};
RealCalls g_real;

__attribute__((constructor(150))) void resolve_path_calls() {
  g_real.open = next<decltype(g_real.open)>("open");
  g_real.open64 = next<decltype(g_real.open64)>("open64");
  g_real.openat = next<decltype(g_real.openat)>("openat");
  g_real.openat64 = next<decltype(g_real.openat64)>("openat64");
  g_real.fopen = next<decltype(g_real.fopen)>("fopen");
  g_real.fopen64 = next<decltype(g_real.fopen64)>("fopen64");
  g_real.opendir = next<decltype(g_real.opendir)>("opendir");
  g_real.stat = next<decltype(g_real.stat)>("stat");
  g_real.lstat = next<decltype(g_real.lstat)>("lstat");
  g_real.fstatat = next<decltype(g_real.fstatat)>("fstatat");
  g_real.statx = next<decltype(g_real.statx)>("statx");
  g_real.access = next<decltype(g_real.access)>("access");
  g_real.faccessat = next<decltype(g_real.faccessat)>("faccessat");
  g_real.readlink = next<decltype(g_real.readlink)>("readlink");
  g_real.readlinkat = next<decltype(g_real.readlinkat)>("readlinkat");
  g_real.chdir = next<decltype(g_real.chdir)>("chdir");
}

// Calls made before our constructor (other libraries' constructors) resolve then.
RealCalls& real() {
  if (!g_real.chdir) resolve_path_calls();
  return g_real;
}

// A path as the kernel must see it, rewritten (if at all) on the caller's
// stack: through the path map, then its /proc ids.
class KernelPath {
 public:
  explicit KernelPath(const char* path)
      : path_(real_proc_path(ckpt_path_to_real(path, mapped_, sizeof mapped_), buf_, sizeof buf_)) {}
  const char* get() const { return path_; }

 private:
  char mapped_[PATH_MAX];
  char buf_[PATH_MAX];
  const char* path_;
};

// readlink's answer as the application sees it: /proc ids virtual, then
// through the path map back (a link to a file under a REAL prefix).
ssize_t virtual_link(const char* path, char* buf, size_t size, ssize_t n) {
  n = virtualize_self_link(path, buf, size, n);
  return n > 0 ? static_cast<ssize_t>(ckpt_path_to_virtual(buf, static_cast<size_t>(n), size)) : n;
}

bool takes_mode(int flags) { return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE; }

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = takes_mode(flags) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  return real().open(KernelPath(path).get(), flags, mode);
}

int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = takes_mode(flags) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  return real().open64(KernelPath(path).get(), flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = takes_mode(flags) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  return real().openat(dirfd, KernelPath(path).get(), flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = takes_mode(flags) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  return real().openat64(dirfd, KernelPath(path).get(), flags, mode);
}

FILE* fopen(const char* path, const char* mode) {
  return real().fopen(KernelPath(path).get(), mode);
}

FILE* fopen64(const char* path, const char* mode) {
  return real().fopen64(KernelPath(path).get(), mode);
}

DIR* opendir(const char* path) {
  return real().opendir(KernelPath(path).get());
}

int stat(const char* path, struct stat* st) {
  return real().stat(KernelPath(path).get(), st);
}

int lstat(const char* path, struct stat* st) {
  return real().lstat(KernelPath(path).get(), st);
}

int fstatat(int dirfd, const char* path, struct stat* st, int flags) {
  return real().fstatat(dirfd, KernelPath(path).get(), st, flags);
}

// On x86-64 struct stat64 is struct stat and glibc exports both names.
int stat64(const char* path, struct stat64* st) { return stat(path, reinterpret_cast<struct stat*>(st)); }
int lstat64(const char* path, struct stat64* st) { return lstat(path, reinterpret_cast<struct stat*>(st)); }
int fstatat64(int dirfd, const char* path, struct stat64* st, int flags) {
  return fstatat(dirfd, path, reinterpret_cast<struct stat*>(st), flags);
}

int statx(int dirfd, const char* path, int flags, unsigned int mask, struct statx* buf) {
  return real().statx(dirfd, KernelPath(path).get(), flags, mask, buf);
}

int access(const char* path, int mode) {
  return real().access(KernelPath(path).get(), mode);
}

int faccessat(int dirfd, const char* path, int mode, int flags) {
  return real().faccessat(dirfd, KernelPath(path).get(), mode, flags);
}

ssize_t readlink(const char* path, char* buf, size_t size) {
  return virtual_link(path, buf, size, real().readlink(KernelPath(path).get(), buf, size));
}

ssize_t readlinkat(int dirfd, const char* path, char* buf, size_t size) {
  return virtual_link(path, buf, size, real().readlinkat(dirfd, KernelPath(path).get(), buf, size));
}

int chdir(const char* path) {
  return real().chdir(KernelPath(path).get());
}

}  // extern "C"
