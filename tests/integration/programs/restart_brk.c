/* restart_brk STEPS PAUSE_MS: grows and shrinks its heap with brk through
 * malloc, free and malloc_trim, and checks after every step that the
 * kernel's program break is the C library's (sbrk(0)) and that every live
 * block still holds its bytes. Built non-PIE (like Debian's python3 and
 * gcc), so its heap lies low in the address space, below any ckpt_restart
 * break. Prints step lines, then a digest of what the blocks held. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { kBlocks = 64, kBlockSize = 48 * 1024 };

static unsigned char *g_block[kBlocks];
static uint32_t g_seed[kBlocks];

static void fill(int i, uint32_t seed) {
  g_seed[i] = seed;
  for (size_t k = 0; k < kBlockSize; ++k) g_block[i][k] = (unsigned char)((seed * 2654435761u + k * 40503u) >> 7);
}

static int intact(int i) {
  for (size_t k = 0; k < kBlockSize; ++k)
    if (g_block[i][k] != (unsigned char)((g_seed[i] * 2654435761u + k * 40503u) >> 7)) return 0;
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s STEPS PAUSE_MS\n", argv[0]);
    return 2;
  }
  int steps = atoi(argv[1]);
  long ms = atol(argv[2]);
  mallopt(M_MMAP_THRESHOLD, 1 << 20);  /* blocks come from the brk heap */
  uint64_t digest = 0;
  for (int s = 1; s <= steps; ++s) {
    /* Grow: refill half of the slots; shrink: free the other half, trim. */
    for (int i = s % 2; i < kBlocks; i += 2) {
      if (g_block[i]) {
        if (!intact(i)) {
          printf("step %d: block %d lost its bytes\n", s, i);
          return 1;
        }
        digest = digest * 31 + g_seed[i];
        free(g_block[i]);
      }
      g_block[i] = malloc(kBlockSize + (size_t)s * 512);
      if (!g_block[i]) {
        printf("step %d: malloc failed\n", s);
        return 1;
      }
      fill(i, (uint32_t)(s * 1000 + i));
    }
    if (s % 3 == 0) {
      for (int i = 0; i < kBlocks; i += 3) {
        free(g_block[i]);
        g_block[i] = NULL;
      }
      malloc_trim(0);
    }
    void *libc_brk = sbrk(0);
    long kernel_brk = syscall(SYS_brk, 0);
    printf("step %d%s\n", s, (long)libc_brk == kernel_brk ? "" : ": the kernel's break is not the C library's");
    fflush(stdout);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
  }
  for (int i = 0; i < kBlocks; ++i)
    if (g_block[i] && !intact(i)) {
      printf("block %d lost its bytes\n", i);
      return 1;
    }
  printf("digest %016" PRIx64 "\n", digest);
  return 0;
}
