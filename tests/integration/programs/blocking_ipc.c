/* Threads blocked in System V IPC and file-lock calls while checkpoints
 * happen: a semop() waiter, a semtimedop() waiter (10 s timeout), a msgrcv()
 * waiter, one that calls semop through syscall(), a sigsuspend() waiter, and
 * one blocked in flock() for the whole run. None may see EINTR from the
 * checkpoint machinery (issue 12): each step the main thread wakes every
 * waiter once and waits for their answers; any error ends the program.
 *
 * usage: blocking_ipc [STEPS=30] [PAUSE_MS=100]
 * (flock() locks are not restored, so this runs under checkpoints without a
 * restart; its System V waiters do come back from one.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tree_common.h"

enum { kSemWaiter, kTimedWaiter, kRawWaiter, kAcks, kSems };
static int sems, queue;
static volatile int stopping; /* the objects are being removed: errors are expected */
static char lock_path[256];
static pthread_t suspender;
static volatile sig_atomic_t wakeups;

static void fail(const char *what) {
  if (stopping) pthread_exit(NULL);
  printf("ERROR %s: %s\n", what, strerror(errno));
  fflush(stdout);
  exit(1);
}

static void sem_add(int which, int delta) {
  struct sembuf op = {(unsigned short)which, (short)delta, 0};
  if (semop(sems, &op, 1) != 0) fail("semop");
}

static void *sem_waiter(void *arg) {
  (void)arg;
  for (;;) {
    sem_add(kSemWaiter, -1);
    sem_add(kAcks, 1);
  }
  return NULL;
}

static void *timed_waiter(void *arg) {
  (void)arg;
  for (;;) {
    struct sembuf op = {kTimedWaiter, -1, 0};
    struct timespec ten = {10, 0};
    if (semtimedop(sems, &op, 1, &ten) != 0) fail("semtimedop");
    sem_add(kAcks, 1);
  }
  return NULL;
}

static void *raw_waiter(void *arg) {
  (void)arg;
  for (;;) {
    struct sembuf op = {kRawWaiter, -1, 0};
    if (syscall(SYS_semop, sems, &op, 1) != 0) fail("syscall(SYS_semop)");
    sem_add(kAcks, 1);
  }
  return NULL;
}

struct message {
  long type;
  char text[16];
};

static void *msg_waiter(void *arg) {
  (void)arg;
  for (;;) {
    struct message m;
    if (msgrcv(queue, &m, sizeof m.text, 1, 0) < 0) fail("msgrcv");
    sem_add(kAcks, 1);
  }
  return NULL;
}

static void on_usr1(int sig) {
  (void)sig;
  ++wakeups;
}

static void *suspend_waiter(void *arg) {
  (void)arg;
  sigset_t wait_mask;
  sigfillset(&wait_mask);
  sigdelset(&wait_mask, SIGUSR1);
  for (int seen = 0;;) {
    while (wakeups == seen) {
      if (sigsuspend(&wait_mask) != -1 || errno != EINTR) fail("sigsuspend");
    }
    seen = wakeups;
    sem_add(kAcks, 1);
  }
  return NULL;
}

static void *flock_waiter(void *arg) {
  (void)arg;
  int fd = open(lock_path, O_RDWR | O_CLOEXEC);
  if (fd < 0) fail("open lock file");
  if (flock(fd, LOCK_EX) != 0) fail("flock");
  printf("flock waiter got the lock\n");
  fflush(stdout);
  return NULL;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 30;
  int pause = argc > 2 ? atoi(argv[2]) : 100;
  sems = semget(IPC_PRIVATE, kSems, IPC_CREAT | 0600);
  queue = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (sems < 0 || queue < 0) fail("semget/msgget");
  snprintf(lock_path, sizeof lock_path, "/tmp/blocking_ipc.%d.lock", getpid());
  int lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) fail("lock file");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL);  /* only the sigsuspend thread takes it */
  pthread_t t;
  void *(*threads[])(void *) = {sem_waiter, timed_waiter, raw_waiter, msg_waiter, flock_waiter};
  for (size_t i = 0; i < sizeof threads / sizeof *threads; ++i) pthread_create(&t, NULL, threads[i], NULL);
  pthread_create(&suspender, NULL, suspend_waiter, NULL);
  for (int step = 1; step <= steps; ++step) {
    sleep_ms(pause);
    sem_add(kSemWaiter, 1);
    sem_add(kTimedWaiter, 1);
    sem_add(kRawWaiter, 1);
    struct message m = {1, "wake"};
    if (msgsnd(queue, &m, sizeof m.text, 0) != 0) fail("msgsnd");
    pthread_kill(suspender, SIGUSR1);
    sem_add(kAcks, -5);
    printf("step %d: every waiter woke once\n", step);
    fflush(stdout);
  }
  flock(lock_fd, LOCK_UN);
  sleep_ms(200);
  stopping = 1;
  semctl(sems, 0, IPC_RMID);
  msgctl(queue, IPC_RMID, NULL);
  unlink(lock_path);
  return 0;
}
