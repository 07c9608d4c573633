/* A program that defines its own gettid(), getpid() and open() (as some
 * programs and test suites do, calling syscall() themselves) and passes bad
 * pointers to every path-taking call libckpt wraps, and to other calls whose
 * arguments its wrappers read (select, nanosleep, sigtimedwait,
 * ioctl, rt_sigprocmask, capget, the exec family's path, argv and envp)
 * (but opendir, which the C library itself reads before any system call).
 * The bad pointers are outside user space, in the NULL page, into a page
 * that was unmapped, into a PROT_NONE page, and a path whose bytes run from
 * a readable page into a PROT_NONE one without a NUL. Each must behave as
 * without ckpt: EFAULT for the bad pointers, no crash, no endless recursion
 * between libckpt's syscall() wrapper and the program's gettid().
 *
 * usage: own_wrappers [STEPS=30] [PAUSE_MS=100]
 *
 * Prints one line per step with the results (errno names), all of which
 * are the same in every step and in every run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

pid_t gettid(void) { return (pid_t)syscall(SYS_gettid); }
pid_t getpid(void) { return (pid_t)syscall(SYS_getpid); }
int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = (flags & O_CREAT) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

/* "ok" for -1/EFAULT (or a NULL result with EFAULT), else what happened. */
static const char *efault(long rc) {
  static char other[64];
  if (rc == -1 && errno == EFAULT) return "EFAULT";
  snprintf(other, sizeof other, "rc=%ld errno=%s", rc, strerror(errno));
  return other;
}

static void check_pointer(const char *label, const char *bad, char *line, size_t cap) {
  struct stat st;
  struct statx stx;
  char buf[64];
  size_t n = strlen(line);
  n += snprintf(line + n, cap - n, " %s:", label);
  errno = 0;
  const char *results[] = {
      efault(open(bad, O_RDONLY)),
      efault(syscall(SYS_open, bad, O_RDONLY)),
      efault(openat(AT_FDCWD, bad, O_RDONLY)),
      efault(fopen(bad, "r") ? 0 : -1),
      efault(stat(bad, &st)),
      efault(lstat(bad, &st)),
      efault(fstatat(AT_FDCWD, bad, &st, 0)),
      efault(statx(AT_FDCWD, bad, 0, STATX_BASIC_STATS, &stx)),
      efault(access(bad, R_OK)),
      efault(faccessat(AT_FDCWD, bad, R_OK, 0)),
      efault(readlink(bad, buf, sizeof buf)),
      efault(readlinkat(AT_FDCWD, bad, buf, sizeof buf)),
      efault(chdir(bad)),
  };
  for (size_t i = 0; i < sizeof results / sizeof *results; ++i) {
    /* efault() reuses its buffer: report the first failure only. */
    if (strcmp(results[i], "EFAULT") != 0) {
      n += snprintf(line + n, cap - n, " call %zu: %s", i, results[i]);
      return;
    }
  }
  snprintf(line + n, cap - n, " all EFAULT");
}

/* "EFAULT" if the call failed with it, else "WRONG". */
static const char *is_efault(long rc, int err) { return rc == -1 && err == EFAULT ? "EFAULT" : "WRONG"; }

/* The exec family with a bad path, argv, an argv string, envp or an envp
 * string: the kernel refuses each before the program is replaced. */
static void check_exec(const char *label, char *bad, char *line, size_t cap) {
  size_t n = strlen(line);
  char *argv[] = {"true", NULL};
  char *bad_argv[] = {"true", bad, NULL};
  char *envp[] = {"A=1", NULL};
  char *bad_envp[] = {"A=1", bad, NULL};
  long rc[7];
  int err[7];
  errno = 0;
  rc[0] = execve(bad, argv, envp), err[0] = errno;
  rc[1] = execve("/bin/true", (char **)bad, envp), err[1] = errno;
  rc[2] = execve("/bin/true", bad_argv, envp), err[2] = errno;
  rc[3] = execve("/bin/true", argv, (char **)bad), err[3] = errno;
  rc[4] = execve("/bin/true", argv, bad_envp), err[4] = errno;
  rc[5] = execv("/bin/true", bad_argv), err[5] = errno;
  rc[6] = execvpe("true", argv, bad_envp), err[6] = errno;
  n += snprintf(line + n, cap - n, " exec %s:", label);
  for (int i = 0; i < 7; ++i) n += snprintf(line + n, cap - n, " %s", is_efault(rc[i], err[i]));
}

