/* restart_files FILE STEPS PAUSE_MS: keeps its results in files that only
 * restart's reopening brings back: a MAP_SHARED mapping of FILE (the image
 * holds no copy of its bytes) and steps.log in the working directory, open
 * for writing, one fixed-size record per step at the descriptor's own offset
 * (restart must put it back). Each step writes bytes derived from the step
 * number only, so steps repeated after a restart write the same bytes.
 * Prints step lines, then checksums of what both files hold. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "mix64.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s FILE STEPS PAUSE_MS\n", argv[0]);
    return 2;
  }
  int steps = atoi(argv[2]);
  long pause_ms = atol(argv[3]);
  size_t len = (size_t)(steps + 1) * sizeof(uint64_t);
  int fd = open(argv[1], O_RDWR | O_CREAT, 0644);
  if (fd < 0 || ftruncate(fd, (off_t)len) != 0) {
    perror(argv[1]);
    return 1;
  }
  uint64_t *slots = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (slots == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  close(fd); /* only the mapping keeps the file */
  int log = open("steps.log", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (log < 0) {
    perror("steps.log");
    return 1;
  }
  for (int step = 1; step <= steps; ++step) {
    slots[step] = mix((uint64_t)step);
    char rec[32];
    snprintf(rec, sizeof rec, "step %06d %08x\n", step % 1000000, (unsigned)(slots[step] >> 32));
    if (write(log, rec, 23) != 23) {
      perror("write steps.log");
      return 1;
    }
    printf("step %d slot %016" PRIx64 "\n", step, slots[step]);
    fflush(stdout);
    struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  uint64_t sum = 0;
  for (int step = 1; step <= steps; ++step) sum = mix(sum ^ slots[step]);
  msync(slots, len, MS_SYNC);
  uint64_t log_sum = 0;
  char rec[23];
  for (int step = 1; step <= steps; ++step) {
    if (pread(log, rec, sizeof rec, (off_t)(step - 1) * 23) != (ssize_t)sizeof rec) {
      fprintf(stderr, "steps.log: record %d missing\n", step);
      return 1;
    }
    for (size_t i = 0; i < sizeof rec; ++i) log_sum = mix(log_sum ^ (uint8_t)rec[i]);
  }
  printf("done: %d steps, file checksum %016" PRIx64 ", log checksum %016" PRIx64 ", log offset %ld\n", steps, sum,
         log_sum, (long)lseek(log, 0, SEEK_CUR));
  return 0;
}
