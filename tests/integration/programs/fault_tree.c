/* fault_tree STEPS PAUSE_MS MIB STALL_DIR: a parent and one child under
 * checkpoint, for fault injection (fault_injection.sh).
 *
 * Both keep MIB MiB of data that compresses badly, so that their image
 * writers take a moment. The parent prints "step N SUM" lines from its own
 * data; the child only churns its buffer, so whether it lives does not change
 * the output (at the end the parent kills and reaps it, dead or alive).
 *
 * A plugin holds a checkpoint where the test wants it: while the file
 * STALL_DIR/<event>.<role> exists (event: suspend or drain; role: parent or
 * child), that process, at that event, writes its pid to
 * STALL_DIR/stalled.<event>.<role> and waits for the file to go (60 s at
 * most). It uses raw system calls only: the application's threads are
 * frozen and may hold any lock. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/plugin.h"
#include "mix64.h"

static const char *g_stall_dir;
/* Read by the checkpoint thread: volatile, or the child's store may never happen. */
static const char *volatile g_role = "parent";

static void raw_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  syscall(SYS_nanosleep, &ts, NULL);
}

static int exists(const char *path) { return syscall(SYS_faccessat, AT_FDCWD, path, F_OK, 0) == 0; }

static void stall_at(const char *event) {
  char arm[4096], marker[4096], pid[32];
  snprintf(arm, sizeof arm, "%s/%s.%s", g_stall_dir, event, g_role);
  if (!exists(arm)) return;
  snprintf(marker, sizeof marker, "%s/stalled.%s.%s", g_stall_dir, event, g_role);
  int len = snprintf(pid, sizeof pid, "%ld\n", (long)syscall(SYS_getpid));
  long fd = syscall(SYS_openat, AT_FDCWD, marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    syscall(SYS_write, fd, pid, len);
    syscall(SYS_close, fd);
  }
  for (int i = 0; i < 1200 && exists(arm); ++i) raw_sleep_ms(50);
}

static void stall_event(ckpt_event_t event, void *data) {
  (void)data;
  if (event == CKPT_EVENT_PRE_CHECKPOINT) stall_at("suspend");
  else if (event == CKPT_EVENT_DRAIN) stall_at("drain");
}

static const struct ckpt_plugin g_plugin = {"stall", stall_event};

static uint64_t churn(uint64_t *buf, size_t words, uint64_t step) {
  uint64_t sum = 0;
  for (size_t i = 0; i < words; i++) {
    buf[i] = mix(buf[i] ^ (i * 0x9e3779b97f4a7c15ULL) ^ step);
    sum += buf[i];
  }
  return sum;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s STEPS PAUSE_MS MIB STALL_DIR\n", argv[0]);
    return 2;
  }
  int steps = atoi(argv[1]), pause_ms = atoi(argv[2]);
  size_t words = (size_t)atoi(argv[3]) << 17;
  g_stall_dir = argv[4];
  if (ckpt_is_enabled() && ckpt_register_plugin(&g_plugin) != 0) {
    fprintf(stderr, "fault_tree: cannot register the plugin\n");
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  uint64_t *buf = calloc(words, sizeof *buf);
  if (!buf) return 1;
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    g_role = "child";
    for (uint64_t step = 1;; ++step) {
      churn(buf, words, step + 1000);
      raw_sleep_ms(pause_ms);
    }
  }
  for (int step = 1; step <= steps; ++step) {
    printf("step %d %016llx\n", step, (unsigned long long)churn(buf, words, (uint64_t)step));
    struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return 0;
}
