/* Memory whose make-up is known, for the checkpoint figures (issue 11):
 *
 * usage: known_memory RANDOM_MIB TEXT_MIB ZERO_MIB RESERVE_MIB STEPS PAUSE_MS
 *
 *   RANDOM_MIB  pseudo-random bytes: lz4 cannot shrink them
 *   TEXT_MIB    lines of text: lz4 shrinks them
 *   ZERO_MIB    pages written and then zeroed: present, but all zeros
 *   RESERVE_MIB a MAP_NORESERVE mapping never touched
 *
 * Each step rewrites one random page (the same bytes again) and prints
 * "step N" with a checksum of the three buffers, so a page lost or
 * misplaced by a restart changes every later line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "memory_steps.h"
#include "mix64.h"

enum { kPage = 4096 };

static unsigned char *map(size_t bytes, int flags) {
  unsigned char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
  if (p == MAP_FAILED) {
    fprintf(stderr, "known_memory: mmap %zu bytes: %s\n", bytes, strerror(errno));
    exit(1);
  }
  return p;
}

static void fill_random(unsigned char *p, size_t page) {
  uint64_t *w = (uint64_t *)p;
  for (size_t i = 0; i < kPage / 8; i++) w[i] = mix(page * kPage + i + 1);
}

static uint64_t sum_bytes(uint64_t sum, const unsigned char *p, size_t len) {
  const uint64_t *w = (const uint64_t *)p;
  for (size_t i = 0; i < len / 8; i++) sum = mix(sum ^ w[i] ^ i);
  return sum;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: known_memory RANDOM_MIB TEXT_MIB ZERO_MIB RESERVE_MIB STEPS PAUSE_MS\n");
    return 2;
  }
  const size_t random = strtoul(argv[1], NULL, 10) << 20, text = strtoul(argv[2], NULL, 10) << 20;
  const size_t zero = strtoul(argv[3], NULL, 10) << 20, reserve = strtoul(argv[4], NULL, 10) << 20;
  const int steps = atoi(argv[5]);
  const long pause_ms = atol(argv[6]);

  unsigned char *r = map(random, 0), *t = map(text, 0), *z = map(zero, 0);
  map(reserve, MAP_NORESERVE);
  for (size_t page = 0; page < random / kPage; page++) fill_random(r + page * kPage, page);
  fill_text(t, text, 0);
  memset(z, 0xa5, zero);
  memset(z, 0, zero);

  for (int step = 1; step <= steps; step++) {
    const size_t page = mix(step) % (random / kPage);
    fill_random(r + page * kPage, page);
    uint64_t sum = sum_bytes(sum_bytes(sum_bytes(step, r, random), t, text), z, zero);
    report_step(step, sum, pause_ms);
  }
  return 0;
}
