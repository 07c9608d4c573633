/* A program that defines its own gettid(), getpid() and open() (as some
 * programs and test suites do, calling syscall() themselves) and passes bad
 * pointers to every path-taking call libckpt wraps, and to other calls whose
 * arguments its wrappers read (select, ioctl, rt_sigprocmask, capget) (but opendir, which the
 * C library itself reads before any system call). Each must behave as
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

/* Calls whose other arguments libckpt's wrappers read: each with a pointer
 * the C library passes straight to the kernel. */
static void check_other_pointers(char *line, size_t cap) {
  size_t n = strlen(line);
  void *bad = (void *)0xffffffffff000000UL;
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
  snprintf(line + n, cap - n, " select %s, ioctl(TIOCSPGRP) %s, rt_sigprocmask %s, capget %s",
           select_rc == -1 && select_err == EFAULT ? "EFAULT" : "WRONG",
           ioctl_rc == -1 && ioctl_err == ENOTTY ? "ENOTTY" : "WRONG",
           mask_rc == -1 && mask_err == EFAULT ? "EFAULT" : "WRONG", cap_rc == -1 && cap_err == EFAULT ? "EFAULT" : "WRONG");
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 30;
  int pause_ms = argc > 2 ? atoi(argv[2]) : 100;
  for (int step = 1; step <= steps; ++step) {
    char line[1024];
    snprintf(line, sizeof line, "step %d main thread's tid is its pid: %s;", step,
             gettid() == getpid() ? "yes" : "no");
    check_pointer("kernel", (const char *)0xffffffffff000000UL, line, sizeof line);
    check_pointer("null", NULL, line, sizeof line);
    check_pointer("null page", (const char *)16, line, sizeof line);
    check_other_pointers(line, sizeof line);
    puts(line);
    fflush(stdout);
    sleep_ms(pause_ms);
  }
  return 0;
}
