/* Descriptors kept open on /proc files of this very process:
 * /proc/self/status, /proc/self/task/<tid>/stat (both resolve to the kernel
 * pid) and the /proc/self/fd directory. Each step reads them again through
 * the old descriptors and compares with a fresh open: after a restart under
 * new pids they must describe the restored process (issue 12).
 *
 * usage: proc_fds [STEPS=30] [PAUSE_MS=100]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

/* The line of /proc status text `text` that starts with `field`. */
static void field(const char *text, const char *name, char *out, size_t cap) {
  const char *p = strstr(text, name);
  size_t n = p ? strcspn(p, "\n") : 0;
  if (n >= cap) n = cap - 1;
  memcpy(out, p ? p : "", n);
  out[n] = '\0';
}

static ssize_t read_at_start(int fd, char *buf, size_t cap) {
  if (lseek(fd, 0, SEEK_SET) != 0) return -1;
  ssize_t n = read(fd, buf, cap - 1);
  if (n >= 0) buf[n] = '\0';
  return n;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 30;
  int pause = argc > 2 ? atoi(argv[2]) : 100;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%ld/stat", (long)syscall(SYS_gettid));
  int status_fd = open("/proc/self/status", O_RDONLY);
  int stat_fd = open(path, O_RDONLY);
  DIR *fds = opendir("/proc/self/fd");
  if (status_fd < 0 || stat_fd < 0 || !fds) {
    perror("open");
    return 1;
  }
  for (int step = 1; step <= steps; ++step) {
    char kept[4096], fresh[4096], a[64], b[64];
    int fresh_fd = open("/proc/self/status", O_RDONLY);
    int same_status = read_at_start(status_fd, kept, sizeof kept) > 0 && read_at_start(fresh_fd, fresh, sizeof fresh) > 0;
    close(fresh_fd);
    field(kept, "Pid:", a, sizeof a);
    field(fresh, "Pid:", b, sizeof b);
    same_status = same_status && strcmp(a, b) == 0;
    /* stat's first field is the thread's kernel tid */
    int fresh_stat = open("/proc/thread-self/stat", O_RDONLY);
    int same_stat = read_at_start(stat_fd, kept, sizeof kept) > 0 && read_at_start(fresh_stat, fresh, sizeof fresh) > 0 &&
                    atol(kept) == atol(fresh);
    close(fresh_stat);
    rewinddir(fds);
    int entries = 0;
    while (readdir(fds)) ++entries;
    printf("step %d: status fd is ours: %s; task stat fd is ours: %s; fd dir readable: %s\n", step,
           same_status ? "yes" : "no", same_stat ? "yes" : "no", entries > 2 ? "yes" : "no");
    fflush(stdout);
    sleep_ms(pause);
  }
  return 0;
}
