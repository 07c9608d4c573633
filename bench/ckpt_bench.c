/* The program run_bench.sh measures.
 *
 * ckpt_bench memory MIB MARKER
 *   Fills MIB of memory (per 4 KiB page: half pseudo-random bytes, a quarter
 *   repeated text, a quarter zeros, so compression has something but not
 *   everything to gain), prints "ready", then reads CLOCK_REALTIME every
 *   millisecond. A jump of more than 200 ms means the process was frozen
 *   and has just resumed (after a restart): it then writes
 *   "<CLOCK_REALTIME ns at resumption> <gap ms>" to MARKER. Each time the
 *   longest gap between two readings so far grows, it writes it in
 *   microseconds to MARKER.gap (what a checkpoint's pause cost the program:
 *   the pause plus the 1 ms sleep); removing MARKER.gap starts over.
 *   When MARKER.touch appears, it rewrites 1% of its pages (spread over the
 *   whole memory, each with new random bytes), removes MARKER.touch and
 *   creates MARKER.touched: what an incremental checkpoint has to store.
 *
 * ckpt_bench sparse MIB
 *   Maps MIB of private memory, writes one page of it, prints "ready" and
 *   sleeps: what a checkpoint that stores only touched pages costs for it.
 *
 * ckpt_bench syscalls N
 *   Times N rounds of open("/dev/null")/close/getpid, the calls libckpt
 *   wraps, and prints the nanoseconds per round.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int memory(size_t mib, const char *marker) {
  size_t size = mib << 20;
  unsigned char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("ckpt_bench: mmap");
    return 1;
  }
  static const char text[] = "checkpoint/restart benchmark page filler text. ";
  uint64_t x = 88172645463325252ULL;
  for (size_t page = 0; page < size; page += 4096) {
    for (size_t i = 0; i < 2048; i += 8) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      memcpy(mem + page + i, &x, 8);
    }
    for (size_t i = 2048; i < 3072; i++) mem[page + i] = (unsigned char)text[i % (sizeof text - 1)];
    memset(mem + page + 3072, 0, 1024);
  }
  printf("ready\n");
  fflush(stdout);

  char gap_path[4096], touch_path[4096], touched_path[4096];
  snprintf(gap_path, sizeof gap_path, "%s.gap", marker);
  snprintf(touch_path, sizeof touch_path, "%s.touch", marker);
  snprintf(touched_path, sizeof touched_path, "%s.touched", marker);
  const size_t pages = size / 4096;
  int64_t longest = 0;
  struct timespec ms = {0, 1000000};
  int64_t last = now_ns(CLOCK_REALTIME);
  for (;;) {
    nanosleep(&ms, NULL);
    if (access(touch_path, F_OK) == 0) {
      for (size_t k = 0; k < pages / 100; k++) {
        size_t page = (k * 100 + (size_t)(x % 100)) * 4096;
        for (size_t i = 0; i < 2048; i += 8) {
          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          memcpy(mem + page + i, &x, 8);
        }
      }
      unlink(touch_path);
      FILE *t = fopen(touched_path, "w");
      if (t != NULL) fclose(t);
      last = now_ns(CLOCK_REALTIME);  // the rewriting is not a pause
    }
    int64_t now = now_ns(CLOCK_REALTIME);
    if (longest > 0 && access(gap_path, F_OK) != 0) longest = 0;
    if (now - last > longest) {
      longest = now - last;
      FILE *g = fopen(gap_path, "w");
      if (g != NULL) {
        fprintf(g, "%lld\n", (long long)(longest / 1000));
        fclose(g);
      }
    }
    if (now - last > 200000000) {
      FILE *f = fopen(marker, "w");
      if (f == NULL) {
        perror(marker);
        return 1;
      }
      fprintf(f, "%lld %lld\n", (long long)now, (long long)((now - last) / 1000000));
      fclose(f);
    }
    last = now;
  }
}

static int sparse(size_t mib) {
  unsigned char *mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("ckpt_bench: mmap");
    return 1;
  }
  memset(mem + (mib << 19), 0x5a, 4096);
  printf("ready %p\n", (void *)mem);
  fflush(stdout);
  for (;;) pause();
}

static int syscalls(long rounds) {
  int64_t start = now_ns(CLOCK_MONOTONIC);
  for (long i = 0; i < rounds; i++) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) {
      perror("ckpt_bench: open /dev/null");
      return 1;
    }
    close(fd);
    getpid();
  }
  printf("%.0f\n", (double)(now_ns(CLOCK_MONOTONIC) - start) / rounds);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "memory") == 0) return memory(strtoul(argv[2], NULL, 10), argv[3]);
  if (argc == 3 && strcmp(argv[1], "sparse") == 0) return sparse(strtoul(argv[2], NULL, 10));
  if (argc == 3 && strcmp(argv[1], "syscalls") == 0) return syscalls(atol(argv[2]));
  fprintf(stderr, "usage: ckpt_bench memory MIB MARKER | ckpt_bench sparse MIB | ckpt_bench syscalls N\n");
  return 2;
}
