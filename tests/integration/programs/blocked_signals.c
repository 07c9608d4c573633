/* Threads that block every signal, and a SIGEV_THREAD timer (whose helper
 * thread glibc starts with every signal blocked): a checkpoint must still
 * stop them all (issue 12). Threads:
 *   - created with pthread_attr_setsigmask_np(all), waiting in sigtimedwait;
 *   - blocking all with syscall(SYS_rt_sigprocmask), waiting in sigwaitinfo;
 *   - blocking all with pthread_sigmask, waiting in ppoll with a full mask;
 * and a timer_create(SIGEV_THREAD) timer firing every 20 ms.
 *
 * usage: blocked_signals [STEPS=30] [PAUSE_MS=100]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

static atomic_long expirations;

static void fail(const char *what) {
  printf("ERROR %s: %s\n", what, strerror(errno));
  fflush(stdout);
  exit(1);
}

static void *timed_waiter(void *arg) {
  (void)arg;
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  for (;;) {
    struct timespec hour = {3600, 0};
    if (sigtimedwait(&usr2, NULL, &hour) < 0 && errno != EAGAIN) fail("sigtimedwait");
  }
  return NULL;
}

static void *raw_blocker(void *arg) {
  (void)arg;
  unsigned long all = ~0UL;
  if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof all) != 0) fail("rt_sigprocmask");
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  for (;;)
    if (sigwaitinfo(&usr2, NULL) < 0) fail("sigwaitinfo");
  return NULL;
}

static void *ppoll_blocker(void *arg) {
  (void)arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, NULL);
  for (;;)
    if (ppoll(NULL, 0, NULL, &all) < 0) fail("ppoll");
  return NULL;
}

static void on_expiry(union sigval v) {
  (void)v;
  atomic_fetch_add(&expirations, 1);
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 30;
  int pause = argc > 2 ? atoi(argv[2]) : 100;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  sigset_t all;
  sigfillset(&all);
  if (pthread_attr_setsigmask_np(&attr, &all) != 0) fail("pthread_attr_setsigmask_np");
  pthread_t t;
  if (pthread_create(&t, &attr, timed_waiter, NULL) != 0) fail("pthread_create");
  pthread_create(&t, NULL, raw_blocker, NULL);
  pthread_create(&t, NULL, ppoll_blocker, NULL);

  timer_t timer;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD;
  sev.sigev_notify_function = on_expiry;
  if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0) fail("timer_create");
  struct itimerspec every = {{0, 20000000}, {0, 20000000}};
  if (timer_settime(timer, 0, &every, NULL) != 0) fail("timer_settime");

  long last = 0;
  for (int step = 1; step <= steps; ++step) {
    sleep_ms(pause);
    long now = atomic_load(&expirations);
    if (timer_getoverrun(timer) < 0) fail("timer_getoverrun");
    printf("step %d: the timer %s\n", step, now > last ? "fired" : "did NOT fire");
    fflush(stdout);
    last = now;
  }
  if (timer_delete(timer) != 0) fail("timer_delete");
  return 0;
}
