#include "log.h"

#include "core.h"

#include "ckpt/environment.h"
#include "ckpt/raw_syscall.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

namespace ckpt {
namespace {

int g_log_fd = -1;
char g_log_dir[1024];
bool g_log_dir_checked = false;  // the default, shared-/tmp directory: check who owns it
char g_log_path[1200];  // opened on the first line: most processes never log
LogLevel g_level = LogLevel::Warn;

struct Appender {
  char* buf;
  size_t cap;
  size_t len = 0;
  void put(char c) {
    if (len + 1 < cap) buf[len++] = c;
  }
  void puts(const char* s) {
    if (!s) s = "(null)";
    while (*s) put(*s++);
  }
  void number(unsigned long long v, unsigned base, bool negative) {
    char tmp[32];
    int n = 0;
    do {
      tmp[n++] = "0123456789abcdef"[v % base];
      v /= base;
    } while (v);
    if (negative) put('-');
    while (n) put(tmp[--n]);
  }
};

LogLevel parse_level(const char* s) {
  if (!s) return LogLevel::Warn;
  if (!strcmp(s, "error")) return LogLevel::Error;
  if (!strcmp(s, "info")) return LogLevel::Info;
  if (!strcmp(s, "debug")) return LogLevel::Debug;
  return LogLevel::Warn;
}

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::Error: return "ERROR";
    case LogLevel::Warn: return "WARN";
    case LogLevel::Info: return "INFO";
    case LogLevel::Debug: return "DEBUG";
  }
  return "?";
}

void write_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buf += n;
    len -= n;
  }
}

}  // namespace

size_t vformat_to(char* buf, size_t cap, const char* fmt, va_list ap) {
  Appender a{buf, cap};
  for (const char* p = fmt; *p; ++p) {
    if (*p != '%') {
      a.put(*p);
      continue;
    }
    ++p;
    int longs = 0;
    bool size_t_arg = false;
    while (*p == 'l') ++longs, ++p;
    if (*p == 'z') size_t_arg = true, ++p;
    switch (*p) {
      case 's': a.puts(va_arg(ap, const char*)); break;
      case 'c': a.put(static_cast<char>(va_arg(ap, int))); break;
      case 'd':
      case 'i': {
        long long v = longs ? (longs == 1 ? va_arg(ap, long) : va_arg(ap, long long)) : va_arg(ap, int);
        a.number(v < 0 ? -static_cast<unsigned long long>(v) : v, 10, v < 0);
        break;
      }
      case 'u':
      case 'x': {
        unsigned long long v = size_t_arg ? va_arg(ap, size_t)
                               : longs    ? (longs == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned long long))
                                          : va_arg(ap, unsigned);
        a.number(v, *p == 'x' ? 16 : 10, false);
        break;
      }
      case 'p':
        a.puts("0x");
        a.number(reinterpret_cast<uintptr_t>(va_arg(ap, void*)), 16, false);
        break;
      case '%': a.put('%'); break;
      case '\0': --p; break;
      default: a.put('%'); a.put(*p); break;
    }
  }
  if (cap) buf[a.len] = '\0';
  return a.len;
}

size_t format_to(char* buf, size_t cap, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = vformat_to(buf, cap, fmt, ap);
  va_end(ap);
  return n;
}

void log_open(const char* progname) {
  g_level = parse_level(getenv(CKPT_ENV_LOG));
  close_own_fd(g_log_fd);
  g_log_fd = -1;
  const char* base = getenv(CKPT_ENV_LOG_DIR);
  if (base && *base) {
    format_to(g_log_dir, sizeof g_log_dir, "%s", base);
    g_log_dir_checked = false;  // the user's own choice
  } else {
    format_to(g_log_dir, sizeof g_log_dir, CKPT_PRIVATE_DIR_FORMAT, g_config.tmpdir[0] ? g_config.tmpdir : "/tmp",
              getuid());
    g_log_dir_checked = true;
  }
  format_to(g_log_path, sizeof g_log_path, "%s/%s.%d.log", g_log_dir, progname, static_cast<int>(sys(SYS_getpid)));
}

void log_forget_file() { g_log_fd = -1; }