/* Calls whose other arguments libckpt's wrappers read: each with a pointer
 * the C library passes straight to the kernel. */
static void check_other_pointers(const char *label, void *bad, char *line, size_t cap) {
  size_t n = strlen(line);
  int null_fd = open("/dev/null", O_RDONLY);
  errno = 0;
  long select_rc = select(1, (fd_set *)bad, NULL, NULL, NULL);
  int select_err = errno;
  errno = 0;
  long ioctl_rc = ioctl(null_fd, TIOCSPGRP, bad);
  int ioctl_err = errno;
  errno = 0;
  long mask_rc = syscall(SYS_rt_sigprocmask, SIG_BLOCK, bad, NULL, 8);
  int mask_err = errno;
  errno = 0;
  long cap_rc = syscall(SYS_capget, bad, NULL);
  int cap_err = errno;
  close(null_fd);
  errno = 0;
  long sleep_rc = nanosleep(bad, NULL);
  int sleep_err = errno;
  int clock_rc = clock_nanosleep(CLOCK_MONOTONIC, 0, bad, NULL);
  sigset_t none;
  sigemptyset(&none);
  errno = 0;
  long wait_rc = sigtimedwait(&none, NULL, bad);
  int wait_err = errno;
  snprintf(line + n, cap - n,
           " %s: select %s, ioctl(TIOCSPGRP) %s, rt_sigprocmask %s, capget %s, nanosleep %s,"
           " clock_nanosleep %s, sigtimedwait %s;",
           label, is_efault(select_rc, select_err), ioctl_rc == -1 && ioctl_err == ENOTTY ? "ENOTTY" : "WRONG",
           is_efault(mask_rc, mask_err), is_efault(cap_rc, cap_err),
           is_efault(sleep_rc, sleep_err), clock_rc == EFAULT ? "EFAULT" : "WRONG", is_efault(wait_rc, wait_err));
}

/* Memory a wrapper must not read: a page that was unmapped, a PROT_NONE
 * page, and a readable page just before the PROT_NONE one, filled with a
 * path that has no NUL before the boundary. */
struct BadMemory {
  char *unmapped;
  char *prot_none;
  char *runs_into_prot_none;
};

static struct BadMemory bad_memory(void) {
  long page = sysconf(_SC_PAGESIZE);
  char *base = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    perror("own_wrappers: mmap");
    exit(1);
  }
  struct BadMemory m = {base + 2 * page, base + page, base + page - 16};
  memcpy(m.runs_into_prot_none, "/proc/1/task/1/x", 16); /* 16 bytes, no NUL */
  if (munmap(m.unmapped, page) != 0 || mprotect(m.prot_none, page, PROT_NONE) != 0) {
    perror("own_wrappers: munmap/mprotect");
    exit(1);
  }
  return m;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 30;
  int pause_ms = argc > 2 ? atoi(argv[2]) : 100;
  struct BadMemory bad = bad_memory();
  for (int step = 1; step <= steps; ++step) {
    char line[4096];
    snprintf(line, sizeof line, "step %d main thread's tid is its pid: %s;", step,
             gettid() == getpid() ? "yes" : "no");
    check_pointer("kernel", (const char *)0xffffffffff000000UL, line, sizeof line);
    check_pointer("null", NULL, line, sizeof line);
    check_pointer("null page", (const char *)16, line, sizeof line);
    check_pointer("unmapped", bad.unmapped, line, sizeof line);
    check_pointer("PROT_NONE", bad.prot_none, line, sizeof line);
    check_pointer("into PROT_NONE", bad.runs_into_prot_none, line, sizeof line);
    check_other_pointers("kernel", (void *)0xffffffffff000000UL, line, sizeof line);
    check_other_pointers("unmapped", bad.unmapped, line, sizeof line);
    check_other_pointers("PROT_NONE", bad.prot_none, line, sizeof line);
    check_exec("kernel", (char *)0xffffffffff000000UL, line, sizeof line);
    check_exec("unmapped", bad.unmapped, line, sizeof line);
    check_exec("PROT_NONE", bad.prot_none, line, sizeof line);
    check_exec("into PROT_NONE", bad.runs_into_prot_none, line, sizeof line);
    puts(line);
    fflush(stdout);
    sleep_ms(pause_ms);
  }
  return 0;
}
