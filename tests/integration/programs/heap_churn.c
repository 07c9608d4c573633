/* Keeps rewriting a large heap buffer, plus a churn of small malloc blocks.
 *
 * usage: heap_churn [MIB=256] [STEPS=30] [PAUSE_MS=100]
 *
 * Each step rewrites every word of a MIB-sized buffer with a deterministic
 * mix of its old value, its index and the step number, then frees and
 * reallocates a share of a few thousand small blocks of varying sizes (so the
 * brk heap keeps growing and shrinking after a restart), and prints the
 * checksums of both. A restore that loses or misplaces one page changes every
 * later checksum. The pause between steps gives the harness time to act
 * mid-run; a sleep that fails (e.g. a spurious EINTR from the checkpoint
 * machinery) is an error, not something to paper over.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mix64.h"

enum { kSmallBlocks = 4096 };

struct small_block {
  size_t words;
  uint64_t data[];
};

static struct small_block *new_block(uint64_t seed) {
  size_t words = 1 + mix(seed) % 512;
  struct small_block *b = malloc(sizeof *b + words * sizeof(uint64_t));
  if (b == NULL) {
    fprintf(stderr, "heap_churn: out of memory\n");
    exit(1);
  }
  b->words = words;
  for (size_t i = 0; i < words; i++) b->data[i] = mix(seed + i);
  return b;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  if (nanosleep(&ts, NULL) != 0) {
    fprintf(stderr, "heap_churn: nanosleep: %s\n", strerror(errno));
    exit(1);
  }
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
  int steps = argc > 2 ? atoi(argv[2]) : 30;
  long pause_ms = argc > 3 ? atol(argv[3]) : 100;

  size_t words = mib * 1024 * 1024 / sizeof(uint64_t);
  uint64_t *big = malloc(words * sizeof(uint64_t));
  if (big == NULL) {
    fprintf(stderr, "heap_churn: cannot allocate %zu MiB\n", mib);
    return 1;
  }
  for (size_t i = 0; i < words; i++) big[i] = mix(i);

  static struct small_block *blocks[kSmallBlocks];
  for (int i = 0; i < kSmallBlocks; i++) blocks[i] = new_block((uint64_t)i << 32);

  for (int step = 1; step <= steps; step++) {
    uint64_t big_sum = 0;
    for (size_t i = 0; i < words; i++) {
      big[i] = big[i] * 6364136223846793005ULL + (i ^ (uint64_t)step);
      big_sum += big[i] ^ (big_sum << 1);
    }
    uint64_t small_sum = 0;
    for (int i = 0; i < kSmallBlocks; i++) {
      if (mix((uint64_t)step * kSmallBlocks + i) % 4 == 0) {
        free(blocks[i]);
        blocks[i] = new_block(((uint64_t)step << 40) | (uint64_t)i);
      }
      for (size_t w = 0; w < blocks[i]->words; w++) small_sum = small_sum * 31 + blocks[i]->data[w];
    }
    printf("step %d big %016" PRIx64 " small %016" PRIx64 "\n", step, big_sum, small_sum);
    fflush(stdout);
    if (step < steps) sleep_ms(pause_ms);
  }

  uint64_t total = 0;
  for (size_t i = 0; i < words; i++) total = mix(total ^ big[i]);
  printf("done: %zu MiB, %d steps, final checksum %016" PRIx64 "\n", mib, steps, total);
  return 0;
}
