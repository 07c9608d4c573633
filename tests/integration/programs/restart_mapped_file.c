/* restart_mapped_file FILE STEPS PAUSE_MS: keeps its results in a MAP_SHARED
 * mapping of FILE (restart maps the file again from its path; it holds no
 * copy of the bytes). Each step stores a value derived from the step number
 * only, so steps repeated after a restart store the same bytes. Prints step
 * lines, then a checksum of what the file holds. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

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
  for (int step = 1; step <= steps; ++step) {
    slots[step] = mix((uint64_t)step);
    printf("step %d slot %016" PRIx64 "\n", step, slots[step]);
    fflush(stdout);
    struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  uint64_t sum = 0;
  for (int step = 1; step <= steps; ++step) sum = mix(sum ^ slots[step]);
  msync(slots, len, MS_SYNC);
  printf("done: %d steps, file checksum %016" PRIx64 "\n", steps, sum);
  return 0;
}