// The default directory is shared /tmp's ckpt-UID: used only while it is a
// directory of ours that nobody else can write (another user may have made
// it first, to read or redirect our logs). No symbolic link is followed at
// the file's name either.
static void open_log_file() {
  mkdir(g_log_dir, 0700);
  struct stat st;
  if (g_log_dir_checked &&
      (lstat(g_log_dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 022) != 0))
    return;
  int fd = open(g_log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  // Away from the numbers the application owns, and out of its reach.
  if (fd >= 0) protect_fd(fd, &g_log_fd);
}

bool log_enabled(LogLevel level) { return level <= g_level; }

static void vlog(LogLevel level, const char* fmt, va_list ap) {
  char line[1024];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  size_t n = format_to(line, sizeof line, "[%ld.%ld %d/%d %s] ", static_cast<long>(ts.tv_sec),
                       static_cast<long>(ts.tv_nsec / 1000000), static_cast<int>(sys(SYS_getpid)),
                       static_cast<int>(sys(SYS_gettid)), level_name(level));
  n += vformat_to(line + n, sizeof line - n - 1, fmt, ap);
  line[n++] = '\n';
  if (g_log_fd < 0 && g_log_path[0]) open_log_file();
  if (g_log_fd >= 0) write_all(g_log_fd, line, n);
  if (level == LogLevel::Error && g_log_fd < 0) write_all(2, line, n);
}

void log_write(LogLevel level, const char* fmt, ...) {
  int saved_errno = errno;
  va_list ap;
  va_start(ap, fmt);
  vlog(level, fmt, ap);
  va_end(ap);
  errno = saved_errno;
}

namespace {

// libunwind is opened only here, on the way to abort(), never linked in: as
// a dependency it was loaded (with liblzma) into every exec'ed program.
// The names are the ones libunwind.h's macros expand to.
#define CKPT_UNW_NAME2(x) #x
#define CKPT_UNW_NAME(x) CKPT_UNW_NAME2(x)
#define CKPT_UNWIND_LIBRARY "libunwind.so.8"

struct Unwind {
  decltype(&unw_tdep_getcontext) getcontext = nullptr;
  decltype(&unw_init_local) init_local = nullptr;
  decltype(&unw_step) step = nullptr;
  decltype(&unw_get_reg) get_reg = nullptr;
  decltype(&unw_get_proc_name) get_proc_name = nullptr;
  bool loaded() const { return getcontext && init_local && step && get_reg && get_proc_name; }
};

template <typename Fn>
void find(void* lib, const char* name, Fn& fn) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
}

Unwind load_unwind() {
  Unwind u;
  void* lib = dlopen(CKPT_UNWIND_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  if (!lib) return u;
  find(lib, CKPT_UNW_NAME(unw_tdep_getcontext), u.getcontext);
  find(lib, CKPT_UNW_NAME(unw_init_local), u.init_local);
  find(lib, CKPT_UNW_NAME(unw_step), u.step);
  find(lib, CKPT_UNW_NAME(unw_get_reg), u.get_reg);
  find(lib, CKPT_UNW_NAME(unw_get_proc_name), u.get_proc_name);
  return u;
}

}  // namespace

void log_fatal(const char* fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  size_t n = format_to(msg, sizeof msg, "ckpt: fatal: ");
  n += vformat_to(msg + n, sizeof msg - n - 1, fmt, ap);
  va_end(ap);
  msg[n++] = '\n';
  write_all(2, msg, n);
  if (g_log_fd < 0 && g_log_path[0]) open_log_file();
  if (g_log_fd >= 0) write_all(g_log_fd, msg, n);

  const Unwind unw = load_unwind();
  if (!unw.loaded()) {
    static const char none[] = "  (no backtrace: cannot load " CKPT_UNWIND_LIBRARY ")\n";
    write_all(2, none, sizeof none - 1);
  }
  unw_context_t uc;
  unw_cursor_t cursor;
  const bool walk = unw.loaded() && unw.getcontext(&uc) == 0 && unw.init_local(&cursor, &uc) == 0;
  for (int depth = 0; walk && depth < 64 && unw.step(&cursor) > 0; ++depth) {
    unw_word_t ip = 0, off = 0;
    unw.get_reg(&cursor, UNW_REG_IP, &ip);
    char name[256] = "?";
    unw.get_proc_name(&cursor, name, sizeof name, &off);
    char line[400];
    size_t len = format_to(line, sizeof line, "  #%d 0x%lx %s+0x%lx\n", depth, static_cast<unsigned long>(ip), name,
                           static_cast<unsigned long>(off));
    write_all(2, line, len);
    if (g_log_fd >= 0) write_all(g_log_fd, line, len);
  }
  signal(SIGABRT, SIG_DFL);
  abort();
}

}  // namespace ckpt
