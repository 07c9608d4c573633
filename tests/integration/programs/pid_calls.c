/* Calls that name another process by pid, made by a parent on its child
 * while pids are virtual: sched_getaffinity/sched_setaffinity, getpriority,
 * prlimit, process_vm_readv (the child's counter, at the same address in
 * both after fork), and the same through syscall(). After a restart under
 * new kernel pids each must still reach the child, not fail with ESRCH.
 *
 * usage: pid_calls [STEPS=30] [PAUSE_MS=100]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

static volatile long counter;

static const char *check(int ok) { return ok ? "ok" : strerror(errno); }

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 30;
  int pause = argc > 2 ? atoi(argv[2]) : 100;
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    for (;;) {
      ++counter;
      sleep_ms(5);
    }
  }
  long last = -1;
  for (int step = 1; step <= steps; ++step) {
    cpu_set_t set;
    CPU_ZERO(&set);
    int affinity = sched_getaffinity(child, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0 &&
                   sched_setaffinity(child, sizeof set, &set) == 0;
    const char *affinity_text = check(affinity);
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, (id_t)child);
    const char *prio_text = check(prio != -1 || errno == 0);
    struct rlimit lim;
    const char *limit_text = check(prlimit(child, RLIMIT_NOFILE, NULL, &lim) == 0);
    long seen = -1;
    struct iovec local = {&seen, sizeof seen}, remote = {(void *)&counter, sizeof counter};
    int read_ok = process_vm_readv(child, &local, 1, &remote, 1, 0) == (ssize_t)sizeof seen && seen >= last;
    const char *read_text = check(read_ok);
    if (read_ok) last = seen;
    cpu_set_t raw;
    const char *raw_text = check(syscall(SYS_sched_getaffinity, child, sizeof raw, &raw) > 0);
    printf("step %d affinity %s, priority %s, prlimit %s, process_vm_readv %s, syscall %s\n", step, affinity_text,
           prio_text, limit_text, read_text, raw_text);
    fflush(stdout);
    sleep_ms(pause);
  }
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return 0;
}
