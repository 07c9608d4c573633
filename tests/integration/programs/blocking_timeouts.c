/* Threads blocked in calls whose timeout the kernel does not restart after a
 * signal handler, while checkpoints happen: recv() on a socket with
 * SO_RCVTIMEO, send() into a full socket with SO_SNDTIMEO, accept() on a
 * listening socket with SO_RCVTIMEO, syscall(SYS_io_getevents) with a
 * timeout, syscall(SYS_futex, FUTEX_WAIT) with a timeout, and
 * mq_timedreceive() on an empty queue. Each step all six start together
 * and must time out as without ckpt: the call's own timeout error (EAGAIN,
 * 0 events, ETIMEDOUT), never EINTR, and neither early nor
 * much late. A call counts as in time when it took at least its timeout
 * (less 5 ms for clock granularity) and at most 2.5 s more: time a thread
 * spends suspended by a checkpoint does not count against a socket's,
 * io_getevents' or FUTEX_WAIT's timeout (libckpt retries with what was left), so a
 * checkpoint makes those calls last longer by its own length, while
 * mq_timedreceive's absolute deadline does not move.
 *
 * usage: blocking_timeouts [STEPS=6] [TIMEOUT_MS=2000]
 * Prints one line per step; the same in every run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

enum { kRecv, kSend, kAccept, kIoGetevents, kFutexWait, kMqTimedreceive, kCalls };
static const char *const kNames[kCalls] = {"recv", "send", "accept", "io_getevents", "futex_wait", "mq_timedreceive"};
static const int64_t kLateNs = 2500000000LL;
static const int64_t kEarlyNs = 5000000LL;

static int timeout_ms;
static int recv_fd, send_fd, listen_fd;
static aio_context_t aio_ctx;
static mqd_t queue;
static uint32_t futex_word; /* stays 0: nobody wakes the waiter */
static pthread_barrier_t start;

struct Result {
  long rc;
  int err;
  int64_t elapsed_ns;
};
static struct Result results[kCalls];

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void set_timeout(int fd, int option) {
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv) != 0) die("setsockopt");
}

static long call(int which) {
  char buf[64];
  switch (which) {
    case kRecv:
      return recv(recv_fd, buf, sizeof buf, 0);
    case kSend:
      return send(send_fd, buf, sizeof buf, 0);
    case kAccept:
      return accept(listen_fd, NULL, NULL);
    case kIoGetevents: {
      struct io_event events[1];
      struct timespec tmo = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
      return syscall(SYS_io_getevents, aio_ctx, 1, 1, events, &tmo);
    }
    case kFutexWait: {
      struct timespec tmo = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
      return syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &tmo, NULL, 0);
    }
    case kMqTimedreceive: {
      struct timespec deadline;
      clock_gettime(CLOCK_REALTIME, &deadline);
      deadline.tv_sec += timeout_ms / 1000;
      deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
      if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
      }
      char msg[64];
      return mq_timedreceive(queue, msg, sizeof msg, NULL, &deadline);
    }
  }
  return -1;
}

static void *waiter(void *arg) {
  int which = (int)(intptr_t)arg;
  pthread_barrier_wait(&start);
  int64_t began = now_ns();
  errno = 0;
  long rc = call(which);
  results[which] = (struct Result){rc, errno, now_ns() - began};
  return NULL;
}

/* What the call answered when its time ran out, else what went wrong. */
static void describe(int which, char *out, size_t cap) {
  const struct Result *r = &results[which];
  const char *answer;
  if (which == kIoGetevents) answer = r->rc == 0 ? "0 events" : NULL;
  else if (which == kMqTimedreceive || which == kFutexWait) answer = r->rc == -1 && r->err == ETIMEDOUT ? "ETIMEDOUT" : NULL;
  else answer = r->rc == -1 && r->err == EAGAIN ? "EAGAIN" : NULL;
  if (!answer) {
    snprintf(out, cap, "%s rc=%ld %s", kNames[which], r->rc, strerror(r->err));
    return;
  }
  int64_t timeout_ns = (int64_t)timeout_ms * 1000000LL;
  const char *when = r->elapsed_ns < timeout_ns - kEarlyNs ? "EARLY"
                     : r->elapsed_ns > timeout_ns + kLateNs ? "LATE"
                                                           : "in time";
  if (when[0] == 'i') snprintf(out, cap, "%s %s %s", kNames[which], answer, when);
  else snprintf(out, cap, "%s %s %s (%lld ms)", kNames[which], answer, when, (long long)(r->elapsed_ns / 1000000));
}

static void setup(void) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) die("socketpair");
  recv_fd = pair[0];
  set_timeout(recv_fd, SO_RCVTIMEO);
  /* A full socket: its peer never reads, so send blocks. */
  int full[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, full) != 0) die("socketpair");
  send_fd = full[0];
  int size = 4096;
  setsockopt(send_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  fcntl(send_fd, F_SETFL, O_NONBLOCK);
  char chunk[1024] = {0};
  while (send(send_fd, chunk, sizeof chunk, 0) > 0) {
  }
  fcntl(send_fd, F_SETFL, 0);
  set_timeout(send_fd, SO_SNDTIMEO);

  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listen_fd, 1) != 0)
    die("listen");
  set_timeout(listen_fd, SO_RCVTIMEO);

  if (syscall(SYS_io_setup, 4, &aio_ctx) != 0) die("io_setup");

  char name[64];
  snprintf(name, sizeof name, "/ckpt_blocking_timeouts_%d", (int)getpid());
  struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64};
  queue = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
  if (queue == (mqd_t)-1) die("mq_open");
  if (mq_unlink(name) != 0) die("mq_unlink");
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 6;
  timeout_ms = argc > 2 ? atoi(argv[2]) : 2000;
  setup();
  for (int step = 1; step <= steps; ++step) {
    pthread_t threads[kCalls];
    pthread_barrier_init(&start, NULL, kCalls);
    for (int i = 0; i < kCalls; ++i)
      if (pthread_create(&threads[i], NULL, waiter, (void *)(intptr_t)i) != 0) die("pthread_create");
    for (int i = 0; i < kCalls; ++i) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);
    char line[1024];
    size_t n = (size_t)snprintf(line, sizeof line, "step %d:", step);
    for (int i = 0; i < kCalls; ++i) {
      char what[128];
      describe(i, what, sizeof what);
      n += (size_t)snprintf(line + n, sizeof line - n, "%s %s", i ? "," : "", what);
    }
    puts(line);
    fflush(stdout);
  }
  return 0;
}
