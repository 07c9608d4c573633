/* memfd shared by fork, with seals (issue 10, test 3): the parent makes a
 * sealable memfd, writes a header through the descriptor, maps it shared and
 * seals its size; two children increment counters in the mapping under a
 * process-shared mutex and append records to a second memfd that no process
 * maps (pwrite at offsets they take under the lock).
 *
 * usage: shm_memfd [ITERATIONS=2000] [STEPS=30]
 *
 * At the end the parent prints the counts, a checksum of the unmapped memfd
 * read through its descriptor, the seals, the sizes, and what ftruncate does
 * on the sealed memfd (EPERM). A restart that made the mapping and the
 * descriptor two objects, lost the unmapped memfd's bytes or its seals,
 * changes that output.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "mix64.h"

struct shared {
  char header[64];
  pthread_mutex_t lock;
  uint64_t total;
  uint64_t per_child[2];
  uint64_t records;  /* in the unmapped memfd */
};

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0)
    if (errno != EINTR) {
      perror("shm_memfd: nanosleep");
      exit(1);
    }
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

int main(int argc, char **argv) {
  long iterations = argc > 1 ? atol(argv[1]) : 2000;
  int steps = argc > 2 ? atoi(argv[2]) : 30;
  setvbuf(stdout, NULL, _IOLBF, 0);
  const size_t size = 64 * 1024;
  int fd = memfd_create("shm-memfd-test", MFD_ALLOW_SEALING | MFD_CLOEXEC);
  int log_fd = memfd_create("shm-memfd-log", 0);
  if (fd < 0 || log_fd < 0) die("shm_memfd: memfd_create");
  if (ftruncate(fd, size) != 0) die("shm_memfd: ftruncate");
  const char header[] = "memfd header written through the descriptor";
  if (write(fd, header, sizeof header) != (ssize_t)sizeof header) die("shm_memfd: write");
  struct shared *s = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (s == MAP_FAILED) die("shm_memfd: mmap");
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) die("shm_memfd: F_ADD_SEALS");
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(&s->lock, &attr);

  for (int c = 0; c < 2; ++c) {
    pid_t pid = fork();
    if (pid < 0) die("shm_memfd: fork");
    if (pid == 0) {
      for (long i = 0; i < iterations; ++i) {
        pthread_mutex_lock(&s->lock);
        uint64_t n = ++s->total;
        s->per_child[c]++;
        uint64_t rec = mix(n);
        if (pwrite(log_fd, &rec, sizeof rec, (off_t)(s->records++ * sizeof rec)) != sizeof rec) die("shm_memfd: pwrite");
        pthread_mutex_unlock(&s->lock);
        if (i % 4 == 3) pause_ms(3);
      }
      _exit(0);
    }
  }
  const uint64_t work = 2 * (uint64_t)iterations;
  for (int k = 1; k <= steps; ++k) {
    for (;;) {
      pthread_mutex_lock(&s->lock);
      uint64_t total = s->total;
      pthread_mutex_unlock(&s->lock);
      if (total * (uint64_t)steps >= work * (uint64_t)k) break;
      pause_ms(5);
    }
    printf("step %d\n", k);
  }
  int failed = 0;
  for (int c = 0; c < 2; ++c) {
    int status;
    if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  }
  /* The log, read back through the descriptor: the records sorted by value
   * do not depend on which child wrote which slot. */
  uint64_t sum = 0, rec;
  for (uint64_t i = 0; i < s->records; ++i) {
    if (pread(log_fd, &rec, sizeof rec, (off_t)(i * sizeof rec)) != sizeof rec) die("shm_memfd: pread");
    sum += rec;
  }
  struct stat st, log_st;
  fstat(fd, &st);
  fstat(log_fd, &log_st);
  char again[sizeof header] = {0};
  if (pread(fd, again, sizeof again, 0) != (ssize_t)sizeof again) die("shm_memfd: pread header");
  int trunc = ftruncate(fd, size / 2);
  printf("total %" PRIu64 " of %" PRIu64 ", children %" PRIu64 " and %" PRIu64 "\n", s->total, work, s->per_child[0],
         s->per_child[1]);
  printf("log: %" PRIu64 " records, %lld bytes, sum %016" PRIx64 "\n", s->records, (long long)log_st.st_size, sum);
  printf("memfd: %lld bytes, seals 0x%x, header \"%s\", offset %lld, ftruncate %s\n", (long long)st.st_size,
         fcntl(fd, F_GET_SEALS), again, (long long)lseek(fd, 0, SEEK_CUR),
         trunc == 0 ? "succeeded" : strerror(errno));
  return failed;
}
