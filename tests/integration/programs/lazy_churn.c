/* Memory that changes shape right after a restart, for the lazy restart
 * (issue 11): while its pages are still coming in, each step
 *
 *   - forks a child that checksums all of the memory and prints it,
 *   - gives back a MiB of region A with madvise(MADV_DONTNEED), checks it
 *     reads as zeros, and writes it again,
 *   - unmaps a MiB of region B and maps fresh memory there, written again,
 *   - moves region C with mremap to the other of two places,
 *
 * then prints "step N" with a checksum of A, B and C. A page brought back
 * after the application dropped it, lost when it moved, or missing in the
 * child changes every later line.
 *
 * usage: lazy_churn MIB STEPS PAUSE_MS  (A: MIB/2 random, B: MIB/4 text, C: MIB/4 random)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "memory_steps.h"
#include "mix64.h"

enum { kPage = 4096 };
static const size_t kSlice = 1 << 20;

static void *map_at(void *at, size_t bytes, int prot, int flags) {
  void *p = mmap(at, bytes, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
  if (p == MAP_FAILED) {
    fprintf(stderr, "lazy_churn: mmap %zu bytes: %s\n", bytes, strerror(errno));
    exit(1);
  }
  return p;
}

static void fill_random(unsigned char *p, size_t bytes, uint64_t seed) {
  uint64_t *w = (uint64_t *)p;
  for (size_t i = 0; i < bytes / 8; i++) w[i] = mix(seed + i + 1);
}

static uint64_t sum_bytes(uint64_t sum, const unsigned char *p, size_t len) {
  const uint64_t *w = (const uint64_t *)p;
  for (size_t i = 0; i < len / 8; i++) sum = sum * 0x100000001b3ULL + w[i];
  return sum;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: lazy_churn MIB STEPS PAUSE_MS\n");
    return 2;
  }
  const size_t mib = strtoul(argv[1], NULL, 10) << 20;
  const int steps = atoi(argv[2]);
  const long pause_ms = atol(argv[3]);
  const size_t a_len = mib / 2, b_len = mib / 4, c_len = mib / 4;
  unsigned char *a = map_at(NULL, a_len, PROT_READ | PROT_WRITE, 0);
  unsigned char *b = map_at(NULL, b_len, PROT_READ | PROT_WRITE, 0);
  unsigned char *spot[2] = {map_at(NULL, c_len, PROT_READ | PROT_WRITE, 0), map_at(NULL, c_len, PROT_NONE, 0)};
  unsigned char *c = spot[0];
  fill_random(a, a_len, 1);
  fill_text(b, b_len, 0);
  fill_random(c, c_len, 1u << 30);

  for (int step = 1; step <= steps; step++) {
    const size_t slices_a = a_len / kSlice, slices_b = b_len / kSlice;
    unsigned char *sa = a + (mix(step) % slices_a) * kSlice;
    if (madvise(sa, kSlice, MADV_DONTNEED) != 0) {
      perror("lazy_churn: madvise");
      return 1;
    }
    for (size_t i = 0; i < kSlice; i++)
      if (sa[i]) {
        fprintf(stderr, "lazy_churn: step %d: byte %zu of a dropped MiB is %d, not 0\n", step, i, sa[i]);
        return 1;
      }
    fill_random(sa, kSlice, (uint64_t)step << 32);
    unsigned char *sb = b + (mix(step + 1000) % slices_b) * kSlice;
    if (munmap(sb, kSlice) != 0) {
      perror("lazy_churn: munmap");
      return 1;
    }
    map_at(sb, kSlice, PROT_READ | PROT_WRITE, MAP_FIXED);
    fill_text(sb, kSlice, (uint64_t)step * 100000);
    unsigned char *to = spot[step % 2], *from = c;
    c = mremap(from, c_len, c_len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    if (c == MAP_FAILED) {
      perror("lazy_churn: mremap");
      return 1;
    }
    map_at(from, c_len, PROT_NONE, MAP_FIXED);  // keep the other place
    c[(mix(step) % (c_len / kPage)) * kPage] ^= 1;
    pid_t child = fork();
    if (child < 0) {
      perror("lazy_churn: fork");
      return 1;
    }
    if (child == 0) {
      uint64_t sum = sum_bytes(sum_bytes(sum_bytes(step, a, a_len), b, b_len), c, c_len);
      printf("child %d %016" PRIx64 "\n", step, sum);
      fflush(stdout);
      _exit(0);
    }
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "lazy_churn: child of step %d failed\n", step);
      return 1;
    }
    uint64_t sum = sum_bytes(sum_bytes(sum_bytes(step, a, a_len), b, b_len), c, c_len);
    report_step(step, sum, pause_ms);
  }
  return 0;
}
