/* restart_devices STEPS PAUSE_MS: holds one descriptor on each character
 * device the fd plugin reopens by name, at fixed numbers with distinct flags,
 * runs STEPS steps (the test checkpoints, kills and restarts it meanwhile),
 * then checks that each descriptor is still that device with the same access
 * mode, O_NONBLOCK and FD_CLOEXEC, and behaves like it: /dev/null swallows,
 * /dev/zero reads zeros, /dev/urandom and /dev/random read random bytes,
 * /dev/full refuses writes with ENOSPC. Prints one line per descriptor. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct device {
  int fd;
  const char *path;
  int flags;
  int cloexec;
};

static const struct device kDevices[] = {
    {20, "/dev/null", O_WRONLY, 0},
    {21, "/dev/zero", O_RDONLY, 1},
    {22, "/dev/urandom", O_RDONLY | O_NONBLOCK, 0},
    {23, "/dev/random", O_RDONLY, 1},
    {24, "/dev/full", O_RDWR, 0},
};
enum { kCount = sizeof kDevices / sizeof kDevices[0] };

static const char *behaviour(const struct device *d) {
  char buf[64];
  memset(buf, 'x', sizeof buf);
  if (strcmp(d->path, "/dev/null") == 0) return write(d->fd, buf, 5) == 5 ? "swallows" : "write failed";
  if (strcmp(d->path, "/dev/full") == 0) {
    if (write(d->fd, buf, 5) != -1 || errno != ENOSPC) return "write did not fail with ENOSPC";
    return read(d->fd, buf, sizeof buf) == (ssize_t)sizeof buf && buf[0] == 0 ? "full" : "read failed";
  }
  if (read(d->fd, buf, sizeof buf) != (ssize_t)sizeof buf) return "short read";
  int zeros = 0;
  for (size_t i = 0; i < sizeof buf; ++i) zeros += buf[i] == 0;
  if (strcmp(d->path, "/dev/zero") == 0) return zeros == (int)sizeof buf ? "zeros" : "not zeros";
  return zeros < (int)sizeof buf / 2 ? "random" : "not random";
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s STEPS PAUSE_MS\n", argv[0]);
    return 2;
  }
  int steps = atoi(argv[1]);
  long ms = atol(argv[2]);
  for (int i = 0; i < kCount; ++i) {
    const struct device *d = &kDevices[i];
    int fd = open(d->path, d->flags | (d->cloexec ? O_CLOEXEC : 0));
    if (fd < 0 || dup3(fd, d->fd, d->cloexec ? O_CLOEXEC : 0) != d->fd) {
      perror(d->path);
      return 1;
    }
    close(fd);
  }
  for (int s = 1; s <= steps; ++s) {
    printf("step %d\n", s);
    fflush(stdout);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
  }
  int failures = 0;
  for (int i = 0; i < kCount; ++i) {
    const struct device *d = &kDevices[i];
    char link[64], target[256] = "";
    snprintf(link, sizeof link, "/proc/self/fd/%d", d->fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n > 0) target[n] = '\0';
    int fl = fcntl(d->fd, F_GETFL), fdfl = fcntl(d->fd, F_GETFD);
    int same = n > 0 && strcmp(target, d->path) == 0 && fl >= 0 && (fl & O_ACCMODE) == (d->flags & O_ACCMODE) &&
               !!(fl & O_NONBLOCK) == !!(d->flags & O_NONBLOCK) && !!(fdfl & FD_CLOEXEC) == d->cloexec;
    const char *does = same ? behaviour(d) : "-";
    printf("fd %d %s: %s, %s\n", d->fd, d->path, same ? "same device and flags" : "CHANGED", does);
    failures += !same;
  }
  return failures ? 1 : 0;
}
