/* A POSIX timer that a restart could not make again, taken at step 8.
 *
 * usage: posix_timer_refused MODE [STEPS=30]
 *   raw_thread_clock  a timer on CLOCK_THREAD_CPUTIME_ID made by the raw
 *                     system call: the kernel records "the calling thread"
 *                     without saying which
 *   exited_thread     a SIGEV_THREAD_ID timer whose thread has exited
 * Prints "step N" every 150 ms (time for a checkpoint at step 3 to end
 * first); at the end, whether the timer still answers.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

static pid_t worker_tid;
static int timer_made;
/* Lives until the timer that signals it is made. */
static void *worker(void *arg) {
  (void)arg;
  __atomic_store_n(&worker_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
  while (!__atomic_load_n(&timer_made, __ATOMIC_ACQUIRE)) sched_yield();
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: posix_timer_refused raw_thread_clock|exited_thread [STEPS]\n");
    return 2;
  }
  int steps = argc > 2 ? atoi(argv[2]) : 30;
  int id = -1;
  for (int step = 1; step <= steps; step++) {
    if (step == 8) {
      struct sigevent sev;
      memset(&sev, 0, sizeof sev);
      if (strcmp(argv[1], "raw_thread_clock") == 0) {
        sev.sigev_notify = SIGEV_NONE;
        if (syscall(SYS_timer_create, CLOCK_THREAD_CPUTIME_ID, &sev, &id) != 0) die("timer_create");
      } else {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, NULL) != 0) die("pthread_create");
        while (__atomic_load_n(&worker_tid, __ATOMIC_ACQUIRE) == 0) sched_yield();
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = SIGUSR1;
        sev._sigev_un._tid = worker_tid;
        if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id) != 0) die("timer_create");
        __atomic_store_n(&timer_made, 1, __ATOMIC_RELEASE);
        pthread_join(t, NULL);
      }
      struct itimerspec hour = {{0, 0}, {3600, 0}};
      if (syscall(SYS_timer_settime, id, 0, &hour, NULL) != 0) die("timer_settime");
    }
    printf("step %d\n", step);
    fflush(stdout);
    struct timespec t = {0, 150000000};
    nanosleep(&t, NULL);
  }
  struct itimerspec left;
  printf("the timer answers: %s\n", syscall(SYS_timer_gettime, id, &left) == 0 ? "yes" : "no");
  return 0;
}
