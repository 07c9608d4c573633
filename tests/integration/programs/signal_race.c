/* The application's own signal arriving while a checkpoint interrupts the
 * same blocking call (issue 12). A worker thread waits in a call the kernel
 * never restarts after a handler (pause, sigsuspend, poll, select,
 * epoll_wait, nanosleep, sigwaitinfo), with a SIGUSR1 handler installed by
 * signal() (so with SA_RESTART, which these calls ignore). Each step the
 * main thread checkpoints the process itself (ckpt_checkpoint), and a plugin
 * hook sends SIGUSR1 to the worker while every thread is frozen: the worker
 * resumes with both the suspend signal and its own behind it. Its call must
 * fail with EINTR, as it would without ckpt, rather than be retried (pause
 * and sigsuspend would then wait for a signal that already came). Without
 * ckpt (the reference run) the main thread sends SIGUSR1 itself.
 *
 * usage: signal_race [STEPS=14]
 * Prints one line per step; the same in every run. A call that does not
 * return within 20 s after the signal ends the program with status 1.
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
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/plugin.h"
#include "tree_common.h"

/* Weak: the reference run has no libckpt. */
#pragma weak ckpt_register_plugin
#pragma weak ckpt_checkpoint
#pragma weak ckpt_is_enabled

enum { kPause, kSigsuspend, kPoll, kSelect, kEpollWait, kNanosleep, kSigwaitinfo, kCalls };
static const char *const kNames[kCalls] = {"pause", "sigsuspend", "poll", "select", "epoll_wait", "nanosleep",
                                           "sigwaitinfo"};

static volatile sig_atomic_t handled;
static atomic_int worker_tid;
static atomic_int waiting_step; /* the step whose call the worker is about to make */
static atomic_int done_step;
static int epoll_fd;
static int steps;

struct Outcome {
  long rc;
  int err;
  int handled;
};
static struct Outcome outcome;

static void on_usr1(int sig) {
  (void)sig;
  handled++;
}

static void send_own_signal(void) { syscall(SYS_tgkill, getpid(), atomic_load(&worker_tid), SIGUSR1); }

/* While every thread is frozen for the checkpoint. */
static void on_event(ckpt_event_t event, void *data) {
  (void)data;
  if (event == CKPT_EVENT_PRE_CHECKPOINT) send_own_signal();
}
static const struct ckpt_plugin plugin = {"signal_race", on_event};

static long call(int which) {
  sigset_t none, usr2;
  sigemptyset(&none);
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  struct epoll_event ev;
  struct timespec minute = {60, 0};
  switch (which) {
    case kPause:
      return pause();
    case kSigsuspend:
      return sigsuspend(&none);
    case kPoll:
      return poll(NULL, 0, -1);
    case kSelect:
      return select(0, NULL, NULL, NULL, NULL);
    case kEpollWait:
      return epoll_wait(epoll_fd, &ev, 1, -1);
    case kNanosleep:
      return nanosleep(&minute, NULL);
    case kSigwaitinfo:
      return sigwaitinfo(&usr2, NULL);
  }
  return 0;
}

static void *worker(void *arg) {
  (void)arg;
  atomic_store(&worker_tid, (int)syscall(SYS_gettid));
  for (int step = 1; step <= steps; ++step) {
    int before = handled;
    atomic_store(&waiting_step, step);
    errno = 0;
    long rc = call(step % kCalls);
    outcome = (struct Outcome){rc, errno, handled - before};
    atomic_store(&done_step, step);
  }
  return NULL;
}

int main(int argc, char **argv) {
  steps = argc > 1 ? atoi(argv[1]) : 14;
  signal(SIGUSR1, on_usr1);
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr2, NULL); /* for sigwaitinfo; inherited by the worker */
  epoll_fd = epoll_create1(0);
  if (epoll_fd < 0) die("epoll_create1");
  const int under_ckpt = ckpt_is_enabled && ckpt_is_enabled();
  if (under_ckpt) ckpt_register_plugin(&plugin);
  pthread_t thread;
  if (pthread_create(&thread, NULL, worker, NULL) != 0) die("pthread_create");
  for (int step = 1; step <= steps; ++step) {
    while (atomic_load(&waiting_step) < step) sleep_ms(1);
    sleep_ms(100); /* the worker is inside its call */
    if (under_ckpt) {
      if (ckpt_checkpoint() < 0) {
        printf("step %d: the checkpoint failed\n", step);
        return 1;
      }
    } else {
      send_own_signal();
    }
    for (int waited = 0; atomic_load(&done_step) < step; waited += 10) {
      if (waited >= 20000) {
        printf("step %d: %s did not return within 20 s of the application's own signal (handler ran %d times)\n",
               step, kNames[step % kCalls], (int)handled);
        fflush(stdout);
        _exit(1);
      }
      sleep_ms(10);
    }
    const struct Outcome o = outcome;
    printf("step %d: %s %s, handler ran %d time%s\n", step, kNames[step % kCalls],
           o.rc == -1 && o.err == EINTR ? "EINTR" : "did not fail with EINTR", o.handled, o.handled == 1 ? "" : "s");
    fflush(stdout);
  }
  pthread_join(thread, NULL);
  return 0;
}
