/* The program scale_bench.sh measures: one shape of computation per mode,
 * each printing "ready" once it is set up, then idling until killed.
 *
 * scale_bench memory MIB
 *   MIB of private anonymous memory, every page written (half pseudo-random
 *   bytes, a quarter text, a quarter zeros, as ckpt_bench memory).
 * scale_bench sparse MIB
 *   MIB mapped, one page in 256 written: memory size without the RAM.
 * scale_bench processes N KIB
 *   N processes (this one and N - 1 forked children), each with KIB of
 *   written memory of its own.
 * scale_bench threads N
 *   One process of N threads, each sleeping in nanosleep.
 * scale_bench mappings N
 *   N separate one-page private mappings, each written, with alternating
 *   protections so the kernel cannot merge neighbours into one.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void fill(unsigned char *mem, size_t size, size_t stride, uint64_t seed) {
  static const char text[] = "checkpoint/restart scaling benchmark page text. ";
  uint64_t x = seed | 1;
  for (size_t page = 0; page < size; page += stride) {
    for (size_t i = 0; i < 2048; i += 8) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      memcpy(mem + page + i, &x, 8);
    }
    for (size_t i = 2048; i < 3072; i++) mem[page + i] = (unsigned char)text[i % (sizeof text - 1)];
    memset(mem + page + 3072, 0, 1024);
  }
}

static unsigned char *map_private(size_t size) {
  unsigned char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) {
    perror("scale_bench: mmap");
    exit(1);
  }
  return mem;
}

static void ready_and_idle(void) {
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}

static void *sleeper(void *arg) {
  (void)arg;
  for (;;) {
    struct timespec ts = {3600, 0};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "memory") == 0) {
    size_t size = strtoull(argv[2], NULL, 10) << 20;
    fill(map_private(size), size, 4096, 88172645463325252ULL);
    ready_and_idle();
  }
  if (argc >= 3 && strcmp(argv[1], "sparse") == 0) {
    size_t size = strtoull(argv[2], NULL, 10) << 20;
    fill(map_private(size), size, 256 * 4096, 88172645463325252ULL);
    ready_and_idle();
  }
  if (argc >= 4 && strcmp(argv[1], "processes") == 0) {
    int n = atoi(argv[2]);
    size_t size = strtoull(argv[3], NULL, 10) << 10;
    for (int i = 1; i < n; i++) {
      pid_t pid = fork();
      if (pid < 0) {
        perror("scale_bench: fork");
        return 1;
      }
      if (pid == 0) {
        fill(map_private(size), size, 4096, 1000 + (uint64_t)i);
        for (;;) pause();
      }
    }
    fill(map_private(size), size, 4096, 1000);
    ready_and_idle();
  }
  if (argc >= 3 && strcmp(argv[1], "threads") == 0) {
    int n = atoi(argv[2]);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    for (int i = 1; i < n; i++) {
      pthread_t t;
      if (pthread_create(&t, &attr, sleeper, NULL) != 0) {
        fprintf(stderr, "scale_bench: pthread_create failed at thread %d\n", i);
        return 1;
      }
    }
    ready_and_idle();
  }
  if (argc >= 3 && strcmp(argv[1], "mappings") == 0) {
    long n = atol(argv[2]);
    for (long i = 0; i < n; i++) {
      unsigned char *page = map_private(4096);
      page[0] = (unsigned char)i;
      page[1] = (unsigned char)(i >> 8);
      if (i % 2 && mprotect(page, 4096, PROT_READ) != 0) {
        perror("scale_bench: mprotect");
        return 1;
      }
    }
    ready_and_idle();
  }
  fprintf(stderr,
          "usage: scale_bench memory MIB | sparse MIB | processes N KIB | threads N | mappings N\n");
  return 2;
}
