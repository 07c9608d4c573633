/* multihost_counter NAME STEPS: one host's counter in the multi-host test
 * (multihost.sh): prints "step N NAME VALUE" once per step, VALUE a running
 * hash of the steps, every 40 ms. Deterministic: the output of a run that
 * was checkpointed, killed and restarted (on other hosts) equals an
 * uninterrupted run's. */
#include "tree_common.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s NAME STEPS\n", argv[0]);
    return 2;
  }
  const int steps = atoi(argv[2]);
  unsigned long value = 5381;
  for (int step = 1; step <= steps; ++step) {
    for (const char *c = argv[1]; *c; ++c) value = value * 33 + (unsigned char)*c;
    value = value * 33 + (unsigned long)step;
    printf("step %d %s %lu\n", step, argv[1], value);
    fflush(stdout);
    sleep_ms(40);
  }
  return 0;
}
