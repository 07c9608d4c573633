/* Shared memory across fork (issue 10, test 1): a parent and CHILDREN forked
 * children increment counters in MAP_SHARED | MAP_ANONYMOUS memory under a
 * process-shared mutex, and record every increment in a shared log; a second
 * mapping, of /dev/zero, holds each child's own tally, and a third, read-only
 * in the parent, a constant table the parent checks at the end.
 *
 * usage: shm_counters [CHILDREN=3] [ITERATIONS=3000] [STEPS=40] [posix]
 *
 * With "posix", the counters live in named POSIX shared memory (shm_open)
 * and the lock is a named POSIX semaphore (sem_open), both removed at the end.
 *
 * The parent prints "step K" as the shared total crosses K/STEPS of the work,
 * then the final counts and a checksum of the log. The log's slot for the
 * N-th increment holds a function of N alone, so the output does not depend
 * on which child got the lock. A restart that brought the memory back as a
 * private copy per process (or with bytes a step ahead of the rest of an
 * image) changes the counts, the checksum, or never gets to the last step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "mix64.h"

enum { kLogSlots = 1 << 16, kMaxChildren = 16 };

struct shared {
  pthread_mutex_t lock;
  uint64_t total;
  uint64_t per_child[kMaxChildren];
  uint64_t log[kLogSlots];
};

static sem_t *g_sem;  /* the lock, in "posix" mode */

static void lock(struct shared *s) {
  if (!g_sem) {
    pthread_mutex_lock(&s->lock);
    return;
  }
  while (sem_wait(g_sem) != 0)
    if (errno != EINTR) {
      perror("shm_counters: sem_wait");
      exit(1);
    }
}

static void unlock(struct shared *s) {
  if (g_sem) sem_post(g_sem);
  else pthread_mutex_unlock(&s->lock);
}

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
    if (errno != EINTR) {
      perror("shm_counters: nanosleep");
      exit(1);
    }
  }
}

int main(int argc, char **argv) {
  int children = argc > 1 ? atoi(argv[1]) : 3;
  long iterations = argc > 2 ? atol(argv[2]) : 3000;
  int steps = argc > 3 ? atoi(argv[3]) : 40;
  if (children < 1 || children > kMaxChildren || iterations < 1 || steps < 1) {
    fprintf(stderr, "usage: shm_counters [CHILDREN=3] [ITERATIONS=3000] [STEPS=40]\n");
    return 2;
  }
  const int posix = argc > 4 && strcmp(argv[4], "posix") == 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  char shm_name[64], sem_name[64];
  snprintf(shm_name, sizeof shm_name, "/ckpt-test-counters-%d", (int)getpid());
  snprintf(sem_name, sizeof sem_name, "/ckpt-test-lock-%d", (int)getpid());
  struct shared *s = MAP_FAILED;
  if (posix) {
    int fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ftruncate(fd, sizeof *s) != 0) {
      perror("shm_counters: shm_open");
      return 1;
    }
    s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    g_sem = sem_open(sem_name, O_CREAT | O_EXCL, 0600, 1);
    if (g_sem == SEM_FAILED) {
      perror("shm_counters: sem_open");
      return 1;
    }
  } else {
    s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  }
  int zero = open("/dev/zero", O_RDWR);
  uint64_t *tally = zero < 0 ? MAP_FAILED
                             : mmap(NULL, 4096 * 4, PROT_READ | PROT_WRITE, MAP_SHARED, zero, 0);
  uint64_t *table = mmap(NULL, 4096 * 2, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED || tally == MAP_FAILED || table == MAP_FAILED) {
    perror("shm_counters: mmap");
    return 1;
  }
  close(zero);
  for (int i = 0; i < 1024; ++i) table[i] = mix(i + 7);
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(&s->lock, &attr);

  for (int c = 0; c < children; ++c) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("shm_counters: fork");
      return 1;
    }
    if (pid == 0) {
      for (long i = 0; i < iterations; ++i) {
        lock(s);
        uint64_t n = ++s->total;
        s->per_child[c]++;
        s->log[n % kLogSlots] ^= mix(n);
        unlock(s);
        tally[c * 512] += 1;  /* a page of its own in the /dev/zero mapping */
        if (i % 4 == 3) pause_ms(3);
      }
      _exit(0);
    }
  }
  /* The table is read-only from here on, and must come back so. */
  if (mprotect(table, 4096 * 2, PROT_READ) != 0) {
    perror("shm_counters: mprotect");
    return 1;
  }
  const uint64_t work = (uint64_t)children * (uint64_t)iterations;
  for (int k = 1; k <= steps; ++k) {
    for (;;) {
      lock(s);
      uint64_t total = s->total;
      unlock(s);
      if (total * (uint64_t)steps >= work * (uint64_t)k) break;
      pause_ms(5);
    }
    printf("step %d\n", k);
  }
  int failed = 0;
  for (int c = 0; c < children; ++c) {
    int status;
    if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  }
  uint64_t sum = 0;
  for (int i = 0; i < kLogSlots; ++i) sum = mix(sum ^ s->log[i]);
  printf("total %" PRIu64 " of %" PRIu64 "\n", s->total, work);
  for (int c = 0; c < children; ++c)
    printf("child %d: %" PRIu64 " increments, tally %" PRIu64 "\n", c, s->per_child[c], tally[c * 512]);
  uint64_t table_sum = 0;
  for (int i = 0; i < 1024; ++i) table_sum = mix(table_sum ^ table[i]);
  printf("log checksum %016" PRIx64 ", table checksum %016" PRIx64 "%s\n", sum, table_sum,
         failed ? ", a child failed" : "");
  if (posix && (shm_unlink(shm_name) != 0 || sem_unlink(sem_name) != 0)) {
    perror("shm_counters: unlink");
    return 1;
  }
  return failed;
}
