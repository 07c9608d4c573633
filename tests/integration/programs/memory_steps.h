/* What the memory test programs (known_memory, lazy_churn) share: lines of
 * text to fill memory with (lz4 shrinks them), and a step's report. */
#pragma once

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* `bytes` of numbered lines, the first numbered `first`. */
static inline void fill_text(unsigned char *p, size_t bytes, uint64_t first) {
  for (size_t at = 0, line = 0; at < bytes; line++) {
    char buf[96];
    int n = snprintf(buf, sizeof buf, "line %" PRIu64 ": the quick brown fox jumps over the lazy dog\n", first + line);
    size_t len = (size_t)n < bytes - at ? (size_t)n : bytes - at;
    memcpy(p + at, buf, len);
    at += len;
  }
}

/* Prints "step N SUM" at once, then sleeps `pause_ms`. */
static inline void report_step(int step, uint64_t sum, long pause_ms) {
  printf("step %d %016" PRIx64 "\n", step, sum);
  fflush(stdout);
  struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}
